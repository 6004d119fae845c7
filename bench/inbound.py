"""How many first texts Kindred's webhook takes a second, as a share of a bare Flask route's, how
fast one worker answers them, and how much memory a web process holds afterwards.

    python -m bench.inbound [--seconds 20] [--connections 16] [--database postgres|sqlite]
                            [--memory-texts 0] [--smoke]

All three are served by the Procfile's web line (gunicorn with `gateway.gunicorn_config`, two
processes of four threads, access log off) on 127.0.0.1, one after the other, and loaded by
the same generator, wrk, for the same time with the same connections:

- baseline: `bench/bare_webhook.py`, a Flask route that answers empty TwiML and does nothing;
- storing one row: `bench/stored_webhook.py`, the least a webhook that keeps each text before
  its 200 can do: the signature, one row inserted through SQLAlchemy and committed, on the same
  database. What Kindred can reach at best on this machine;
- Kindred: first texts ("hi", each from a new number), signed as Twilio signs them, through
  what the webhook does before its 200: the signature, the sender's address (new: a person
  and their conversation too), the stored text, the commit and the worker's wake-up, on a
  fresh database migrated by the release line, with Redis. No worker runs meanwhile: the texts
  wait for it, as they would for a moment in production.

Then one worker process (the Procfile's worker line) starts and answers every text stored:
each one's conversation turn and the outbox write of its reply, which it sends to a Twilio
double answering at once. It prints the texts answered a second, from its start to the last.

Every request is signed beforehand (wrk only sends bytes), and every text is a new one: a
repeated MessageSid would be a duplicate, which Kindred answers without doing any work.

It prints requests a second at saturation for each, Kindred's as a share of the baseline's
(the target is at least 30%) and of storing one row's, Kindred's p50 and p99 latency at
about half its saturation throughput (paced by wrk's per-request delay; the target is p99
under 50 ms), any non-2xx
answers, and the largest web process's resident memory after the run. `--memory-texts N`
then sends N more first texts (no worker runs: they wait) and reports the memory again (the
target: under 150 MB after 100,000). `--smoke` runs a few seconds of each to check the script
works (CI runs it), not to judge speed. Exits 1 if an answer was not 2xx or a text was left
unanswered.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from bench import deployed, stored_webhook
from tests.doubles.fixtures import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN
from tests.doubles.servers import free_port
from tests.doubles.twilio_api import TwilioApiDouble, twilio_signature
from tests.processes import SMS_WEBHOOK, Deployment, ProcfileProcess, Text, poll, wait_for
from tests.support import PUBLIC_BASE_URL

TARGET_SHARE = 0.30
TARGET_P99_MS = 50.0
TARGET_RSS_MB = 150.0
WRK_THREADS = 2

# Each wrk thread sends its own share of the signed requests, in turn (thread n the n-th of
# every WRK_THREADS). One that runs out stops, after asking for /healthz instead (counted in
# `ran_out`: not a text).
WRK_SCRIPT = """
local requests = {}
local threads = {}
local step, pause = 1, 0

