"""SQLite as Kindred uses it: WAL, foreign keys, transactions that say up front whether they
write, and writers that wait their turn in order.

SQLite lets one transaction write at a time. Left to itself it makes the others poll: a
waiter sleeps and tries again, up to 100 ms between tries, so under load the lock often sits
free while every waiter sleeps, and whoever happens to try at the right moment goes first.
In a burst of texts one webhook could wait past the 10 s busy timeout while later ones got in
ahead of it, and its text was refused with "database is locked". Measured on 3 processes of
4 threads each holding the lock 20 ms a time: the longest wait was 9.4 s that way, 0.3 s with
the queue below.

So a writing transaction first queues. Inside a process, threads queue first come, first
served (:class:`FifoLock`); the thread at the head then takes an flock on a file beside the
database, which the kernel hands to a waiting process the moment it is let go, so processes
(gunicorn's, the worker's) take turns rather than one keeping the lock while it has work. Only
then does it BEGIN IMMEDIATE, which finds the database free. The turn ends when the
transaction does: the connection (:class:`QueuedWriterConnection`) lets go on COMMIT,
ROLLBACK or close. The busy timeout stays as a backstop for anything that writes without
queueing (the sqlite3 shell, an older Kindred).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections import deque
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

from gateway.extensions import READER

BUSY_TIMEOUT_SECONDS = 10.0


class FifoLock:
    """A lock that threads get in the order they asked for it. `acquire` gives up after
    `timeout` seconds and returns False."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self, timeout: float) -> bool:
        with self._guard:
            if not self._held and not self._waiting:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        if turn.acquire(timeout=timeout):
            return True  # handed over by release: still held, now by this thread
        with self._guard:
            try:
                self._waiting.remove(turn)
            except ValueError:
                return True  # handed over just as the wait ran out: it is this thread's
            return False

    @property
    def waiting(self) -> int:
        """How many threads are waiting for it."""
        with self._guard:
            return len(self._waiting)

    def release(self) -> None:
        with self._guard:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._held = False


class _Writers:
    """The queue of one process's writers to one database file."""

    def __init__(self, lock_path: str) -> None:
        self.threads = FifoLock()
        self.fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)

    def enter(self, timeout: float) -> bool:
        if not self.threads.acquire(timeout):
            return False
        try:
            # Blocking: the kernel wakes this process as soon as another lets go. A process
            # that dies holding it lets go with it.
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except BaseException:
            self.threads.release()
            raise
        return True

    def leave(self) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.threads.release()


_queues: dict[tuple[int, str], _Writers] = {}
_queues_guard = threading.Lock()


def _writers(database: str) -> _Writers | None:
    """This process's queue for `database` (None for an in-memory one). Looked up by process:
    a forked child (a gunicorn worker, RQ's work-horse) must not share its parent's flock."""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return None
    key = (os.getpid(), os.path.abspath(database))
    with _queues_guard:
        queue = _queues.get(key)
        if queue is None:
            queue = _queues[key] = _Writers(key[1] + "-writers")
        return queue


class QueuedWriterConnection(sqlite3.Connection):
    """A sqlite3 connection that leaves the writers' queue when its transaction ends."""

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self.database = os.fsdecode(database)
        self._turn: _Writers | None = None

    def wait_to_write(self, timeout: float) -> bool:
        """Queue for the write lock; False if the turn did not come within `timeout`."""
        queue = _writers(self.database)
        if queue is None or self._turn is not None:
            return True
        if not queue.enter(timeout):
            return False
        self._turn = queue
        return True

    def done_writing(self) -> None:
        turn, self._turn = self._turn, None
        if turn is not None:
            turn.leave()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.done_writing()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.done_writing()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.done_writing()


def engine_options(url: str) -> dict[str, Any]:
    """What create_engine needs for a SQLite `url`: connections that queue to write."""
    return {"connect_args": {"factory": QueuedWriterConnection}} if url.startswith("sqlite") else {}


def init_engine(engine: Engine) -> None:
    """Set up a SQLite engine's connections and transactions."""
    event.listen(engine, "connect", _pragmas)
    event.listen(engine, "begin", _begin)


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite begins transactions lazily and never before a SAVEPOINT, so releasing a
    # savepoint would commit everything before it. Take transactions over (SQLAlchemy's recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
    cursor.close()


def _begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front. A deferred BEGIN that reads first cannot upgrade
    # to a write lock under WAL once another writer has committed (SQLITE_BUSY at once, busy
    # timeout or not): two texts at once lost one of them. A transaction that only reads says
    # so (extensions.begin_reading), begins deferred and takes no lock.
    if connection.get_execution_options().get(READER):
        connection.exec_driver_sql("BEGIN")
        return
    dbapi_connection = connection.connection.dbapi_connection
    queued = isinstance(dbapi_connection, QueuedWriterConnection)
    if queued and not dbapi_connection.wait_to_write(BUSY_TIMEOUT_SECONDS):
        raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        if queued:
            dbapi_connection.done_writing()
        raise
