"""A burst of first texts through Kindred as deployed (the Procfile's release, web and worker
lines, a real Redis, on SQLite and on PostgreSQL), posted as Twilio posts them, 16 in flight:
every webhook is answered 2xx, and every number gets exactly one reply, also when Twilio
delivers each webhook three times and when some of the burst say STOP."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tests.concurrency.conftest import Figures
from tests.doubles.twilio_api import TwilioApiDouble
from tests.processes import (
    Answer,
    Deployment,
    LoadSummary,
    ReplySummary,
    Text,
    fictional_numbers,
    poll,
    post_texts,
    replies_by_number,
)

BURST = 200
IN_FLIGHT = 16
JOIN_REQUEST = "Reply YES"
STOP_CONFIRMATION = "unsubscribed"
# The worker sends about 4 replies a second on a 2-core machine: 200 take some 50 s.
SETTLE_TIMEOUT_SECONDS = 150.0


@dataclass(frozen=True)
class Settled:
    """The outbox once the worker is done with it."""

    after_seconds: float | None  # None: not done by the deadline
    outbox: str  # how many replies ended in each status, e.g. "sent:180 sending:20"


def settle(deployment: Deployment) -> Settled:
    """Wait until the worker is done: no job waiting or running, no text waiting to be
    answered, and no reply in the outbox still `queued` or `sending` (`kindred export messages`). A reply left `sending` is stuck,
    whether or not it reached Twilio: only the sweeper touches it again, ten minutes on, to
    mark it failed."""
    started = time.monotonic()
    outbox: Counter[str] = Counter()

    def done() -> bool:
        if not deployment.worker_idle() or deployment.unanswered():
            return False
        outbox.clear()
        outbox.update(m["status"] for m in deployment.export("messages") if m["direction"] == "outbound")
        return outbox["queued"] == 0 and outbox["sending"] == 0

    finished = poll(done, SETTLE_TIMEOUT_SECONDS)
    return Settled(
        round(time.monotonic() - started, 1) if finished else None,
        " ".join(f"{status}:{count}" for status, count in sorted(outbox.items())),
    )


def record(
    figures: Figures, answers: Sequence[Answer], settled: Settled, **replies: ReplySummary
) -> LoadSummary:
    """Record the webhooks' answers, how long the worker took, and how each group's replies
    turned out; returns the answers' summary."""
    load = LoadSummary.of(answers)
    figures(
        posted=load.posted,
        answered_2xx=load.ok,
        answered_5xx=load.server_errors,
        answered_other=load.other,
        unanswered=load.unanswered,
        answer_max_s=load.max_seconds,
        answer_p95_s=load.p95_seconds,
        worker_done_after_s=settled.after_seconds,
        outbox=settled.outbox,
    )
    for group, summary in replies.items():
        figures(
            **{
                f"{group}_numbers": summary.numbers,
                f"{group}_replied_once": summary.answered_once,
                f"{group}_lost": summary.lost,
                f"{group}_duplicated": summary.duplicated,
                f"{group}_unexpected": summary.unexpected,
            }
        )
    return load


def assert_all_answered_2xx(load: LoadSummary, deployment: Deployment) -> None:
    assert load.ok == load.posted, (
        f"{load.posted - load.ok} of {load.posted} webhooks not answered 2xx "
        f"({load.server_errors} 5xx, {load.other} other, {load.unanswered} unanswered); "
        f"errors logged: {deployment.errors()[:5]}"
    )
    assert deployment.errors() == [], "the web or the worker logged an error"


def assert_one_reply_each(replies: ReplySummary, which: str) -> None:
    assert replies.answered_once == replies.numbers, (
        f"of {replies.numbers} numbers, {replies.lost} got no {which}, {replies.duplicated} got more "
        f"than one text, {replies.unexpected} got one text that was not the {which}"
    )


def three_times_interleaved(texts: Sequence[Text]) -> Iterator[Text]:
    """Each text three times, the copies four posts apart and interleaved with other texts, so
    all three are in flight at once: t0, t1, t0, t2, t1, t0, t3, t2, t1, ..."""
    for i in range(len(texts) + 2):
        for j in (i, i - 1, i - 2):
            if 0 <= j < len(texts):
                yield texts[j]


def test_a_burst_of_first_texts_gets_one_join_request_each(
    deployment: Deployment, twilio_api: TwilioApiDouble, figures: Figures
) -> None:
    numbers = fictional_numbers(BURST)

    answers = post_texts(deployment.base_url, [Text.new(number, "hi") for number in numbers], IN_FLIGHT)
    settled = settle(deployment)

    replies = ReplySummary.of(replies_by_number(twilio_api.sent, numbers), JOIN_REQUEST)
    load = record(figures, answers, settled, joining=replies)
    assert_all_answered_2xx(load, deployment)
    assert_one_reply_each(replies, "join request")


def test_every_webhook_delivered_three_times_still_gets_one_reply(
    deployment: Deployment, twilio_api: TwilioApiDouble, figures: Figures
) -> None:
    numbers = fictional_numbers(BURST)
    texts = [Text.new(number, "hi") for number in numbers]

    answers = post_texts(deployment.base_url, list(three_times_interleaved(texts)), IN_FLIGHT)
    settled = settle(deployment)

    replies = ReplySummary.of(replies_by_number(twilio_api.sent, numbers), JOIN_REQUEST)
    load = record(figures, answers, settled, joining=replies)
    assert load.posted == 3 * BURST
    assert_all_answered_2xx(load, deployment)
    assert_one_reply_each(replies, "join request")


def test_stop_in_the_burst_is_recorded_and_confirmed_once(
    deployment: Deployment, twilio_api: TwilioApiDouble, figures: Figures
) -> None:
    numbers = fictional_numbers(BURST)
    stopping = numbers[3::4]  # one in four: 50, spread through the burst
    joining = [number for number in numbers if number not in stopping]
    texts = [Text.new(number, "STOP" if number in stopping else "hi") for number in numbers]

    answers = post_texts(deployment.base_url, texts, IN_FLIGHT)
    settled = settle(deployment)

    opted_out = {row["address"] for row in deployment.export("consent") if row["status"] == "opted_out"}
    stopped = ReplySummary.of(replies_by_number(twilio_api.sent, stopping), STOP_CONFIRMATION)
    joined = ReplySummary.of(replies_by_number(twilio_api.sent, joining), JOIN_REQUEST)
    load = record(figures, answers, settled, stopping=stopped, joining=joined)
    figures(opt_outs_recorded=len(opted_out), opt_outs_expected=len(stopping))
    assert_all_answered_2xx(load, deployment)
    assert opted_out == set(stopping), (
        f"{len(set(stopping) - opted_out)} STOPs not recorded as opt-outs, "
        f"{len(opted_out - set(stopping))} opt-outs nobody asked for"
    )
    assert_one_reply_each(stopped, "STOP confirmation")
    assert_one_reply_each(joined, "join request")
