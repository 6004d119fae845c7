"""One worker sends many texts at once (issue 10), as deployed (the Procfile's web and worker
lines, a real Redis, SQLite and PostgreSQL), to a Twilio double that takes a tenth of a second
to answer each send: several sends are in flight at once, yet each person's texts arrive in
the order they were written, each exactly once, and a person who says STOP while their texts
wait in the outbox gets none of them, only the confirmation."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

from gateway import create_app
from gateway.delivery import outbox
from gateway.extensions import db
from gateway.models import utcnow
from tests.concurrency.conftest import Figures
from tests.concurrency.test_burst import settle
from tests.conftest import app_config
from tests.doubles.twilio_api import TwilioApiDouble
from tests.processes import Deployment, Text, fictional_numbers, poll, post_status, post_texts, wait_for

PEOPLE = 40
STOPPING = 4  # of them say STOP before the worker gets to their texts
IN_FLIGHT = 16
JOIN_REQUEST = "Reply YES"
WELCOME = "Welcome! What's your first name?"
STOP_CONFIRMATION = "unsubscribed"
KILLED_BATCH = 120
KILL_AFTER = 40  # texts Twilio has taken when the worker is killed
SEND_CONCURRENCY = 64  # the worker's default


def test_one_worker_sends_many_at_once_each_persons_in_order_and_none_after_stop(
    deployment: Deployment, twilio_api: TwilioApiDouble
) -> None:
    deployment.processes.pop("worker").stop()  # texts pile up in the outbox meanwhile
    twilio_api.latency = 0.1
    numbers = fictional_numbers(PEOPLE)
    stopping = set(numbers[:STOPPING])
    for body in ("hi", "yes"):
        answers = post_texts(deployment.base_url, [Text.new(number, body) for number in numbers], IN_FLIGHT)
        assert Counter(answer.status for answer in answers) == {200: PEOPLE}
    answers = post_texts(deployment.base_url, [Text.new(number, "STOP") for number in stopping], IN_FLIGHT)
    assert Counter(answer.status for answer in answers) == {200: STOPPING}

    deployment.start("worker")
    settled = settle(deployment)

    assert settled.after_seconds is not None, f"the outbox was not done: {settled.outbox}"
    received: dict[str, list[str]] = {}
    for sent in twilio_api.sent:
        received.setdefault(sent["to"], []).append(sent["body"])
    for number in numbers:
        texts = received.get(number, [])
        if number in stopping:
            assert len(texts) == 1 and STOP_CONFIRMATION in texts[0], "a text went after STOP"
        else:
            assert len(texts) == 2 and JOIN_REQUEST in texts[0] and texts[1] == WELCOME, (
                "a person's texts came out of order, twice or not at all"
            )
    assert twilio_api.most_in_flight > 1  # several at once, not one after another
    assert deployment.errors() == []


def outbound(deployment: Deployment) -> list[dict[str, str]]:
    return [row for row in deployment.export("messages") if row["direction"] == "outbound"]


def test_a_worker_killed_mid_batch_sends_nothing_twice_and_leaves_nothing_unaccounted(
    deployment: Deployment, twilio_api: TwilioApiDouble, figures: Figures, tmp_path: Path
) -> None:
    """kill -9 with many sends in flight. Twilio calls back for every text it took, whoever
    sent it. The sweeper, once the dead worker's claims have run out, queues again what it
    claimed but never handed to Twilio, and the next worker sends it. The one window no worker
    can close: a send noted as calling Twilio, and the worker killed before Twilio had it.
    Nobody can know whether it went, so it is never sent again and ends `failed`
    (worker_lost): how often that happens is counted here."""
    deployment.processes.pop("worker").stop()
    twilio_api.latency = 0.2
    numbers = fictional_numbers(KILLED_BATCH)
    answers = post_texts(deployment.base_url, [Text.new(number, "hi") for number in numbers], IN_FLIGHT)
    assert Counter(answer.status for answer in answers) == {200: KILLED_BATCH}

    deployment.start("worker")
    wait_for(lambda: len(twilio_api.sent) >= KILL_AFTER, 120, "the worker to send")
    deployment.processes.pop("worker").kill()
    in_flight = twilio_api.in_flight
    stranded = [row for row in deployment.export("messages") if row["status"] == "sending"]
    wait_for(lambda: twilio_api.in_flight == 0, 10, "the double to answer what it was asked")
    for sent in list(twilio_api.sent):
        assert post_status(deployment.base_url, sent, "sent").status == 204
    app = create_app(app_config(deployment.env["DATABASE_URL"], deployment.env["REDIS_URL"], "", tmp_path))
    with app.app_context():
        swept = outbox.sweep(now=utcnow() + outbox.LOST_AFTER + timedelta(minutes=1))
        db.engine.dispose()

    deployment.start("worker")
    # Not `settle`: a job the killed worker was running stays in RQ's registry of started jobs
    # until RQ gives up on it, so the worker never looks idle to RQ meanwhile.
    done = poll(lambda: not any(row["status"] in ("queued", "sending") for row in outbound(deployment)), 120)

    rows = outbound(deployment)
    took = Counter(sent["to"] for sent in twilio_api.sent)
    lost = [row for row in rows if row["status"] == "failed"]
    figures(
        texts=KILLED_BATCH,
        claimed_at_kill=len(stranded),
        provider_calls_in_flight_at_kill=in_flight,
        claims_queued_again=swept["released"],
        window_opened=len(lost),
        sent_twice=sum(count > 1 for count in took.values()),
    )
    assert done, f"the outbox was not done: {Counter(row['status'] for row in rows)}"
    assert len(rows) == KILLED_BATCH
    assert max(took.values()) == 1, "a text was sent twice"
    for row in rows:
        # Sent once (the callback reconciled those the dead worker never recorded), or failed
        # with a reason: never left queued or sending.
        assert row["status"] in ("sent", "failed"), row["status"]
        assert (row["status"] == "sent") == (row["address"] in took)
    assert len(lost) <= in_flight + SEND_CONCURRENCY
    assert deployment.errors() == []
