"""On SQLite, writers take turns in the order they came (gateway.sqlite): threads of a process
first come, first served, processes as the kernel wakes them, and a process killed in the
middle of a write does not hold the others up."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from gateway import sqlite
from tests.doubles.servers import die_with_parent
from tests.processes import poll

WRITER = textwrap.dedent(
    """
    import sys
    from sqlalchemy import create_engine, text
    from gateway import sqlite

    url = sys.argv[1]
    engine = create_engine(url, **sqlite.engine_options(url))
    sqlite.init_engine(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO turns (writer) VALUES ('other process')"))
        print("writing", flush=True)
        sys.stdin.readline()  # holds its turn until told, or killed
    print("done", flush=True)
    """
)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'writers.sqlite3'}"


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = create_engine(url, **sqlite.engine_options(url))
    sqlite.init_engine(engine)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE turns (id INTEGER PRIMARY KEY, writer TEXT)"))
    yield engine
    engine.dispose()


def write(engine: Engine, writer: str) -> None:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO turns (writer) VALUES (:writer)"), {"writer": writer})


def write_in_background(engine: Engine, writer: str) -> threading.Event:
    """Start writing from another thread; the event is set once the write is committed."""
    done = threading.Event()
    threading.Thread(target=lambda: (write(engine, writer), done.set())).start()
    return done


def turns(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(text("SELECT writer FROM turns ORDER BY id")))


def queue(url: str) -> sqlite.FifoLock:
    writers = sqlite._writers(url.removeprefix("sqlite:///"))
    assert writers is not None
    return writers.threads


def test_threads_write_in_the_order_they_asked(engine: Engine, url: str) -> None:
    waiting = queue(url)
    with engine.begin() as holding:
        holding.execute(text("INSERT INTO turns (writer) VALUES ('first')"))
        threads = []
        for n in range(2, 7):
            thread = threading.Thread(target=write, args=(engine, f"writer {n}"))
            thread.start()
            threads.append(thread)
            assert poll(lambda n=n: waiting.waiting == n - 1, 10), f"writer {n} never queued"
    for thread in threads:
        thread.join(10)

    assert turns(engine) == ["first", *(f"writer {n}" for n in range(2, 7))]


def test_a_writer_whose_turn_does_not_come_gets_database_is_locked_and_leaves_the_queue(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_SECONDS", 0.2)
    with engine.begin() as holding:
        holding.execute(text("INSERT INTO turns (writer) VALUES ('first')"))
        with pytest.raises(OperationalError, match="database is locked"):
            write(engine, "gave up")
    write(engine, "after")

    assert turns(engine) == ["first", "after"]


def test_a_reader_does_not_wait_for_a_writer(engine: Engine) -> None:
    write(engine, "first")
    with engine.begin() as holding:
        holding.execute(text("INSERT INTO turns (writer) VALUES ('second')"))
        with engine.connect().execution_options(**{sqlite.READER: True}) as reading, reading.begin():
            seen = list(reading.scalars(text("SELECT writer FROM turns")))

    assert seen == ["first"]


@pytest.fixture
def other_process(url: str, engine: Engine) -> Iterator[subprocess.Popen[str]]:
    """Another process in the middle of writing to the same database."""
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=die_with_parent(signal.SIGKILL),
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "writing"
    yield process
    process.kill()
    process.wait(10)


def test_a_process_waits_for_another_to_finish_writing(
    engine: Engine, other_process: subprocess.Popen[str]
) -> None:
    done = write_in_background(engine, "this process")
    assert not done.wait(0.5), "wrote while the other process was writing"

    assert other_process.stdin is not None and other_process.stdout is not None
    other_process.stdin.write("\n")
    other_process.stdin.flush()
    assert other_process.stdout.readline().strip() == "done"
    assert done.wait(10)

    assert turns(engine) == ["other process", "this process"]


def test_a_process_killed_while_writing_does_not_hold_up_the_others(
    engine: Engine, other_process: subprocess.Popen[str]
) -> None:
    done = write_in_background(engine, "this process")
    assert not done.wait(0.5), "wrote while the other process was writing"

    other_process.kill()
    assert done.wait(10), "still waiting after the other process died"

    assert turns(engine) == ["this process"]  # what the killed process wrote was never committed


def test_a_writer_held_up_by_another_process_gets_database_is_locked_in_time(
    engine: Engine, other_process: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A shell left in the middle of a write, say: the wait ends, as SQLite's own would.
    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_SECONDS", 0.3)
    with pytest.raises(OperationalError, match="database is locked"):
        write(engine, "this process")

    other_process.kill()
    write(engine, "after")
    assert turns(engine) == ["after"]


class JobTimeout(Exception):
    """As RQ raises from SIGALRM in a work-horse whose job ran too long."""


def test_a_writer_interrupted_while_waiting_does_not_keep_the_others_out(engine: Engine, url: str) -> None:
    waiting = queue(url)

    def time_out(_signum: int, _frame: object) -> None:
        raise JobTimeout

    previous = signal.signal(signal.SIGALRM, time_out)
    try:
        with engine.begin() as holding:
            holding.execute(text("INSERT INTO turns (writer) VALUES ('first')"))
            signal.setitimer(signal.ITIMER_REAL, 0.2)
            with pytest.raises(JobTimeout):
                write(engine, "interrupted")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert waiting.waiting == 0

    write(engine, "after")  # the turn the holder let go of was not handed to the interrupted one
    assert turns(engine) == ["first", "after"]
