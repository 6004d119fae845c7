"""Redis hung, not crashed (a network partition, a stalled host): Kindred as deployed must still
answer Twilio within 2 s, keep every text it answered, and not lose or repeat a reply once
Redis is back.

Redis is frozen with SIGSTOP: connections open and nothing answers, the case a down server's
"connection refused" never tests. Replies committed while Redis hung may never have reached the
queue; the worker's outbox sweeper queues those again (rows older than 2 minutes, every minute),
so a reply counts as kept when it was sent or waits in the outbox as `queued` for the sweeper,
and as lost otherwise; then the test runs the sweeper's next pass as if two minutes had gone by
and sees every waiting reply go, once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from gateway import create_app
from gateway.delivery import outbox
from gateway.extensions import db
from tests.concurrency.conftest import Deploy, Figures
from tests.doubles.servers import RedisServer
from tests.doubles.twilio_api import TwilioApiDouble
from tests.processes import (
    Deployment,
    LoadSummary,
    Text,
    fictional_numbers,
    poll,
    post_text,
    post_texts,
    replies_by_number,
    wait_for,
)

ANSWER_WITHIN_SECONDS = 2.0
TEXTS = 20
IN_FLIGHT = 4
SETTLE_TIMEOUT_SECONDS = 30.0
KEPT = ("queued", "sending", "sent")  # sent, or waiting in the outbox for the sweeper


def sweep_as_if_later(deployment: Deployment, delay: timedelta) -> dict[str, int]:
    """Run the outbox sweeper on the deployment's database and Redis, with its clock `delay`
    ahead (the deployed worker runs it every minute; a test can't wait for its grace period)."""
    settings = {k: v for k, v in deployment.env.items() if k.isupper()}
    app = create_app({**settings, "CLOCK": lambda: datetime.now(UTC) + delay})
    with app.app_context():
        try:
            return outbox.sweep(now=datetime.now(UTC) + delay)
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A Redis server for this test alone: freezing the session's would stall other tests."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def deployment_on_own_redis(own_redis: RedisServer, deploy: Deploy) -> Deployment:
    return deploy(own_redis)


def test_webhooks_answer_within_2s_and_texts_are_kept_while_redis_hangs(
    deployment_on_own_redis: Deployment,
    own_redis: RedisServer,
    twilio_api: TwilioApiDouble,
    figures: Figures,
) -> None:
    deployment = deployment_on_own_redis
    # One text answered end to end first: the deployment works, and holds its Redis connections.
    (warm_up,) = fictional_numbers(1, start=TEXTS)
    assert post_text(deployment.base_url, Text.new(warm_up, "hi"), timeout=15).status == 200
    wait_for(lambda: replies_by_number(twilio_api.sent, [warm_up])[warm_up], 30, "the warm-up reply")
    numbers = fictional_numbers(TEXTS)
    texts = [Text.new(number, "hi") for number in numbers]

    own_redis.freeze()
    try:
        answers = post_texts(deployment.base_url, texts, IN_FLIGHT)
    finally:
        own_redis.thaw()
    settled = poll(deployment.worker_idle, SETTLE_TIMEOUT_SECONDS)

    messages = deployment.export("messages")
    answered = [text for text, answer in zip(texts, answers, strict=True) if answer.status == 200]
    stored = {m["provider_id"] for m in messages if m["direction"] == "inbound"}
    kept_replies = {
        m["address"]: m["status"] for m in messages if m["direction"] == "outbound" and m["status"] in KEPT
    }
    sent = replies_by_number(twilio_api.sent, numbers)
    load = LoadSummary.of(answers)
    figures(
        posted=load.posted,
        answered_2xx=load.ok,
        answered_5xx=load.server_errors,
        unanswered=load.unanswered,
        answer_max_s=load.max_seconds,
        answer_p95_s=load.p95_seconds,
        over_2s=sum(1 for answer in answers if answer.seconds >= ANSWER_WITHIN_SECONDS),
        worker_idle_after_thaw=bool(settled),
        stored=sum(1 for text in texts if text.sid in stored),
        replies_sent=sum(1 for bodies in sent.values() if bodies),
        replies_waiting_for_sweeper=sum(1 for n in numbers if kept_replies.get(n) == "queued"),
        replies_lost=sum(1 for n in numbers if n not in kept_replies),
        replies_duplicated=sum(1 for bodies in sent.values() if len(bodies) > 1),
    )

    assert settled, "the worker still had jobs waiting or running 30 s after Redis came back"
    # The sweeper's next pass, as it will run two minutes on: the waiting replies go, once each.
    sweep_as_if_later(deployment, timedelta(minutes=3))
    wait_for(lambda: all(replies_by_number(twilio_api.sent, numbers).values()), 60, "the swept replies")
    assert (
        sorted(len(bodies) for bodies in replies_by_number(twilio_api.sent, numbers).values()) == [1] * TEXTS
    )
    assert [t.sid for t in answered if t.sid not in stored] == [], "texts answered 200 but not stored"
    assert [t.number for t in answered if t.number not in kept_replies] == [], "replies lost"
    assert [n for n, bodies in sent.items() if len(bodies) > 1] == [], "replies sent twice"
    slow = sorted(round(answer.seconds, 2) for answer in answers if answer.seconds >= ANSWER_WITHIN_SECONDS)
    assert load.ok == load.posted and slow == [], (
        f"with Redis hung, {load.posted - load.ok} of {load.posted} webhooks not answered 200 and "
        f"{len(slow)} answered in {ANSWER_WITHIN_SECONDS:.0f} s or more: {slow}"
    )
