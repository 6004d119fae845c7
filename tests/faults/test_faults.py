"""Nothing accepted is lost, and nothing is sent twice, when the parts around the gateway fail
(DESIGN invariant 7): Redis dies, a worker dies mid-send, the provider hangs up after taking a
message, the database goes away."""

from __future__ import annotations

import logging
import re
import socket
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from gateway import create_app, jobs, postgres
from gateway.delivery import outbox
from gateway.delivery.addresses import mark_undeliverable
from gateway.extensions import db
from gateway.models import Message, utcnow
from tests.conftest import app_config
from tests.doubles.servers import PostgresServer, RedisServer
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import KINDRED_NUMBER, Phone, SettableClock, opted_out, person_of, signed_post

THANKS = "Thanks, Sam."


def messages(direction: str) -> list[Message]:
    """Every message one way, oldest first, as the requests and the worker left them."""
    db.session.rollback()
    return list(
        db.session.scalars(select(Message).where(Message.direction == direction).order_by(Message.id))
    )


def join(phone: Phone) -> None:
    phone.send("hi")
    phone.send("yes")


def sweep_after(delay: timedelta) -> dict[str, int]:
    """Run the sweeper as if `delay` had passed."""
    return outbox.sweep(now=utcnow() + delay)


def thanks_received(phone: Phone) -> int:
    return sum(reply.startswith(THANKS) for reply in phone.replies())


@pytest.mark.parametrize("lost_after_post", [False, True], ids=["down", "lost its queue"])
def test_a_text_that_arrives_while_redis_is_down_is_kept_and_answered_once(
    phone: Phone, redis_outage: RedisServer, lost_after_post: bool
) -> None:
    join(phone)
    if not lost_after_post:
        redis_outage.kill()
    response = phone.post("Sam")
    if lost_after_post:
        redis_outage.kill()  # the job was queued, then Redis died and forgot it

    assert response.status_code == 200
    assert messages("inbound")[-1].body == "Sam"
    phone.worker.answer()  # its turn needs no Redis either
    reply = messages("outbound")[-1]
    assert (reply.status, reply.body[: len(THANKS)]) == ("queued", THANKS)

    redis_outage.restart()  # empty: whatever was queued is gone
    phone.worker.run()  # the senders claim it from the outbox itself: Redis only wakes them
    assert thanks_received(phone) == 1
    assert messages("outbound")[-1].status == "sent"

    sweep_after(timedelta(minutes=30))  # later sweeps find nothing to send again
    phone.worker.run()
    assert thanks_received(phone) == 1


def left_sending_by_a_lost_worker(phone: Phone, called: bool) -> Message:
    """A first text whose reply a worker claimed (and, if `called`, called the provider for)
    before it died: the row is left as the worker left it. (Arranged directly: the worker is
    the thing that is gone.)"""
    assert phone.post("hi").status_code == 200
    phone.worker.answer()
    reply = messages("outbound")[-1]
    now = utcnow()
    db.session.execute(
        update(Message)
        .where(Message.id == reply.id)
        .values(status="sending", attempts=1, called_at=now if called else None, updated_at=now)
    )
    db.session.commit()
    return reply


def test_a_message_a_lost_worker_was_sending_is_marked_failed_never_resent(
    phone: Phone, twilio_api: TwilioApiDouble
) -> None:
    # A worker claimed the reply, called the provider and died before the call returned.
    left_sending_by_a_lost_worker(phone, called=True)

    phone.worker.run()  # the senders leave a claimed row alone
    assert sweep_after(outbox.LOST_AFTER - timedelta(minutes=1)) == {
        "released": 0,
        "failed": 0,
        "reconciled": 0,
    }
    assert messages("outbound")[-1].status == "sending"

    assert sweep_after(outbox.LOST_AFTER + timedelta(minutes=1)) == {
        "released": 0,
        "failed": 1,
        "reconciled": 0,
    }
    lost = messages("outbound")[-1]
    assert (lost.status, lost.error_code) == ("failed", "worker_lost")
    assert [(e.status, e.error_code) for e in lost.history] == [
        ("queued", None),
        ("failed", "worker_lost"),
    ]

    sweep_after(timedelta(hours=1))
    phone.worker.run()
    assert twilio_api.received == []


