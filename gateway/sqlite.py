"""SQLite as Kindred uses it: WAL, foreign keys, transactions that say up front whether they
write, and writers that wait their turn in order.

SQLite lets one transaction write at a time. Left to itself it makes the others poll: a
waiter sleeps and tries again, up to 100 ms between tries, so under load the lock often sits
free while every waiter sleeps, and whoever happens to try at the right moment goes first.
In a burst of texts one webhook could wait past the 10 s busy timeout while later ones got in
ahead of it, and its text was refused with "database is locked".

So a writing transaction first queues. Inside a process, threads queue first come, first
served (:class:`FifoLock`); the thread at the head then takes an flock on a file beside the
database, tried every millisecond, so that between processes (gunicorn's, the worker's) the
lock is never left free for long; only then does it BEGIN IMMEDIATE, which finds the database
free. The turn ends when the transaction does: the connection (:class:`QueuedWriterConnection`)
lets go on COMMIT, ROLLBACK or close. No wait is longer than the busy timeout, whoever holds
the lock (a shell left in the middle of a write gets the others "database is locked", as
before, not a wait without end); the busy timeout itself stays as the backstop for anything
that writes without queueing (the sqlite3 shell, an older Kindred).

Measured with 3 processes of 4 threads each taking the lock for 20 ms at a time, 480 times:
the longest wait was 9.4 s with SQLite's own polling and 1.3 to 1.7 s with this queue (0.45 s
if processes waited for the flock in the kernel, which cannot be given a time limit). In a
burst of 200 texts, 16 at a time, on the Procfile's processes, the slowest webhook answer fell
from 5.9 s to 2.0 s.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections import deque
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

from gateway.extensions import READER

BUSY_TIMEOUT_SECONDS = 10.0
FLOCK_RETRY_SECONDS = 0.001


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
        try:
            if turn.acquire(timeout=timeout):
                return True  # handed over by release: still held, now by this thread
        except BaseException:
            if self._leave_line(turn):  # interrupted (a job's timeout) just as it was handed over
                self.release()
            raise
        return self._leave_line(turn)  # handed over just as the wait ran out: it is this thread's

    def _leave_line(self, turn: threading.Lock) -> bool:
        """Stop waiting for `turn`; True if it was handed over meanwhile."""
        with self._guard:
            try:
                self._waiting.remove(turn)
            except ValueError:
                return True
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
        # Readable by anyone who can write the database (the umask decides); flock needs no more.
        self.fd = os.open(lock_path, os.O_RDONLY | os.O_CREAT, 0o666)

    def enter(self, timeout: float) -> bool:
        """Wait for this process's turn, then for the database's; False if it did not come
        within `timeout`."""
        deadline = time.monotonic() + timeout
        if not self.threads.acquire(timeout):
            return False
        try:
            if self._flock(deadline):
                return True
        except BaseException:
            self.threads.release()
            raise
        self.threads.release()
        return False

    def _flock(self, deadline: float) -> bool:
        # Tried every millisecond rather than waited for in the kernel, so that a process that
        # keeps a transaction open (a shell, a stopped command) costs the others a "database is
        # locked" after the timeout, as SQLite's own wait would, not a wait without end. A
        # process that dies holding it lets go with it.
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(FLOCK_RETRY_SECONDS)

    def leave(self) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.threads.release()


_queues: dict[tuple[int, str], _Writers] = {}
_queues_guard = threading.Lock()


def _writers(database: str) -> _Writers | None:
    """This process's queue for `database` (None for an in-memory one). Looked up by process:
    a forked child (a gunicorn worker, RQ's work-horse) must not share its parent's flock; and
    by the file's real path, so that two names for one file are one queue."""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return None
    key = (os.getpid(), os.path.realpath(database))
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
        self._turn = queue  # nothing between the turn coming and this that could raise
        return True

    def done_writing(self) -> None:
        """Leave the queue, unless a transaction is still open (a COMMIT that failed: the
        ROLLBACK that follows leaves it)."""
        if self._turn is None or self._open():
            return
        try:
            self._turn.leave()
        finally:
            self._turn = None

    def _open(self) -> bool:
        try:
            return self.in_transaction
        except sqlite3.ProgrammingError:  # closed
            return False

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
