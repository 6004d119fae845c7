"""Real Redis and PostgreSQL servers for tests, each a child process of the test run.

A server listens on 127.0.0.1 only, on a port that was free when it started, and keeps
its files in a private temporary folder. It cannot outlive the test process: the kernel
signals it when its parent dies (PR_SET_PDEATHSIG), and an atexit hook stops it on a
normal exit. Start-up is awaited by polling the server with a deadline.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Self

import psycopg
import redis
from psycopg import sql

START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0
POLL_INTERVAL_SECONDS = 0.05
LOG_TAIL_LINES = 40
_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing was listening on a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _die_with_parent(parent_pid: int, death_signal: signal.Signals) -> Callable[[], None]:
    """Build a preexec_fn that has the kernel signal the child when the test process dies.

    subprocess calls preexec_fn after it has switched user and group; that order matters
    because any credential change clears the parent-death signal.
    """

    def arm() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(death_signal), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent_pid:
            os._exit(1)

    return arm


def die_with_parent(death_signal: signal.Signals) -> Callable[[], None]:
    """A preexec_fn for a child of this process that must not outlive it: the kernel sends it
    `death_signal` when the thread that starts it ends (start it from the main thread)."""
    return _die_with_parent(os.getpid(), death_signal)


def _postgres_user() -> pwd.struct_passwd | None:
    """The account PostgreSQL runs as: `postgres` when we are root (it refuses root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError(
            "running as root, but there is no 'postgres' system user to run PostgreSQL as "
            "(install the Debian 'postgresql' package, which creates it)"
        ) from None


def _remove_later(folder: Path) -> None:
    """Delete a stopped server's folder without waiting: a session's PostgreSQL cluster holds a
    database per test, over a million files, and unlinking them took 40 s at the end of a run.
    The folder is renamed first, so nothing can start in it again, and `rm` runs detached."""
    if not folder.exists():
        return
    doomed = folder.with_name(folder.name + "-removing")
    try:
        folder.rename(doomed)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        return
    subprocess.Popen(
        ["rm", "-rf", "--", str(doomed)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


class _ChildServer:
    """A server run in the foreground as our child, logging into a private temp folder."""

    def __init__(self, name: str, stop_signal: signal.Signals) -> None:
        self._name = name
        self._stop_signal = stop_signal
        self._workdir = Path(tempfile.mkdtemp(prefix=f"kindred-{name}-"))
        self._log_path = self._workdir / f"{name}.log"
        self._process: subprocess.Popen[bytes] | None = None
        atexit.register(self.stop)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Stop the server and delete its files; safe to call more than once."""
        atexit.unregister(self.stop)
        self._end_process(self._stop_signal)
        _remove_later(self._workdir)

    def kill(self) -> None:
        """Kill the server abruptly (SIGKILL), keeping its files, as a crash would."""
        self._end_process(signal.SIGKILL)

    def _run(self, argv: Sequence[str], run_as: pwd.struct_passwd | None) -> None:
        """Run a set-up command to completion, failing with its output if it fails."""
        with self._log_path.open("ab") as log:
            status = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self._workdir,
                user=run_as.pw_uid if run_as else None,
                group=run_as.pw_gid if run_as else None,
                extra_groups=[] if run_as else None,
                check=False,
            ).returncode
        if status != 0:
            self._fail(f"{argv[0]} exited with status {status}")

    def _spawn(
        self,
        argv: Sequence[str],
        run_as: pwd.struct_passwd | None,
        ready: Callable[[], bool],
    ) -> None:
        """Start the server process and return once `ready()` says it serves."""
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self._workdir,
                user=run_as.pw_uid if run_as else None,
                group=run_as.pw_gid if run_as else None,
                extra_groups=[] if run_as else None,
                preexec_fn=_die_with_parent(os.getpid(), self._stop_signal),
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not ready():
            try:
                status = self._process.wait(timeout=POLL_INTERVAL_SECONDS)
            except subprocess.TimeoutExpired:
                if time.monotonic() > deadline:
                    self._fail(f"{self._name} did not serve within {START_TIMEOUT_SECONDS:.0f}s")
            else:
                self._fail(f"{self._name} exited with status {status} while starting")

    def _fail(self, reason: str) -> None:
        """Stop everything and raise RuntimeError carrying the end of the server's log."""
        try:
            lines = self._log_path.read_text(errors="replace").splitlines()
        except OSError:
            lines = []
        tail = "\n".join(lines[-LOG_TAIL_LINES:]) or "(empty log)"
        self.stop()
        raise RuntimeError(f"{reason}; last log lines:\n{tail}")

    def _end_process(self, sig: signal.Signals) -> None:
        """Signal the server process and reap it, escalating to SIGKILL if it lingers."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# Run by the guard of a frozen Redis (argv[1] is its pid): continue it on SIGTERM, which the
# guard gets when it is stopped or when the test process dies.
_THAW_GUARD = """
import os, signal, sys
frozen = int(sys.argv[1])
def thaw(*_):
    os.kill(frozen, signal.SIGCONT)
    sys.exit(0)
signal.signal(signal.SIGTERM, thaw)
print("armed", flush=True)
while True:
    signal.pause()
"""


def _redis_binary() -> str:
    """The Debian redis-server, else whatever redis-server is on PATH."""
    for candidate in ("/usr/bin/redis-server", shutil.which("redis-server")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError("redis-server not found: install the Debian 'redis-server' package")


class RedisServer(_ChildServer):
    """A throwaway Redis server without persistence, on 127.0.0.1.

    `kill()` takes it away abruptly and `restart()` brings it back, empty, on the same
    port, so fault tests can exercise code that must survive losing Redis.
    """

    def __init__(self) -> None:
        self._binary = _redis_binary()
        self._thaw_guard: subprocess.Popen[bytes] | None = None
        super().__init__("redis", stop_signal=signal.SIGTERM)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._start()

    def restart(self) -> None:
        """Start the server again on the same port, stopping it first if it runs."""
        self._end_process(signal.SIGTERM)
        self._start()

    def freeze(self) -> None:
        """Stop the server in its tracks (SIGSTOP), as a network partition or a stalled host
        would: connections open and stay open, and nothing answers until `thaw()`.

        A stopped process cannot act on its parent-death signal, so a small guard process,
        itself signalled when the test process dies, continues the server in that case.
        """
        process = self._running_process()
        if self._thaw_guard is None:
            self._thaw_guard = subprocess.Popen(
                [sys.executable, "-c", _THAW_GUARD, str(process.pid)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                preexec_fn=_die_with_parent(os.getpid(), signal.SIGTERM),
            )
            assert self._thaw_guard.stdout is not None
            self._thaw_guard.stdout.readline()  # armed
        process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """Let a frozen server run again (SIGCONT); it serves what waited for it."""
        self._running_process().send_signal(signal.SIGCONT)
        self._end_thaw_guard()

    def stop(self) -> None:
        """Stop the server (continuing it first if frozen) and delete its files."""
        if self.running:
            self.thaw()
        self._end_thaw_guard()
        super().stop()

    def _running_process(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            raise RuntimeError(f"{self._name} is not running")
        return self._process

    def _end_thaw_guard(self) -> None:
        guard, self._thaw_guard = self._thaw_guard, None
        if guard is not None:
            guard.terminate()
            guard.wait(timeout=STOP_TIMEOUT_SECONDS)
            assert guard.stdout is not None
            guard.stdout.close()

    def _start(self) -> None:
        argv = [
            self._binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self._workdir),
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
        ]
        self._spawn(argv, run_as=None, ready=self._answers_ping)

    def _answers_ping(self) -> bool:
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()


def _postgres_bindir() -> Path:
    """The bin folder of the highest PostgreSQL version installed the Debian way."""
    bindirs = [
        path
        for path in Path("/usr/lib/postgresql").glob("*/bin")
        if path.parent.name.isdigit() and (path / "postgres").exists()
    ]
    if not bindirs:
        raise RuntimeError(
            "PostgreSQL not found under /usr/lib/postgresql/*/bin: install the Debian 'postgresql' package"
        )
    return max(bindirs, key=lambda path: int(path.parent.name))


class PostgresServer(_ChildServer):
    """A throwaway PostgreSQL cluster on 127.0.0.1 with trust auth and no durability.

    `create_database()` gives each test its own empty database on the shared cluster.
    """

    superuser = "postgres"

    def __init__(self) -> None:
        bindir = _postgres_bindir()
        run_as = _postgres_user()
        super().__init__("postgres", stop_signal=signal.SIGINT)
        self.port = free_port()
        self._copier = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kindred-database-copier")
        self._spares: dict[str, Future[str]] = {}
        data_dir = self._workdir / "data"
        socket_dir = self._workdir / "sockets"
        socket_dir.mkdir()
        if run_as:
            for path in (self._workdir, socket_dir):
                os.chown(path, run_as.pw_uid, run_as.pw_gid)
        self._run(
            [
                str(bindir / "initdb"),
                "--pgdata",
                str(data_dir),
                "--username",
                self.superuser,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--no-locale",
                "--no-sync",
                "--no-instructions",
            ],
            run_as,
        )
        self._argv = [
            str(bindir / "postgres"),
            "-D",
            str(data_dir),
            "-c",
            "listen_addresses=127.0.0.1",
            "-p",
            str(self.port),
            "-k",
            str(socket_dir),
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ]
        self._run_as = run_as
        self._spawn(self._argv, run_as, ready=self._accepts_connections)

    def restart(self) -> None:
        """Stop the server as an operator's restart does, then start it again."""
        self.halt()
        self.start_again()

    def halt(self) -> None:
        """Stop the server as an operator's restart does (a fast shutdown: every connection is
        closed, open transactions roll back); `start_again` starts it on the same data and port."""
        self._end_process(signal.SIGINT)

    def start_again(self) -> None:
        self._spawn(self._argv, self._run_as, ready=self._accepts_connections)

    def stop(self) -> None:
        """Stop copying databases ahead, then the server."""
        self._copier.shutdown(wait=True, cancel_futures=True)
        super().stop()

    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3 driver) of a database on this server."""
        return f"postgresql+psycopg://{self.superuser}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, template: str | None = None) -> str:
        """Create a new, uniquely named database (empty, or a copy of the database named
        `template`) and return its SQLAlchemy URL.

        A copy of a template is made one ahead, in the background, while the test that got the
        last one runs: each test then finds its database ready rather than waiting for the copy.
        """
        if template is None:
            return self._create_database(None)
        spare = self._spares.get(template)
        self._spares[template] = self._copier.submit(self._create_database, template)
        if spare is not None:
            try:
                return spare.result()
            except psycopg.Error:
                pass  # made again below, where a lasting problem raises for the test to see
        return self._create_database(template)

    def _create_database(self, template: str | None) -> str:
        name = f"kindred_test_{uuid.uuid4().hex[:12]}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self._connect("postgres") as connection:
            connection.execute(statement)
        return self.url(name)

    def _connect(self, dbname: str) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.superuser,
            dbname=dbname,
            connect_timeout=1,
            autocommit=True,
        )

    def _accepts_connections(self) -> bool:
        try:
            with self._connect("postgres"):
                return True
        except psycopg.OperationalError:
            return False
