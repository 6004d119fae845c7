"""Flood protection per sender number: a number texting more than 60 times a minute has every
text kept, but the ones past the limit get no answer and run no flows (an opt-out among them
still counts); other numbers are answered as ever, and the number is answered again once its
rate drops. If Redis cannot count, texts are answered as usual."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from flows.events import Consent
from gateway import create_app
from gateway.delivery import consent
from gateway.delivery.outbox import REPLY_LIMIT
from gateway.extensions import db
from gateway.models import Address, ConsentEvent, Message
from gateway.sms import inbound
from gateway.sms.flood import FLOOD_LIMIT
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import KINDRED_NUMBER, Phone, SettableClock, Worker, signed_post

NOON = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # noon in New York
WELCOME = "Welcome! What's your first name?"


def messages(direction: str, number: str | None = None) -> list[Message]:
    db.session.rollback()  # see what the requests committed
    query = select(Message).join(Address).where(Message.direction == direction).order_by(Message.id)
    if number is not None:
        query = query.where(Address.value == number)
    return list(db.session.scalars(query))


def flood(phone: Phone, count: int, body: str = "hi") -> None:
    for _ in range(count):
        assert phone.post(body).status_code == 200
    phone.worker.answer()


def text(phone: Phone, body: str) -> None:
    """One text, answered by the worker (its reply not sent)."""
    assert phone.post(body).status_code == 200
    phone.worker.answer()


@pytest.fixture(autouse=True)
def at_noon(clock: SettableClock) -> None:
    clock.set(NOON)


def test_200_texts_in_a_minute_are_all_kept_and_answered_at_most_60_times(
    phone: Phone,
    twilio_api: TwilioApiDouble,
    worker: Worker,
    clock: SettableClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="gateway.sms.flood")
    neighbour = Phone(phone.client, twilio_api, worker, "+15558675310")
    for second in range(200):
        clock.set(NOON + timedelta(seconds=second * 0.3))  # all within one minute
        assert phone.post("hi").status_code == 200
        if second == 100:
            assert neighbour.post("hi").status_code == 200  # texting at the same time
    worker.run()

    assert len(messages("inbound", phone.number)) == 200  # nothing accepted is lost
    answers = messages("outbound", phone.number)
    assert len(answers) == FLOOD_LIMIT  # only the first 60 ran the flows and were answered
    # ...and of those, the reply budget (30 an hour to one number) lets the first 30 go.
    assert len(phone.replies()) == REPLY_LIMIT == 30
    assert [m.status for m in answers].count("suppressed") == FLOOD_LIMIT - REPLY_LIMIT
    assert len(neighbour.replies()) == 1
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "gateway.sms.flood"]  # once
    assert "more than 60 texts in 60 s" in warning
    assert phone.number not in warning and phone.number[2:] not in warning


def test_texts_past_the_limit_run_no_flows_until_the_rate_drops(phone: Phone, clock: SettableClock) -> None:
    flood(phone, FLOOD_LIMIT)  # each answered with the terms
    text(phone, "YES")  # the 61st within the minute: kept, not read
    (address,) = db.session.scalars(select(Address).where(Address.value == phone.number))
    assert consent.status(address) is Consent.UNKNOWN
    assert messages("inbound", phone.number)[-1].body == "YES"

    clock.advance(timedelta(seconds=59))  # the window slides: still 60 texts in the last minute
    text(phone, "YES")
    assert consent.status(address) is Consent.UNKNOWN
    assert len(messages("outbound", phone.number)) == FLOOD_LIMIT

    clock.advance(timedelta(seconds=2))  # a minute after the first 60: read and answered again
    text(phone, "YES")
    assert consent.status(address) is Consent.OPTED_IN
    assert messages("outbound", phone.number)[-1].body == WELCOME


def test_a_stop_in_a_flood_is_recorded_at_once_and_not_answered(phone: Phone) -> None:
    flood(phone, FLOOD_LIMIT)
    assert phone.post("STOP").status_code == 200  # recorded by the webhook, at once
    (address,) = db.session.scalars(select(Address).where(Address.value == phone.number))
    db.session.rollback()
    assert consent.status(address) is Consent.OPTED_OUT
    (stop,) = db.session.scalars(select(ConsentEvent).where(ConsentEvent.address_id == address.id))
    assert (stop.kind, stop.evidence_message_id) == ("opt_out", messages("inbound", phone.number)[-1].id)
    assert len(messages("outbound", phone.number)) == FLOOD_LIMIT  # no confirmation for it


def test_if_redis_cannot_count_texts_are_answered_as_usual(
    app: Flask,
    tmp_path,
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    settings = {k: v for k, v in app.config.items() if k.isupper() and isinstance(v, str | int)}
    no_redis = create_app({**settings, "REDIS_URL": "redis://127.0.0.1:1/0", "INSTANCE_PATH": str(tmp_path)})
    client = no_redis.test_client()
    caplog.set_level(logging.WARNING, logger="gateway.sms.flood")
    with no_redis.app_context():
        for i in range(FLOOD_LIMIT + 1):
            form = {"MessageSid": f"SM{i:032d}", "From": "+15558675309", "To": KINDRED_NUMBER, "Body": "hi"}
            assert signed_post(client, "/webhooks/twilio/sms", form).status_code == 200
        inbound.answer_waiting()
        assert len(messages("outbound")) == FLOOD_LIMIT + 1  # every one answered (queued for the sweeper)
        db.session.remove()
    assert "could not count texts from" in caplog.text


def test_the_flood_counter_names_neither_the_number_nor_a_digest_kept_in_the_database(
    app: Flask, phone: Phone
) -> None:
    from gateway.delivery.addresses import digests
    from gateway.extensions import redis_client
    from gateway.keys import secrets

    flood(phone, 3)
    names = [key.decode() for key in redis_client().keys("kindred:flood:*")]
    assert len(names) == 1
    stored_digests = digests(phone.number, secrets(app.config))  # as friends' and erased contacts are kept
    assert phone.number.lstrip("+") not in names[0]
    assert not any(kept in names[0] for kept in stored_digests)