local file = assert(io.open(os.getenv("KINDRED_BENCH_REQUESTS")))
for line in file:lines() do
  local signature, body = line:match("^(%S+) (.*)$")
  requests[#requests + 1] = {signature, body}
end
file:close()

function setup(thread)
  thread:set("index", #threads)  -- a global of the thread's own state
  thread:set("ran_out", 0)
  threads[#threads + 1] = thread
end

function init(args)
  step = tonumber(args[1])
  pause = tonumber(args[2])
  index = index + 1 - step  -- thread n sends line n + 1 first
end

function delay()
  return pause
end

function request()
  index = index + step
  local signed = requests[index]
  if signed == nil then
    ran_out = ran_out + 1
    wrk.thread:stop()
    return wrk.format("GET", "/healthz")
  end
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = signed[1],
  }, signed[2])
end

function done(summary, latency, requests)
  local ran_out = 0
  for _, thread in ipairs(threads) do
    ran_out = ran_out + thread:get("ran_out")
  end
  io.write(string.format(
    '{"requests": %d, "seconds": %f, "non_2xx": %d, "socket_errors": %d, "ran_out": %d, '
    .. '"p50_ms": %f, "p99_ms": %f}\\n',
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    ran_out, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    ran_out: int
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds

    @property
    def answered(self) -> int:
        """Texts sent and answered (not the requests for a missing page once out of texts)."""
        return self.requests - self.ran_out

    @property
    def failed(self) -> int:
        return self.non_2xx + self.socket_errors


def numbers(count: int, start: int) -> list[str]:
    """`count` distinct numbers in the fictional 555 area code (up to 8 million of them)."""
    return [f"+1555{n:07d}" for n in range(2_000_000 + start, 2_000_000 + start + count)]


class SignedTexts:
    """First texts from new numbers, signed, written where the wrk script reads them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.next = 0

    def file(self, count: int) -> Path:
        path = self.folder / f"texts-{self.next}.txt"
        url = PUBLIC_BASE_URL + SMS_WEBHOOK
        with path.open("w") as out:
            for number in numbers(count, self.next):
                form = Text.new(number, "hi").form()
                out.write(f"{twilio_signature(url, form, TWILIO_AUTH_TOKEN)} {urlencode(form)}\n")
        self.next += count
        return path


def wrk(base_url: str, texts: Path, seconds: int, connections: int, pause_ms: int, script: Path) -> Load:
    finished = subprocess.run(
        [
            "wrk",
            f"--threads={WRK_THREADS}",
            f"--connections={connections}",
            f"--duration={seconds}s",
            "--timeout=15s",
            f"--script={script}",
            base_url + SMS_WEBHOOK,
            "--",
            str(WRK_THREADS),
            str(pause_ms),
        ],
        env={**os.environ, "KINDRED_BENCH_REQUESTS": str(texts)},
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    )
    line = next(line for line in finished.stdout.splitlines() if line.startswith("{"))
    return Load(**json.loads(line))


def resident_mb(leader_pid: int) -> float:
    """The resident memory of the largest process started by the web line (gunicorn's
    workers), in MB."""
    parents: dict[int, int] = {}
    resident: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        pid = int(status.parent.name)
        parents[pid] = int(fields["PPid"])
        resident[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    family = {leader_pid}
    while grown := {pid for pid, parent in parents.items() if parent in family} - family:
        family |= grown
    return max(resident.get(pid, 0) for pid in family) / 1024


def serve(stack: ExitStack, settings: dict[str, str], logs: Path, app: str | None) -> Deployment:
    """The web line serving Kindred (app None, after the release line) or another app."""
    deployment = stack.enter_context(Deployment({**settings, "PORT": str(free_port())}, logs))
    if app is None:
        deployment.release()
        deployment.start("web")
    else:
        command = deployment.commands["web"].replace("'gateway:create_app()'", app)
        deployment.processes["web"] = ProcfileProcess("web", command, deployment.env, logs / "bare.log")
    wait_for(deployment.healthy, 60, "the web line serving")
    return deployment


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--memory-texts", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="a few seconds each: does the script work")
    args = parser.parse_args()
    seconds = 3 if args.smoke else args.seconds
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kindred-bench-")))
        script = root / "texts.lua"
        script.write_text(WRK_SCRIPT)
        texts = SignedTexts(root)
        twilio = stack.enter_context(TwilioApiDouble(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN))
        settings = deployed.settings(stack, root, args.database, twilio.base_url)
        enough = 5000 * seconds  # more than Kindred can take in the time
        plenty = 25000 * seconds  # more than the bare route can take, on a fast machine too

        with ExitStack() as bare_stack:
            bare = serve(bare_stack, settings, root / "bare", "bench.bare_webhook:app")
            baseline = wrk(bare.base_url, texts.file(plenty), seconds, args.connections, 0, script)
        with ExitStack() as stored_stack:
            stored_webhook.prepare(settings["DATABASE_URL"])
            stored = serve(stored_stack, settings, root / "stored", "'bench.stored_webhook:create_app()'")
            storing = wrk(stored.base_url, texts.file(plenty), seconds, args.connections, 0, script)

        kindred = serve(stack, settings, root / "kindred", None)
        wrk(kindred.base_url, texts.file(200), 2, 4, 0, script)  # warm-up: connections, caches
        warm = resident_mb(kindred.processes["web"].process.pid)
        saturated = wrk(kindred.base_url, texts.file(enough), seconds, args.connections, 0, script)
        # About half of that, paced: each connection waits so that together they send half.
        half = saturated.per_second / 2
        pause_ms = max(1, round(args.connections / half * 1000)) if half else 1000
        paced = wrk(kindred.base_url, texts.file(enough), seconds, args.connections, pause_ms, script)
        memory = resident_mb(kindred.processes["web"].process.pid)
        waiting = kindred.unanswered()
        started = time.monotonic()
        kindred.start("worker")
        answered = poll(lambda: kindred.unanswered() == 0, 60 + waiting / 5)
        answering = time.monotonic() - started
        left = 0 if answered else kindred.unanswered()
        worker = kindred.processes.pop("worker")
        worker.stop()  # the memory run's texts wait for it
        errors = [f"worker: {line}" for line in worker.errors()]
        more = None
        if args.memory_texts:
            sent = 0
            rate = max(saturated.per_second, 1.0)
            while sent < args.memory_texts:
                # Runs of at most a minute, with twice the texts that rate needs: wrk runs for its
                # whole duration even once its threads are out of texts.
                run = min(60, math.ceil((args.memory_texts - sent) / rate) + 1)
                batch = texts.file(round(rate * run * 2) + 1000)
                load = wrk(kindred.base_url, batch, run, args.connections, 0, script)
                batch.unlink()
                sent += load.answered
                if load.failed:
                    print(f"memory run: {load.failed} texts not answered 2xx")
                    return 1
            more = (sent, resident_mb(kindred.processes["web"].process.pid))
        errors += kindred.errors()

    share = saturated.per_second / baseline.per_second
    print(f"machine: {deployed.machine()}; database: {args.database}")
    print(f"wrk: {WRK_THREADS} threads, {args.connections} connections, {seconds} s a run")
    print(f"{'':34}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'ran out':>9}")
    for name, load in [
        ("bare Flask route (baseline)", baseline),
        ("storing one row, nothing else", storing),
        ("Kindred, saturated", saturated),
        (f"Kindred, paced to ~{half:.0f}/s", paced),
    ]:
        print(
            f"{name:34}{load.per_second:8.0f}{load.p50_ms:9.1f}{load.p99_ms:9.1f}{load.failed:9d}{load.ran_out:9d}"
        )
    print(f"Kindred / baseline: {share:.1%} (target {TARGET_SHARE:.0%})")
    print(f"storing one row / baseline: {storing.per_second / baseline.per_second:.1%}", end="; ")
    print(f"Kindred / storing one row: {saturated.per_second / storing.per_second:.1%}")
    print(f"p99 at ~half saturation: {paced.p99_ms:.1f} ms (target under {TARGET_P99_MS:.0f} ms)")
    print(f"one worker answered {waiting} texts in {answering:.1f} s: {waiting / answering:.0f} a second")
    print(f"largest web process after warming up: {warm:.0f} MB")
    print(f"largest web process after {saturated.answered + paced.answered + 200} texts: {memory:.0f} MB")
    if more:
        print(f"largest web process after {more[0]} more texts: {more[1]:.0f} MB", end=" ")
        print(f"(target under {TARGET_RSS_MB:.0f} MB)")
    bad = sum(load.failed for load in (storing, saturated, paced))
    ran_out = sum(load.ran_out for load in (baseline, storing, saturated, paced))
    if bad or ran_out or errors or left:
        print(f"{bad} texts not answered 2xx, {ran_out} requests past the signed texts; errors: {errors[:3]}")
        print(f"the worker left {left} texts unanswered")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