def test_a_message_a_lost_worker_claimed_but_never_sent_goes_once_its_claim_runs_out(
    phone: Phone, twilio_api: TwilioApiDouble
) -> None:
    # A worker claimed the reply and died before calling the provider.
    left_sending_by_a_lost_worker(phone, called=False)

    phone.worker.run()
    assert sweep_after(outbox.CLAIM_LEASE - timedelta(seconds=30))["released"] == 0
    assert twilio_api.received == []
    assert sweep_after(outbox.CLAIM_LEASE + timedelta(seconds=30))["released"] == 1
    phone.worker.run()
    sent = messages("outbound")[-1]
    assert (sent.status, sent.attempts) == ("sent", 2)  # the lost claim counts as a try
    assert len(twilio_api.sent) == 1

    # A worker that stalled past its claim finds the message claimed again, and leaves it to
    # the worker that has it: it neither sends it nor writes to it, before that one sends or after.
    address = sent.address
    outbox.queue_sms(address, "A second reply", "reply")
    db.session.commit()
    (stalled,) = outbox.claim_due(10)
    assert sweep_after(outbox.CLAIM_LEASE + timedelta(seconds=30))["released"] == 1
    (current,) = outbox.claim_due(10)
    assert current.message_id == stalled.message_id and current.attempt > stalled.attempt
    mark_undeliverable(address)  # what the stalled one reads now would suppress it...
    db.session.commit()
    assert outbox.send_claimed(stalled) == "taken"
    assert messages("outbound")[-1].status == "sending"  # ...but the claim is not its to end
    address.undeliverable_since = None
    db.session.commit()
    assert outbox.send_claimed(current) == "sent"
    assert outbox.send_claimed(stalled) == "taken"
    assert [m["body"] for m in twilio_api.sent][-1] == "A second reply"
    assert len(twilio_api.sent) == 2


@pytest.mark.parametrize("called", [False, True], ids=["before the call", "after the call was noted"])
def test_a_claim_an_error_cut_short_is_given_back_only_if_its_call_was_never_noted(
    phone: Phone, twilio_api: TwilioApiDouble, clock: SettableClock, called: bool
) -> None:
    # The sending thread's database went away mid-send, and came back.
    reply = left_sending_by_a_lost_worker(phone, called=called)

    assert outbox.release(outbox.Claim(reply.id, attempt=2)) is False  # not this claim: someone else's try
    assert outbox.release(outbox.Claim(reply.id, attempt=1)) is not called

    given_back = messages("outbound")[-1]
    assert (given_back.status, given_back.attempts) == ("sending" if called else "queued", 1)
    if called:  # it may have gone: only its callback, or the sweeper, can settle it
        assert sweep_after(outbox.LOST_AFTER + timedelta(minutes=1))["failed"] == 1
    else:  # nobody sent it: it goes after its backoff, not its lease
        assert given_back.next_attempt_at is not None
        sweep_after(outbox.CLAIM_LEASE + timedelta(minutes=1))
        assert messages("outbound")[-1].status == "queued"
        phone.worker.run()
        assert twilio_api.sent == []  # its backoff first
        clock.advance(timedelta(seconds=outbox.RETRY_DELAYS[0]))
        phone.worker.run()
    assert len(twilio_api.sent) == (0 if called else 1)


