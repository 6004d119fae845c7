"""The fault suite, on Kindred as deployed (issue 10): the Procfile's release, web and worker
lines, a real Redis, SQLite and PostgreSQL, and the Twilio double, with hundreds of texts in
flight when the fault strikes. After each fault:

- every inbound text answered 2xx is stored exactly once;
- every reply is sent exactly once, or ends `failed` with a reason, never left in between;
- nobody gets a text twice.

(A worker killed with -9 mid-batch, webhooks delivered three times and STOPs in a burst are in
tests/concurrency, on the same deployment.)"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask
from redis import Redis
from sqlalchemy import func, select, update

from gateway import create_app
from gateway.delivery import outbox
from gateway.extensions import db
from gateway.models import Message, utcnow
from tests.concurrency.conftest import Deploy, Figures
from tests.concurrency.test_burst import settle
from tests.conftest import app_config
from tests.doubles.servers import PostgresServer, RedisServer
from tests.doubles.twilio_api import TwilioApiDouble
from tests.processes import (
    Answer,
    Deployment,
    Text,
    fictional_numbers,
    poll,
    post_status,
    post_text,
    post_texts,
    wait_for,
)

TEXTS = 200
IN_FLIGHT = 16
JOIN_REQUEST = "Reply YES"
REFUSED_SHARE = 0.3
REDIS_OUTAGE_SECONDS = 30.0
SETTLE_SECONDS = 120.0
GIVEN_BACK_WITHIN_SECONDS = 60.0  # half a claim's lease
DOWN_TEXTS = 40  # posted IN_FLIGHT at a time: twice the web line's threads


@contextmanager
def app_of(deployment: Deployment, tmp_path: Path) -> Iterator[Flask]:
    """An app on the deployment's database and Redis, for what a test does as the clock or
    the sweeper, and to read the outbox whole."""
    env = deployment.env
    app = create_app(app_config(env["DATABASE_URL"], env["REDIS_URL"], "", tmp_path / "checker"))
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def outbound(app: Flask) -> list[Message]:
    with app.app_context():
        rows = list(db.session.scalars(select(Message).where(Message.direction == "outbound")))
        db.session.expunge_all()
        return rows


def let_backoffs_pass(app: Flask) -> int:
    """Bring every waiting retry's time to now, as if its backoff (10 s, then 1, 5 and 15
    minutes) had passed; returns how many were waiting."""
    with app.app_context():
        now = utcnow()
        moved = db.session.execute(
            update(Message)
            .where(Message.status == "queued", Message.next_attempt_at > now)
            .values(next_attempt_at=now)
        ).rowcount
        db.session.commit()
        return moved


def nothing_due(app: Flask) -> bool:
    """Whether the worker has done all it can now: every text answered, nothing being sent,
    and every reply still queued waits for a later time (a backoff, a throttled sender)."""
    now = utcnow()
    with app.app_context():
        waiting = db.session.scalar(
            select(func.count()).where(Message.direction == "inbound", Message.answered_at.is_(None))
        )
        db.session.rollback()
    if waiting:
        return False
    for message in outbound(app):
        if message.status == "sending":
            return False
        due = message.next_attempt_at is None or message.next_attempt_at.replace(tzinfo=now.tzinfo) <= now
        if message.status == "queued" and due:
            return False
    return True


def assert_each_stored_once(deployment: Deployment, numbers: list[str]) -> None:
    inbound = Counter(
        row["address"] for row in deployment.export("messages") if row["direction"] == "inbound"
    )
    assert {number: inbound[number] for number in numbers} == dict.fromkeys(numbers, 1)


def assert_sent_once_or_failed_with_a_reason(
    app: Flask, twilio_api: TwilioApiDouble, numbers: list[str]
) -> list[Message]:
    """Each number's one reply was sent exactly once, or failed with a reason and was never
    taken by Twilio; returns the failed ones."""
    took = Counter(sent["to"] for sent in twilio_api.sent)
    replies = outbound(app)
    with app.app_context():
        addresses = {message.id: message.address.value for message in map(db.session.merge, replies)}
    assert sorted(addresses.values()) == sorted(numbers), "a text got no reply, or more than one"
    assert max(took.values()) == 1, "a text was sent twice"
    for message in replies:
        assert message.status in ("sent", "failed"), f"a reply was left {message.status}"
        assert took[addresses[message.id]] == (message.status == "sent")
        assert message.status == "sent" or message.error_code, "a reply failed without a reason"
    return [message for message in replies if message.status == "failed"]


class ThreadedPosts:
    """Post texts as Twilio does, IN_FLIGHT at a time, in the background while the block runs;
    `answers` holds how each was answered once the block ends."""

    def __init__(self, base_url: str, texts: list[Text]) -> None:
        self.answers: list[Answer] = []
        self._thread = threading.Thread(
            target=lambda: self.answers.extend(post_texts(base_url, texts, IN_FLIGHT)), name="posts"
        )

    def __enter__(self) -> ThreadedPosts:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._thread.join()


def answered(answers: list[Answer]) -> Counter[int | None]:
    return Counter(answer.status for answer in answers)


def test_the_provider_refusing_30_percent_of_sends_loses_and_duplicates_nothing(
    deployment: Deployment, twilio_api: TwilioApiDouble, figures: Figures, tmp_path: Path
) -> None:
    """Twilio answers 30% of sends, drawn at random, with 429 (Too Many Requests, which also
    holds the sender back a second) or 500. Each refused reply is tried again after its
    backoff, up to five tries; the backoffs are let pass rather than waited out."""
    twilio_api.latency = 0.05
    twilio_api.refuse_share(REFUSED_SHARE)
    numbers = fictional_numbers(TEXTS)

    answers = post_texts(deployment.base_url, [Text.new(number, "hi") for number in numbers], IN_FLIGHT)
    assert answered(answers) == {200: TEXTS}

    with app_of(deployment, tmp_path) as app:
        rounds = 0
        while True:
            wait_for(lambda: nothing_due(app), SETTLE_SECONDS, "the worker to do what it can")
            if not let_backoffs_pass(app):
                break
            rounds += 1
        failed = assert_sent_once_or_failed_with_a_reason(app, twilio_api, numbers)

    calls = len(twilio_api.received)
    figures(
        texts=TEXTS,
        provider_calls=calls,
        refused=calls - len(twilio_api.sent),
        backoffs_let_pass=rounds,
        failed_after_five_tries=len(failed),
        lost=0,
        sent_twice=0,
    )
    assert calls - len(twilio_api.sent) >= REFUSED_SHARE / 2 * TEXTS  # the fault did strike
    for message in failed:  # refused five times in a row: rare, and never a permanent error
        assert message.attempts == outbox.MAX_ATTEMPTS and message.error_code in ("20429", "20500")
    assert_each_stored_once(deployment, numbers)
    assert deployment.errors() == []


def test_redis_stopped_for_30_seconds_mid_burst_loses_and_duplicates_nothing(
    deployment: Deployment, redis_outage: RedisServer, twilio_api: TwilioApiDouble, figures: Figures
) -> None:
    """Redis dies with half of a burst answered, stays down 30 s while the other half comes
    in, and comes back empty: every job queued in it is gone. The webhooks keep every text
    and the worker keeps sending from the outbox meanwhile."""
    twilio_api.latency = 0.05
    numbers = fictional_numbers(TEXTS)
    texts = [Text.new(number, "hi") for number in numbers]
    half = TEXTS // 2

    before = post_texts(deployment.base_url, texts[:half], IN_FLIGHT)
    redis_outage.kill()
    down_at = time.monotonic()
    during = post_texts(deployment.base_url, texts[half:], IN_FLIGHT)
    sent_while_down = poll(lambda: len(twilio_api.sent) >= TEXTS or None, REDIS_OUTAGE_SECONDS)
    time.sleep(max(0.0, REDIS_OUTAGE_SECONDS - (time.monotonic() - down_at)))  # the outage itself
    replies_while_down = len(twilio_api.sent)
    redis_outage.restart()

    settled = settle(deployment)
    figures(
        texts=TEXTS,
        posted_while_down=len(during),
        answered_2xx=sum(a.status == 200 for a in before + during),
        replies_sent_by_the_end_of_the_outage=replies_while_down,
        worker_done_after_s=settled.after_seconds,
        outbox=settled.outbox,
    )
    assert answered(before + during) == {200: TEXTS}
    assert settled.after_seconds is not None, f"the outbox was not done: {settled.outbox}"
    assert sent_while_down, "the worker stopped sending while Redis was down"
    assert deployment.processes["worker"].running and deployment.processes["web"].running
    took = Counter(sent["to"] for sent in twilio_api.sent)
    assert took == dict.fromkeys(numbers, 1)
    assert all(JOIN_REQUEST in sent["body"] for sent in twilio_api.sent)
    assert_each_stored_once(deployment, numbers)


def test_postgresql_restarted_mid_batch_loses_and_duplicates_nothing(
    deployment_on_own_postgres: Deployment,
    own_postgres: PostgresServer,
    twilio_api: TwilioApiDouble,
    figures: Figures,
    tmp_path: Path,
) -> None:
    """PostgreSQL restarts while the worker has many sends in flight and texts keep coming.
    A text that comes meanwhile waits for the database; one it could not wait for is answered
    503, never 200, and taken once posted again (the same MessageSid). Claims the restart cut off are
    given back at once, not left for their lease to run out; a send Twilio took whose record the
    restart cut off is reconciled, never sent again."""
    deployment = deployment_on_own_postgres
    twilio_api.latency = 0.2
    numbers = fictional_numbers(TEXTS)
    texts = [Text.new(number, "hi") for number in numbers]
    deployment.processes.pop("worker").stop()
    first = post_texts(deployment.base_url, texts[: TEXTS // 2], IN_FLIGHT)
    deployment.start("worker")
    wait_for(lambda: len(twilio_api.sent) >= TEXTS // 8, 60, "the worker to send")

    with ThreadedPosts(deployment.base_url, texts[TEXTS // 2 :]) as rest:
        own_postgres.restart()
    retried = [
        text for text, answer in zip(texts[TEXTS // 2 :], rest.answers, strict=True) if answer.status != 200
    ]
    again = post_texts(deployment.base_url, retried, IN_FLIGHT)  # as Twilio retries, same MessageSid

    wait_for(lambda: twilio_api.in_flight == 0, 30, "the double to answer what it was asked")
    for sent in list(twilio_api.sent):  # Twilio reports on every text it took, recorded or not
        assert post_status(deployment.base_url, sent, "sent").status == 204
    with app_of(deployment, tmp_path) as app:
        # Claims the restart cut short before their call are given back as soon as the database
        # is back, sent after a backoff let pass: well before their two-minute lease runs out.
        wait_for(lambda: nothing_due(app), GIVEN_BACK_WITHIN_SECONDS, "the worker to give back its claims")
        backoffs = let_backoffs_pass(app)
        wait_for(
            lambda: nothing_due(app), GIVEN_BACK_WITHIN_SECONDS, "the worker to send what was given back"
        )
        with app.app_context():
            swept = outbox.sweep(now=utcnow() + outbox.LOST_AFTER + timedelta(minutes=1))
        failed = assert_sent_once_or_failed_with_a_reason(app, twilio_api, numbers)

    worker_log = (deployment.logs / "worker.log").read_text()
    figures(
        texts=TEXTS,
        refused_while_restarting=len(retried),
        sends_cut_short=worker_log.count("could not be sent"),
        claims_given_back=backoffs,
        left_for_the_sweeper=swept["released"] + swept["failed"] + swept["reconciled"],
        reconciled_by_callback=(deployment.logs / "web.log").read_text().count("reconciled as sent"),
        window_opened=len(failed),
    )
    assert answered(first) == {200: TEXTS // 2}
    assert set(answered(rest.answers)) <= {200, 503}, "a webhook got an answer other than 200 or 503"
    assert [answer.status for answer in again] == [200] * len(retried)  # none, when all waited
    assert worker_log.count("could not be sent") > 0, "the restart cut no send short: the fault missed"
    assert swept == {"released": 0, "failed": 0, "reconciled": 0}, "something was left for the sweeper"
    assert all(message.error_code == "worker_lost" for message in failed)
    assert_each_stored_once(deployment, numbers)


def test_texts_that_come_while_postgresql_is_down_wait_for_it_and_are_stored_once(
    deployment_on_own_postgres: Deployment, own_postgres: PostgresServer, figures: Figures
) -> None:
    """PostgreSQL stops with no worker running, and texts keep coming, more at once than the
    web line has threads. Each waits for the database (Twilio waits 15 s for an answer, and does not post
    a text again later when it is refused), and once the database is back, each is answered 200
    and stored once."""
    deployment = deployment_on_own_postgres
    deployment.processes.pop("worker").stop()
    numbers = fictional_numbers(DOWN_TEXTS)
    web_log = deployment.logs / "web.log"
    own_postgres.halt()
    with ThreadedPosts(deployment.base_url, [Text.new(number, "hi") for number in numbers]) as posts:
        wait_for(lambda: web_log.read_text().count("the database is away") >= 2, 30, "texts to wait")
        waiting = web_log.read_text().count("the database is away")
        own_postgres.start_again()

    figures(texts=DOWN_TEXTS, waited_for_the_database=waiting, answered=dict(answered(posts.answers)))
    assert answered(posts.answers) == {200: DOWN_TEXTS}
    assert_each_stored_once(deployment, numbers)
    assert deployment.errors() == []  # waiting for the database is not a fault


ROUND_VOLUNTEERS = 300
NEWCOMERS = 40
STOPPING = 30  # volunteers who say STOP while their round text waits
ROUND_MPS = 20  # the sending number's rate: the round takes some seconds to go


def zone_where_it_is_early_afternoon() -> str:
    """A fixed-offset IANA zone in which it is 13:00 to 13:59 now, inside every calling window."""
    offset = (13 - datetime.now(UTC).hour + 12) % 24 - 12  # -12 to +11 hours from UTC
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC"  # the Etc names' sign is inverted


def on_monotonic_clock(exported: str) -> float:
    """An exported time (UTC, the database's), as time.monotonic() read then in this process."""
    at = datetime.fromisoformat(exported)
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return at.timestamp() - (time.time() - time.monotonic())


def test_a_prompt_round_never_delays_a_reply_and_stops_at_an_opt_out(
    deploy: Deploy, redis_server: RedisServer, twilio_api: TwilioApiDouble, figures: Figures
) -> None:
    """The organizer sends a round to some hundreds of volunteers, paced at ROUND_MPS a second;
    while it goes, newcomers text in, and some of the round's volunteers say STOP. Each
    newcomer's reply goes ahead of the round's texts still waiting, and no round text goes to a
    volunteer after their STOP was answered."""
    with Redis.from_url(redis_server.url) as redis:
        redis.flushall()
    deployment = deploy(redis_server, SMS_SENDER_MPS=str(ROUND_MPS))
    twilio_api.latency = 0.05
    # The zone first: seeded volunteers take the organization's as their own.
    deployment.kindred("org", "set", "--timezone", zone_where_it_is_early_afternoon())
    deployment.kindred("seed-demo", "--volunteers", str(ROUND_VOLUNTEERS))
    count = deployment.kindred("rounds", "preview", "--audience", "all").split()[0]
    deployment.kindred("rounds", "send", "--audience", "all", "--confirm", count)
    queued = [row["address"] for row in deployment.export("messages") if row["reason"] == "prompt_round"]
    stopping = queued[-STOPPING:]  # the round's last: still waiting when they say STOP

    newcomers = fictional_numbers(NEWCOMERS, start=90000)
    texts = [Text.new(number, "hi") for number in newcomers]
    texts += [Text.new(number, "STOP") for number in stopping]
    with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
        posted = list(
            pool.map(lambda text: (post_text(deployment.base_url, text, 15.0), time.monotonic()), texts)
        )
    answers = [answer for answer, _ in posted]
    answered_at = {text.number: at for text, (_, at) in zip(texts, posted, strict=True)}
    settled = settle(deployment)

    messages = deployment.export("messages")
    rows = [row for row in messages if row["reason"] == "prompt_round"]
    took = list(zip(twilio_api.sent, twilio_api.accepted_at, strict=True))
    round_sent = [at for sent, at in took if "Idea for" in sent["body"]]
    replied_at = {sent["to"]: at for sent, at in took if sent["to"] in newcomers}
    # When each newcomer's reply was put in the outbox (after the worker ran the flow), on the
    # test's clock.
    queued_at = {
        row["address"]: on_monotonic_clock(row["created_at"])
        for row in messages
        if row["direction"] == "outbound" and row["address"] in newcomers
    }
    # How many of the round's texts Twilio took between a newcomer's reply being queued and
    # its arrival: those already holding a token or in flight when the reply was queued. From
    # the webhook's answer instead, the count adds the worker's time to run the flow (the round
    # goes on meanwhile), which says how busy the machine is rather than where a reply waits.
    behind = [
        sum(queued_at[n] < at < replied_at[n] for at in round_sent) for n in newcomers if n in replied_at
    ]
    behind_from_answer = [
        sum(answered_at[n] < at < replied_at[n] for at in round_sent) for n in newcomers if n in replied_at
    ]
    # A round text whose request reached Twilio well after the STOP was answered (consent is
    # read right before the call: one read just before the STOP committed may still go).
    after_stop = [
        sent["to"]
        for sent, at in took
        if sent["to"] in stopping
        and at - twilio_api.latency > answered_at[sent["to"]] + 0.5
        and "Idea for" in sent["body"]
    ]
    sent_in_time = [at for _, at in took]
    figures(
        texts_a_second=round(len(sent_in_time) / (took[-1][1] - took[0][1]), 1),
        round_texts=len(rows),
        round_sent=sum(row["status"] == "sent" for row in rows),
        round_suppressed=sum(row["status"] == "suppressed" for row in rows),
        newcomers=NEWCOMERS,
        most_round_texts_sent_ahead_of_a_reply=max(behind, default=None),
        most_round_texts_sent_after_the_answer=max(behind_from_answer, default=None),
        round_texts_left_when_the_last_reply_went=sum(at > max(replied_at.values()) for at in round_sent),
        round_texts_after_stop=len(after_stop),
        worker_done_after_s=settled.after_seconds,
    )
    assert int(count) >= ROUND_VOLUNTEERS // 3, "too few in the round to matter"
    assert answered(answers) == {200: len(texts)}
    assert settled.after_seconds is not None, f"the outbox was not done: {settled.outbox}"
    assert Counter(sent["to"] for sent in twilio_api.sent if sent["to"] in newcomers) == dict.fromkeys(
        newcomers, 1
    )
    # Once queued, a reply waits at most for the round texts already holding a place at the
    # sender's rate (half a second's worth) and those in flight: a second and a half's worth, not
    # the rest of the round. On SQLite, up to four: the reply's claim waits its turn to write
    # behind the sending threads' writes.
    most = ROUND_MPS * (4 if deployment.env["DATABASE_URL"].startswith("sqlite") else 1.5)
    assert max(behind) <= most, f"a queued reply waited behind {max(behind)} of the round's texts"
    # From the webhook's answer, the worker's turn comes first, on a machine the round keeps
    # busy: up to five seconds' worth, still far from the rest of the round (143 to 158 when
    # replies took no place ahead).
    assert max(behind_from_answer) <= ROUND_MPS * 5, (
        f"a reply went behind {max(behind_from_answer)} of the round's texts after its text was answered"
    )
    assert len(sent_in_time) / (took[-1][1] - took[0][1]) <= ROUND_MPS * 1.05, (
        "the sender's rate was exceeded"
    )
    assert after_stop == [], "a round text went after its volunteer's STOP was answered"
    assert all(row["status"] in ("sent", "suppressed") for row in rows)
    assert deployment.errors() == []
