"""Kindred run as a deployment runs it, for tests that need real processes.

`Deployment` starts the Procfile's lines (`release`, `web`, `worker`) with `bash -c`, this test
run's virtualenv first on PATH and the configuration in environment variables only, so a test
exercises exactly what a platform would start. `post_texts` plays Twilio: it posts signed
inbound-SMS webhooks over HTTP, many in flight at once, and times each answer.

Every process runs in a process group of its own and cannot outlive the test run: the kernel
signals it when the test process dies (PR_SET_PDEATHSIG, armed by the thread that starts it,
so start deployments from the main thread), and `stop()` ends its whole group.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar
from urllib.parse import urlencode, urlsplit

from redis import Redis
from rq import Queue, Worker
from sqlalchemy import create_engine, text

from tests.doubles.fixtures import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN
from tests.doubles.servers import die_with_parent
from tests.doubles.twilio_api import SentMessage, twilio_signature
from tests.support import KINDRED_NUMBER, PUBLIC_BASE_URL

PROCFILE = Path(__file__).resolve().parent.parent / "Procfile"
VENV_BIN = Path(sys.executable).parent
SMS_WEBHOOK = "/webhooks/twilio/sms"
# Variables a deployment's processes get from their platform, not from the test's settings.
_INHERITED = ("HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")
RELEASE_TIMEOUT_SECONDS = 120.0
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 20.0
COMMAND_TIMEOUT_SECONDS = 60.0
POLL_INTERVAL_SECONDS = 0.1
LOG_TAIL_LINES = 40
# "SomeError: what", and SQLAlchemy's "(driver.SomeError) what" line under its own.
# Kindred's processes log one key=value line per event; an error's traceback is inside its line.
_ERROR_LINE = re.compile(r"^.* level=(?:error|critical) .*$", re.MULTILINE)

T = TypeVar("T")


def procfile_commands(path: Path = PROCFILE) -> dict[str, str]:
    """The Procfile's process types and their command lines."""
    commands = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, colon, command = line.partition(":")
        if not colon or not name.strip().isidentifier():
            raise ValueError(f"not a Procfile line: {line!r}")
        commands[name.strip()] = command.strip()
    return commands


def poll(condition: Callable[[], T | None], timeout: float) -> T | None:
    """Call `condition` until it returns something truthy, and return that; None if it has
    not by the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            return None
        time.sleep(POLL_INTERVAL_SECONDS)


def wait_for(condition: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll `condition` until it returns something truthy, and return that; fail naming
    `what` at the deadline."""
    result = poll(condition, timeout)
    if not result:
        raise AssertionError(f"{what}: not within {timeout:.0f}s")
    return result


def _log_tail(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    return "\n".join(lines[-LOG_TAIL_LINES:]) or "(empty log)"


class ProcfileProcess:
    """One Procfile line running in its own process group, its output going to a log file."""

    def __init__(self, name: str, command: str, env: Mapping[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                ["bash", "-c", command],
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent(signal.SIGTERM),
            )

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self) -> str:
        return _log_tail(self.log_path)

    def errors(self) -> list[str]:
        """The error lines in the log (each an event, with its traceback), first seen first."""
        found = _ERROR_LINE.findall(self.log_path.read_text(errors="replace"))
        return [line[:400] for line in dict.fromkeys(found)]

    def stop(self) -> None:
        """SIGTERM to the process group (a graceful stop), then SIGKILL to whatever is left."""
        if self.running:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._signal_group(signal.SIGKILL)  # children that outlived their leader

    def kill(self) -> None:
        """SIGKILL to the process group, as a crash or an out-of-memory kill would: no cleanup."""
        self._signal_group(signal.SIGKILL)
        self.process.wait()

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)


