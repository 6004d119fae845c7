"""How fast one worker process sends texts through the whole outbox path, to a Twilio double that
takes 150 ms to answer each, and how closely it keeps to a configured per-sender rate.

    python -m bench.outbound [--texts 300] [--latency 0.15] [--rate 2] [--database postgres|sqlite]
                             [--smoke]

Kindred runs as deployed (the Procfile's release, web and worker lines, a real Redis and
PostgreSQL) and talks to a Twilio API double in this process that answers each send after
`--latency` seconds. The web line takes `--texts` first texts, signed as Twilio signs them,
while no worker runs, and this script answers them (the turns a worker's senders would take,
here beforehand: they are not what is measured), so that many replies wait in the outbox. Then
one worker process starts and sends them: each is claimed, takes a token of the sender's rate
(SMS_SENDER_MPS), has consent read again, goes to the double, and has its status recorded.
The figure is texts a second between the double taking the first and the last.

The worker's own pace is measured with SMS_SENDER_MPS at the most it may be set to (1,000, a
short code with throughput bought for it), so each text still takes its token but none waits
for one. Two more batches are sent the same way with SMS_SENDER_MPS at 225 (the most a 10DLC
number is allowed) and at `--rate`, both below the worker's pace, and the rate achieved is
compared with each (the target: within 5%).

The worker keeps SEND_CONCURRENCY sends in flight (64 by default). The baseline, in the same
run, is the same worker sending one text at a time (SEND_CONCURRENCY=1), as every version
before the senders did. `--smoke` sends a few texts to check the script works (CI runs it),
not to judge speed. Exits 1 if a text was not sent exactly once.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from bench import deployed
from gateway import create_app
from gateway.config import MAX_SENDER_MPS
from gateway.extensions import db
from gateway.sms import inbound
from tests.doubles.fixtures import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN
from tests.doubles.servers import free_port
from tests.doubles.twilio_api import TwilioApiDouble
from tests.processes import Deployment, Text, fictional_numbers, poll, post_texts

TARGET_PER_SECOND = 225.0
TARGET_RATE_ERROR = 0.05
# The most SMS_SENDER_MPS may be, far above what one worker sends: each text still takes its
# token, and none waits for one.
UNBOUND_RATE = MAX_SENDER_MPS
IN_FLIGHT = 16


@dataclass(frozen=True)
class Sent:
    texts: int
    per_second: float
    duplicates: int
    missing: int
    cpu_per_text: float  # the worker's processor seconds per text, between the first and the last


def send_batch(
    deployment: Deployment,
    app: Flask,
    twilio: TwilioApiDouble,
    numbers: list[str],
    rate: float,
    concurrency: int = 64,
) -> Sent:
    """Queue a reply to each of `numbers` (their first texts, through the web line), then
    start one worker at `rate` texts a second, `concurrency` sends in flight, and measure how
    fast it sends them."""
    answers = post_texts(deployment.base_url, [Text.new(number, "hi") for number in numbers], IN_FLIGHT)
    refused = [answer.status for answer in answers if answer.status != 200]
    if refused:
        raise SystemExit(f"the webhook refused {len(refused)} texts: {Counter(refused)}")
    with app.app_context():
        inbound.answer_waiting()  # each reply now waits in the outbox
        db.session.remove()
    already = len(twilio.sent)
    deployment.env["SMS_SENDER_MPS"] = str(rate)
    deployment.env["SEND_CONCURRENCY"] = str(concurrency)
    deployment.start("worker")
    worker = deployment.processes["worker"].process.pid
    cpu_at_first: list[float] = []
    twilio.on_next_accept(lambda _: cpu_at_first.append(deployed.group_cpu_seconds(worker)))
    timeout = 60 + len(numbers) / min(rate, concurrency / 0.5, 1.0)
    done = poll(lambda: len(twilio.sent) - already >= len(numbers) and deployment.worker_idle(), timeout)
    cpu = deployed.group_cpu_seconds(worker) - (cpu_at_first or [0.0])[0]
    deployment.processes.pop("worker").stop()
    if not done:
        raise SystemExit(f"the worker sent {len(twilio.sent) - already} of {len(numbers)} in {timeout:.0f} s")
    sent = Counter(message["to"] for message in twilio.sent[already:])
    times = twilio.accepted_at[already:]
    span = times[-1] - times[0]
    return Sent(
        texts=len(times),
        per_second=(len(times) - 1) / span if span else float("inf"),
        duplicates=sum(count - 1 for count in sent.values() if count > 1),
        missing=sum(1 for number in numbers if number not in sent),
        cpu_per_text=cpu / len(times) if times else 0.0,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.15, help="seconds the double takes to answer")
    parser.add_argument("--rate", type=float, default=2.0, help="a per-sender rate below the worker's")
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--smoke", action="store_true", help="a few texts: does the script work")
    args = parser.parse_args()
    texts = 10 if args.smoke else args.texts
    rated = 5 if args.smoke else max(10, round(args.rate * 30))  # about 30 s at that rate
    baseline_texts = 5 if args.smoke else 60  # one at a time: about 30 s

    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kindred-bench-")))
        twilio = stack.enter_context(TwilioApiDouble(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN))
        twilio.latency = args.latency
        settings = deployed.settings(stack, root, args.database, twilio.base_url)
        deployment = stack.enter_context(Deployment({**settings, "PORT": str(free_port())}, root / "logs"))
        deployment.release()
        deployment.start("web")
        deployment.wait_until_serving()
        started = time.monotonic()
        numbers = iter(fictional_numbers(baseline_texts + 2 * texts + rated))
        batch = lambda count: [next(numbers) for _ in range(count)]  # noqa: E731
        app = create_app({**settings, "INSTANCE_PATH": str(root / "answering")})
        baseline = send_batch(deployment, app, twilio, batch(baseline_texts), TARGET_PER_SECOND, 1)
        fastest = send_batch(deployment, app, twilio, batch(texts), UNBOUND_RATE)
        at_target = send_batch(deployment, app, twilio, batch(texts), TARGET_PER_SECOND)
        paced = send_batch(deployment, app, twilio, batch(rated), args.rate)
        took = time.monotonic() - started
        errors = deployment.errors()

    print(f"machine: {deployed.machine()}; database: {args.database}")
    print(f"double answers each send after {args.latency * 1000:.0f} ms; {took:.0f} s in all")
    print(f"{'':52}{'texts':>7}{'texts/s':>9}{'dup':>5}{'lost':>6}{'cpu ms/text':>13}")
    for name, sent in [
        (f"baseline: one at a time, SMS_SENDER_MPS={TARGET_PER_SECOND:.0f}", baseline),
        (f"one worker, SMS_SENDER_MPS={UNBOUND_RATE:.0f}", fastest),
        (f"one worker, SMS_SENDER_MPS={TARGET_PER_SECOND:.0f}", at_target),
        (f"one worker, SMS_SENDER_MPS={args.rate:g}", paced),
    ]:
        print(
            f"{name:52}{sent.texts:7d}{sent.per_second:9.1f}{sent.duplicates:5d}{sent.missing:6d}"
            f"{sent.cpu_per_text * 1000:13.2f}"
        )
    speedup = fastest.per_second / baseline.per_second
    print(
        f"the worker's own pace: {fastest.per_second:.1f}/s, {speedup:.0f}x the baseline "
        f"(target {TARGET_PER_SECOND:.0f}/s)"
    )
    for rate, sent in [(TARGET_PER_SECOND, at_target), (args.rate, paced)]:
        error = sent.per_second / rate - 1
        print(f"a configured {rate:g}/s was kept to {error:+.1%} (target within {TARGET_RATE_ERROR:.0%})")
    wrong = sum(sent.duplicates + sent.missing for sent in (baseline, fastest, at_target, paced))
    if wrong or errors:
        print(f"{wrong} texts were not sent exactly once; errors logged: {errors[:3]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
