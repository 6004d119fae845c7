"""A send is never silently stranded: when the provider took a message but recording that
failed, the message is not reported as sent (the sender logs the error), and it is reconciled
from what is known (the status callback or email event naming it, or the provider id the
worker kept in Redis); one that truly cannot be known is marked failed with a reason an organizer can read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select

from gateway.delivery import outbox
from gateway.delivery.status import OUTBOX_REASONS
from gateway.extensions import db, redis_client
from gateway.models import Message, utcnow
from tests.doubles.sendgrid_api import EventSigner, SendGridApiDouble
from tests.doubles.twilio_api import SentMessage, TwilioApiDouble
from tests.support import Phone, SettableClock, Worker, email_member, signed_post

HISTORY = "message_status_event"


@pytest.fixture
def broken_history(app: Flask) -> Iterator[dict[str, bool]]:
    """A switch that takes the delivery-history table away from the database (from another
    connection, as an outage or a failed disk would) and brings it back when the test ends."""
    engine = create_engine(app.config["DATABASE_URL"])
    state = {"broken": False}

    def rename(old: str, new: str) -> None:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"ALTER TABLE {old} RENAME TO {new}")

    state["break"] = lambda _sent=None: (rename(HISTORY, "history_away"), state.update(broken=True))  # type: ignore[assignment]
    state["mend"] = lambda: (rename("history_away", HISTORY), state.update(broken=False))  # type: ignore[assignment]
    try:
        yield state
    finally:
        if state["broken"]:
            state["mend"]()  # type: ignore[operator]
        engine.dispose()


def the_reply() -> Message:
    db.session.rollback()
    return db.session.scalars(select(Message).where(Message.direction == "outbound")).one()


def sent_but_not_recorded(phone: Phone, twilio_api: TwilioApiDouble, broken: dict) -> SentMessage:
    """A first text whose reply the provider takes just as the database stops taking writes."""
    assert phone.post("hi").status_code == 200
    twilio_api.on_next_accept(broken["break"])
    phone.worker.run()
    (sent,) = twilio_api.sent
    assert "Reply YES to join" in sent["body"]
    broken["mend"]()
    reply = the_reply()
    assert (reply.status, reply.provider_id) == ("sending", None)  # not reported sent, nor failed
    return sent


def test_its_status_callback_reconciles_it(
    phone: Phone, twilio_api: TwilioApiDouble, broken_history: dict, client: FlaskClient
) -> None:
    sent = sent_but_not_recorded(phone, twilio_api, broken_history)

    callback = urlsplit(sent["status_callback"] or "")
    form = {"MessageSid": sent["sid"], "MessageStatus": "delivered", "AccountSid": twilio_api.account_sid}
    assert signed_post(client, f"{callback.path}?{callback.query}", form).status_code == 204

    reply = the_reply()
    assert (reply.status, reply.provider_id) == ("delivered", sent["sid"])
    assert [event.status for event in reply.history] == ["queued", "sent", "delivered"]
    assert outbox.sweep(now=utcnow() + outbox.LOST_AFTER * 2)["failed"] == 0
    assert len(twilio_api.sent) == 1


def test_the_provider_id_the_worker_kept_reconciles_it(
    phone: Phone, twilio_api: TwilioApiDouble, broken_history: dict
) -> None:
    sent = sent_but_not_recorded(phone, twilio_api, broken_history)

    assert outbox.sweep()["reconciled"] == 1

    reply = the_reply()
    assert (reply.status, reply.provider_id) == ("sent", sent["sid"])
    assert outbox.sweep(now=utcnow() + outbox.LOST_AFTER * 2) == {"released": 0, "failed": 0, "reconciled": 0}
    phone.worker.run()
    assert len(twilio_api.sent) == 1  # its retry finds nothing left to do


def test_its_retry_reconciles_it(phone: Phone, twilio_api: TwilioApiDouble, broken_history: dict) -> None:
    sent = sent_but_not_recorded(phone, twilio_api, broken_history)

    assert outbox.send_queued_message(the_reply().id) == "sent"  # a stray job for it

    assert (the_reply().status, the_reply().provider_id) == ("sent", sent["sid"])
    assert len(twilio_api.sent) == 1


def test_one_that_cannot_be_known_is_failed_with_a_readable_reason(
    phone: Phone, twilio_api: TwilioApiDouble, broken_history: dict
) -> None:
    sent_but_not_recorded(phone, twilio_api, broken_history)
    redis_client().flushdb()  # and Redis lost what the worker kept

    assert outbox.sweep(now=utcnow() + outbox.LOST_AFTER - timedelta(minutes=1))["failed"] == 0
    assert outbox.sweep(now=utcnow() + outbox.LOST_AFTER + timedelta(minutes=1))["failed"] == 1

    reply = the_reply()
    assert (reply.status, reply.error_code) == ("failed", "worker_lost")
    assert "may or may not have reached the phone" in OUTBOX_REASONS[reply.error_code]
    phone.worker.run()
    assert len(twilio_api.sent) == 1


def test_an_email_event_naming_it_reconciles_it(
    app: Flask,
    worker: Worker,
    sendgrid_api: SendGridApiDouble,
    event_signer: EventSigner,
    broken_history: dict,
    client: FlaskClient,
    clock: SettableClock,
) -> None:
    clock.set(datetime(2026, 11, 24, 17, 0, tzinfo=UTC))  # noon in New York: a mailing goes at once
    message_id = outbox.queue_email(email_member(), "Forum Thursday", "Come.", "mailing").id
    db.session.commit()
    sendgrid_api.on_next_accept(broken_history["break"])
    worker.run()
    broken_history["mend"]()
    db.session.rollback()
    stranded = db.session.get(Message, message_id)
    assert stranded is not None and (stranded.status, stranded.provider_id) == ("sending", None)
    redis_client().flushdb()  # what the worker kept is gone too: only SendGrid's event can tell

    (mail,) = sendgrid_api.sent
    delivered = {
        "email": "sam@example.org",
        "event": "delivered",
        "sg_event_id": "c2VuZGdyaWQtZXZlbnQtMQ",
        "sg_message_id": f"{mail.message_id}.filterdrecv-5b5f9c9ff-2x7kq-1-6565B3F1-23.0",
        "kindred_message_id": str(message_id),
        "timestamp": int(clock().timestamp()),
    }
    body = json.dumps([delivered]).encode()
    headers = event_signer.headers(body, int(clock().timestamp()))
    assert client.post("/webhooks/sendgrid/events", data=body, headers=headers).status_code == 204

    db.session.rollback()
    reconciled = db.session.get(Message, message_id)
    assert reconciled is not None
    assert (reconciled.status, reconciled.provider_id) == ("delivered", mail.message_id)
    assert [event.status for event in reconciled.history] == ["queued", "sent", "delivered"]
    assert outbox.sweep(now=clock() + outbox.LOST_AFTER * 2)["failed"] == 0
    assert outbox.send_queued_message(message_id) == "delivered"  # what its retry runs
    assert len(sendgrid_api.sent) == 1