class Deployment:
    """Kindred's Procfile processes, sharing one environment: `settings` (the variables a
    deployment sets, including HOST and PORT for the web line) over a minimal base."""

    def __init__(self, settings: Mapping[str, str], logs: Path) -> None:
        self.commands = procfile_commands()
        self.env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
        self.env["PATH"] = os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", os.defpath)])
        # A runtime folder of its own, as a container has: gunicorn puts its control socket there
        # (else in ~/.gunicorn, shared with every other gunicorn of this user).
        runtime = logs / "run"
        runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.env["XDG_RUNTIME_DIR"] = str(runtime)
        self.env.update(settings)
        self.base_url = f"http://{self.env['HOST']}:{self.env['PORT']}"
        self.logs = logs
        self.processes: dict[str, ProcfileProcess] = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def release(self) -> None:
        """Run the `release` line to completion (the migrations), failing with its output."""
        log_path = self.logs / "release.log"
        with log_path.open("ab") as log:
            status = subprocess.run(
                ["bash", "-c", self.commands["release"]],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent(signal.SIGTERM),
                timeout=RELEASE_TIMEOUT_SECONDS,
                check=False,
            ).returncode
        if status != 0:
            raise AssertionError(f"release exited with status {status}:\n{_log_tail(log_path)}")

    def start(self, *kinds: str) -> None:
        """Start one process of each of these Procfile lines (say "web", "worker"), without
        waiting for them."""
        for kind in kinds:
            self.processes[kind] = ProcfileProcess(
                kind, self.commands[kind], self.env, self.logs / f"{kind}.log"
            )

    def wait_until_serving(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        """Wait until /healthz answers 200 and an RQ worker listens, failing early with a
        process's log if it exits."""

        def ready() -> bool:
            for process in self.processes.values():
                if not process.running:
                    raise AssertionError(f"{process.name} exited while starting:\n{process.log_tail()}")
            if not self.healthy():
                return False
            with self.redis() as connection:
                return "worker" not in self.processes or Worker.count(connection=connection) > 0

        wait_for(ready, timeout, "Kindred serving /healthz with a worker listening")

    def healthy(self) -> bool:
        """Whether GET /healthz answers 200."""
        try:
            with urllib.request.urlopen(self.base_url + "/healthz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def redis(self) -> Redis:
        """A client of the deployment's Redis, with short timeouts, for looking at its queues."""
        return Redis.from_url(self.env["REDIS_URL"], socket_connect_timeout=2, socket_timeout=2)

    def worker_idle(self) -> bool:
        """Whether no job waits in any queue and none is running."""
        with self.redis() as connection:
            return all(
                queue.count == 0 and queue.started_job_registry.count == 0
                for queue in Queue.all(connection=connection)
            )

    def unanswered(self) -> int:
        """How many stored texts wait for the worker to answer them."""
        engine = create_engine(self.env["DATABASE_URL"])
        try:
            with engine.connect() as connection:
                return connection.execute(
                    text(
                        "SELECT count(*) FROM message"
                        " WHERE direction = 'inbound' AND channel = 'sms' AND answered_at IS NULL"
                    )
                ).scalar_one()
        finally:
            engine.dispose()

    def kindred(self, *args: str) -> str:
        """Run a `kindred` command with the deployment's environment; returns its output."""
        finished = subprocess.run(
            ["kindred", *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGTERM),
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
        if finished.returncode != 0:
            raise AssertionError(
                f"kindred {' '.join(args)} exited with {finished.returncode}:\n{finished.stderr}"
            )
        return finished.stdout

    def export(self, kind: str) -> list[dict[str, str]]:
        """The rows of `kindred export KIND`."""
        return list(csv.DictReader(io.StringIO(self.kindred("export", kind))))

    def errors(self) -> list[str]:
        """The errors the processes logged, each with the process's name."""
        return [f"{name}: {line}" for name, process in self.processes.items() for line in process.errors()]

    def stop(self) -> None:
        """Stop every process started, web first so nothing new arrives for the worker."""
        for process in self.processes.values():
            process.stop()


def fictional_numbers(count: int, start: int = 0) -> list[str]:
    """`count` distinct US numbers in the fictional 555 range, in E.164."""
    return [f"+155501{n:05d}" for n in range(start, start + count)]


@dataclass(frozen=True)
class Text:
    """An inbound text, as Twilio would post it to the webhook."""

    number: str
    body: str
    sid: str

    @classmethod
    def new(cls, number: str, body: str) -> Text:
        return cls(number, body, "SM" + uuid.uuid4().hex)

    def form(self) -> dict[str, str]:
        return {
            "MessageSid": self.sid,
            "SmsSid": self.sid,
            "AccountSid": TWILIO_ACCOUNT_SID,
            "From": self.number,
            "To": KINDRED_NUMBER,
            "Body": self.body,
            "NumMedia": "0",
        }


@dataclass(frozen=True)
class Answer:
    """How the webhook answered one post: its HTTP status (None if none came: a timeout or a
    broken connection) and how long the answer took."""

    status: int | None
    seconds: float


def post_text(base_url: str, text: Text, timeout: float) -> Answer:
    """Post one text to the webhook as Twilio does, signed for PUBLIC_BASE_URL + path."""
    return post_signed(base_url, SMS_WEBHOOK, text.form(), timeout)


def post_status(base_url: str, sent: SentMessage, status: str, timeout: float = 15.0) -> Answer:
    """Post Twilio's status callback for a message it took, to the URL it was given."""
    callback = urlsplit(sent["status_callback"] or "")
    form = {"MessageSid": sent["sid"], "MessageStatus": status, "AccountSid": TWILIO_ACCOUNT_SID}
    return post_signed(base_url, f"{callback.path}?{callback.query}", form, timeout)


def post_signed(base_url: str, path: str, form: dict[str, str], timeout: float) -> Answer:
    """Post a form to the deployment as Twilio does, signed for PUBLIC_BASE_URL + path."""
    request = urllib.request.Request(
        base_url + path,
        data=urlencode(form).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(PUBLIC_BASE_URL + path, form, TWILIO_AUTH_TOKEN),
        },
        method="POST",
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return Answer(response.status, time.monotonic() - started)
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, time.monotonic() - started)
    except (urllib.error.URLError, OSError):
        return Answer(None, time.monotonic() - started)


def post_texts(base_url: str, texts: Sequence[Text], in_flight: int, timeout: float = 15.0) -> list[Answer]:
    """Post every text, `in_flight` at a time, in order; the answers in the same order.
    The default timeout is Twilio's own: a webhook not answered in 15 s has failed."""
    with ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="twilio") as pool:
        return list(pool.map(lambda text: post_text(base_url, text, timeout), texts))


@dataclass(frozen=True)
class LoadSummary:
    """What a burst of webhooks got back."""

    posted: int
    ok: int  # 2xx
    server_errors: int  # 5xx
    other: int  # any other status
    unanswered: int  # no HTTP answer within the timeout, or the connection failed
    max_seconds: float
    p95_seconds: float

    @classmethod
    def of(cls, answers: Sequence[Answer]) -> LoadSummary:
        statuses = [answer.status for answer in answers]
        ok = sum(1 for s in statuses if s is not None and 200 <= s < 300)
        server_errors = sum(1 for s in statuses if s is not None and s >= 500)
        unanswered = statuses.count(None)
        times = sorted(answer.seconds for answer in answers)
        return cls(
            posted=len(answers),
            ok=ok,
            server_errors=server_errors,
            other=len(answers) - ok - server_errors - unanswered,
            unanswered=unanswered,
            max_seconds=round(times[-1], 3) if times else 0.0,
            p95_seconds=round(times[math.ceil(0.95 * len(times)) - 1], 3) if times else 0.0,
        )


def replies_by_number(sent: Iterable[Mapping[str, object]], numbers: Iterable[str]) -> dict[str, list[str]]:
    """The bodies of the texts sent to each of `numbers`, oldest first."""
    replies: dict[str, list[str]] = {number: [] for number in numbers}
    for message in sent:
        if message["to"] in replies:
            replies[str(message["to"])].append(str(message["body"]))
    return replies


@dataclass(frozen=True)
class ReplySummary:
    """How the replies to a group of numbers turned out, against the one reply each expected."""

    numbers: int
    answered_once: int  # exactly one reply, the expected one
    lost: int  # no reply at all
    duplicated: int  # more than one reply
    unexpected: int  # one reply, but not the expected one

    @classmethod
    def of(cls, replies: Mapping[str, Sequence[str]], expected: str) -> ReplySummary:
        """`expected` is text the one right reply contains."""
        counts = [len(bodies) for bodies in replies.values()]
        once = [bodies[0] for bodies in replies.values() if len(bodies) == 1]
        return cls(
            numbers=len(counts),
            answered_once=sum(1 for body in once if expected in body),
            lost=counts.count(0),
            duplicated=sum(1 for n in counts if n > 1),
            unexpected=sum(1 for body in once if expected not in body),
        )