def test_a_claim_that_fails_before_calling_the_provider_every_time_ends_failed_not_looping(
    phone: Phone, twilio_api: TwilioApiDouble
) -> None:
    assert phone.post("hi").status_code == 200
    phone.worker.answer()
    reply = messages("outbound")[-1]
    for _ in range(outbox.MAX_ATTEMPTS):
        assert outbox.claim_due(10)  # claimed, and the worker dies before the call each time
        sweep_after(outbox.CLAIM_LEASE + timedelta(seconds=30))
    failed = messages("outbound")[-1]
    assert (failed.id, failed.status, failed.error_code) == (reply.id, "failed", "send_failed")
    assert twilio_api.received == []


def test_the_provider_hanging_up_after_taking_a_message_is_retried_at_most_once(
    phone: Phone, twilio_api: TwilioApiDouble, clock: SettableClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Twilio took the text but the answer never came back. The worker cannot know it went out,
    so it treats it like any passing error: the message goes back to `queued` (no crash, no
    provider id) and is sent once more on the next try. The volunteer may get the text twice;
    never more, and never zero times. The log says what failed, by its kind."""
    join(phone)
    twilio_api.drop_response_next()
    with caplog.at_level(logging.WARNING, logger="gateway"):
        phone.send("Sam")

    assert thanks_received(phone) == 1  # it went out, though we were not told
    [line] = [record.getMessage() for record in caplog.records if "not sent" in record.getMessage()]
    assert re.search(r"not sent \(code None, retry, attempt 1, \w+Error\)$", line), line
    assert phone.number not in line
    waiting = messages("outbound")[-1]
    assert (waiting.status, waiting.provider_id, waiting.attempts) == ("queued", None, 1)

    for minutes in (5, 30, 120):
        clock.advance(timedelta(minutes=minutes))
        sweep_after(timedelta(0))
        phone.worker.run()
    assert thanks_received(phone) == 2  # one further send, not more
    sent = messages("outbound")[-1]
    assert (sent.status, sent.attempts) == ("sent", 2)
    assert sent.provider_id == twilio_api.sent[-1]["sid"]


def test_healthz_answers_503_while_redis_is_down(client: FlaskClient, redis_outage: RedisServer) -> None:
    assert client.get("/healthz").status_code == 200
    redis_outage.kill()
    down = client.get("/healthz")
    assert down.status_code == 503
    assert down.get_json() == {"status": "unavailable", "database": "ok", "redis": "unavailable"}
    redis_outage.restart()
    assert client.get("/healthz").status_code == 200


@pytest.mark.postgres
def test_healthz_answers_503_and_texts_are_not_acknowledged_while_the_database_is_down(
    app_on_own_postgres: Flask, own_postgres: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = app_on_own_postgres.test_client()
    assert client.get("/healthz").status_code == 200
    own_postgres.stop()

    down = client.get("/healthz")
    assert down.status_code == 503
    assert down.get_json()["database"] == "unavailable"
    # A text that cannot be stored (the database still away once it has waited for it) is not
    # acknowledged, so Twilio does not count it delivered: an outage that passes (503, try
    # again), logged with its traceback.
    form = {"MessageSid": "SM" + "1" * 32, "From": "+15558675309", "To": KINDRED_NUMBER, "Body": "hi"}
    with caplog.at_level(logging.ERROR, logger="gateway"):
        refused = signed_post(client, "/webhooks/twilio/sms", form)
    assert (refused.status_code, refused.headers["Retry-After"]) == (503, "5")
    assert refused.get_json()["error"] == "Service Unavailable"
    assert any(record.exc_info for record in caplog.records), "the outage was not logged with its traceback"


TWILIO_WAITS_SECONDS = 15.0  # for the answer to a webhook, before it counts the post failed


def test_a_database_that_takes_connections_and_never_answers_gets_a_text_its_503_in_time(
    redis_server: RedisServer, twilio_api: TwilioApiDouble, tmp_path: Path
) -> None:
    """The database's host takes the connection and then says nothing (a cut network, a host
    that has hung): opening a connection gives up after a few seconds, so the webhook answers
    503, having waited for the database, within the 15 s Twilio waits, rather than holding the
    request for as long as TCP would."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # the kernel takes each connection; nobody ever answers on it
        url = f"postgresql+psycopg://kindred@127.0.0.1:{silent.getsockname()[1]}/kindred"
        app = create_app(app_config(url, redis_server.url, twilio_api.base_url, tmp_path))
        form = {"MessageSid": "SM" + "2" * 32, "From": "+15558675309", "To": KINDRED_NUMBER, "Body": "hi"}
        answers: list[int] = []
        client = app.test_client()
        posting = threading.Thread(
            target=lambda: answers.append(signed_post(client, "/webhooks/twilio/sms", form).status_code),
            daemon=True,
        )
        posting.start()
        posting.join(TWILIO_WAITS_SECONDS)
        assert answers == [503], "the webhook held the text past Twilio's wait"
        with app.app_context():
            db.engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("idle_ping_seconds", [3600.0, 0.0], ids=["closed-socket-seen", "idle-pinged"])
def test_a_request_after_the_database_restarted_gets_a_fresh_connection(
    app_on_own_postgres: Flask,
    own_postgres: PostgresServer,
    idle_ping_seconds: float,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A restart closes every pooled connection. The next request finds its connection closed
    and takes a new one, whether it was used a moment ago (the server's closing is seen on the
    socket, without a round trip) or has sat idle (a ping)."""
    monkeypatch.setattr(postgres, "IDLE_PING_SECONDS", idle_ping_seconds)
    if idle_ping_seconds == 0:  # the idle rule alone: as if the server's closing never showed
        monkeypatch.setattr(postgres, "_written_to", lambda _connection, _errors: False)
    client = app_on_own_postgres.test_client()
    assert client.get("/healthz").status_code == 200  # its connection goes back to the pool
    own_postgres.restart()
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok", "redis": "ok"}


STOP_CONFIRMATION = "You're unsubscribed"


def stored_but_never_answered(phone: Phone, body: str) -> str:
    """A text the webhook stored, whose turn never finished (the worker answering it died, and
    its transaction went with it): the row as the webhook left it (arranged directly: the
    worker is the thing that is gone). Returns its MessageSid."""
    sid = "SM" + uuid.uuid4().hex
    address = person_of(phone).addresses[0]
    db.session.add(
        Message(
            organization_id=address.organization_id,
            direction="inbound",
            channel="sms",
            address_id=address.id,
            body=body,
            provider_id=sid,
            status="received",
        )
    )
    db.session.commit()
    return sid


def confirmations(phone: Phone) -> int:
    return sum(STOP_CONFIRMATION in reply for reply in phone.replies())


def test_a_stop_stored_but_never_answered_is_honoured_when_twilio_sends_it_again(phone: Phone) -> None:
    join(phone)
    sid = stored_but_never_answered(phone, "STOP")
    assert not opted_out(phone)

    for _ in range(2):  # Twilio's retry, then another: a no-op each; the next worker answers once
        assert phone.post("STOP", sid=sid).status_code == 200
        phone.worker.run()
    assert opted_out(phone)
    assert confirmations(phone) == 1


def test_a_stop_stored_but_never_answered_is_honoured_by_the_sweeper_when_nobody_sends_it_again(
    phone: Phone, clock: SettableClock
) -> None:
    """The sweeper answers a text left unanswered for two minutes (a worker whose senders
    stopped), as the senders would: once."""
    join(phone)
    phone.send("Sam")  # answered by the worker: the sweeper leaves it alone
    replies = len(phone.replies())
    stored_but_never_answered(phone, "STOP")

    jobs.sweep_outbox()  # the senders may still be answering it: not yet
    assert not opted_out(phone)
    clock.advance(timedelta(minutes=3))
    jobs.sweep_outbox()
    phone.worker.run()
    assert opted_out(phone)
    assert phone.replies()[replies:] == [phone.replies()[-1]] and confirmations(phone) == 1

    jobs.sweep_outbox()  # answered once, for good
    phone.worker.run()
    assert confirmations(phone) == 1
