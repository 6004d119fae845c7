"""How fast each sending number texts, and in what order (issue 10): a token bucket per sender
in the real Redis, shared by every worker, at SMS_SENDER_MPS. A text whose sender has no token
left waits in the queue for its turn rather than going early; another number's texts go
meanwhile; a sender Twilio says is over its rate is held back; and replies go before the
messages Kindred starts, even those queued ahead of them. Whether a long run keeps within 5% of the rate is
measured by bench/outbox_throughput.py, not here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway import clock
from gateway.community import organization
from gateway.delivery import outbox, rate
from gateway.extensions import db, redis_client
from gateway.jobs import send_message
from gateway.models import Address, Message
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import KINDRED_NUMBER, Phone, SettableClock, Worker

WESTSIDE = "+15550100200"
ONE_IN_TEN_SECONDS = 0.1


def outbound() -> list[Message]:
    db.session.rollback()
    return list(
        db.session.scalars(select(Message).where(Message.direction == "outbound").order_by(Message.id))
    )


def test_a_bucket_holds_a_tenth_of_a_second_each_text_keeps_its_place_and_each_sender_has_its_own(
    app: Flask,
) -> None:
    redis = redis_client()
    assert [rate.take(redis, "+15550001111", 20.0, ticket) for ticket in ("1", "2")] == [0.0, 0.0]
    third = rate.take(redis, "+15550001111", 20.0, "3")
    assert 0 < third <= 0.05  # the next token, a twentieth of a second away at most
    fourth = rate.take(redis, "+15550001111", 20.0, "4")
    assert third < fourth <= 0.1  # behind the third: its token is the one after
    assert rate.take(redis, "+15550001111", 20.0, "3") <= third  # asking again takes no other
    assert rate.take(redis, "+15550002222", 20.0, "5") == 0.0  # another number is not slowed
    rate.throttle(redis, "+15550002222", 20.0)
    assert 1.0 <= rate.take(redis, "+15550002222", 20.0, "6") <= 1.1  # held back for a second


def test_the_rate_holds_across_a_redis_that_forgot_its_scripts(app: Flask) -> None:
    """The bucket's script is run by its digest; a Redis restarted or flushed of scripts is sent
    it again, and the bucket (a key, kept) goes on as it was."""
    redis = redis_client()
    assert rate.take(redis, "+15550001111", 2.0, "1") == 0.0  # the bucket's one token
    redis.script_flush()
    assert 0 < rate.take(redis, "+15550001111", 2.0, "2") <= 0.5  # the bucket is still empty
    assert redis.script_exists(redis.register_script(rate._TAKE).sha) == [True]


def test_what_kindred_starts_takes_no_place_far_ahead_so_a_reply_never_waits_behind_it(app: Flask) -> None:
    redis = redis_client()
    assert rate.take(redis, KINDRED_NUMBER, 1.0, "reply-1") == 0.0  # the bucket's one token
    # A round's fifty texts ask while none is left: each is told the next comes in about a
    # second, later than it may wait for, so none takes a place.
    waits = [rate.take(redis, KINDRED_NUMBER, 1.0, f"round-{n}", most_ahead=0.5) for n in range(50)]
    assert all(0.5 < wait <= 1.0 for wait in waits)
    # A reply then takes the next token: about a second away, not fifty seconds.
    reply = rate.take(redis, KINDRED_NUMBER, 1.0, "reply-2")
    assert 0.5 < reply <= 1.0
    # The round's texts now wait for the one after the reply's.
    assert rate.take(redis, KINDRED_NUMBER, 1.0, "round-0", most_ahead=0.5) > 1.5


def test_a_text_over_the_senders_rate_waits_its_turn_and_another_numbers_goes(
    app: Flask, client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker
) -> None:
    organization.default()
    organization.create("westside", "Westside Tenants", WESTSIDE, "America/New_York")
    db.session.commit()
    app.config["SMS_SENDER_MPS"] = ONE_IN_TEN_SECONDS
    sam = Phone(client, twilio_api, worker, "+15558675309")
    ann = Phone(client, twilio_api, worker, "+15558675310")
    lee = Phone(client, twilio_api, worker, "+15558675311")
    for phone, to in ((sam, KINDRED_NUMBER), (ann, KINDRED_NUMBER), (lee, WESTSIDE)):
        assert phone.post("hi", To=to).status_code == 200
    before = clock.now()
    worker.run()

    assert sorted(m["to"] for m in twilio_api.sent) == [sam.number, lee.number]  # one per number
    waiting = [m for m in outbound() if m.status == "queued"]
    assert [m.address.value for m in waiting] == [ann.number]
    (late,) = waiting
    due = late.next_attempt_at.replace(tzinfo=late.next_attempt_at.tzinfo or before.tzinfo)
    assert before + timedelta(seconds=5) < due <= before + timedelta(seconds=11)
    assert late.attempts == 0 and [e.status for e in late.history] == ["queued"]

    # The senders leave it until the moment its token is due.
    worker.run()
    assert [m.address.value for m in outbound() if m.status == "queued"] == [ann.number]
    # Tried early (by a job an older version queued), it keeps its place and takes no second token: the next text from that number
    # is due a token's time after it, not with it.
    send_message.enqueue(late.id)
    assert sam.post("hi again").status_code == 200
    worker.run()
    waiting = {m.address.value: m for m in outbound() if m.status == "queued"}
    assert set(waiting) == {ann.number, sam.number}
    assert waiting[ann.number].next_attempt_at == late.next_attempt_at
    gap = waiting[sam.number].next_attempt_at - late.next_attempt_at
    assert timedelta(seconds=9) <= gap <= timedelta(seconds=11)
    assert ann.number not in [m["to"] for m in twilio_api.sent]


def test_a_sender_twilio_throttles_is_held_back(
    app: Flask, phone: Phone, twilio_api: TwilioApiDouble, client: FlaskClient, worker: Worker
) -> None:
    app.config["SMS_SENDER_MPS"] = 1.0
    twilio_api.fail_next(status=429)
    phone.post("hi")
    worker.run()
    assert twilio_api.sent == []
    assert rate.take(redis_client(), KINDRED_NUMBER, 1.0, "next") >= 1.0  # emptied for a second and more


def test_replies_go_before_the_messages_kindred_starts_queued_ahead_of_them(
    client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker, clock: SettableClock
) -> None:
    clock.set(datetime(2026, 11, 24, 20, 0, tzinfo=UTC))  # 3 p.m. in New York: calling hours
    phones = [Phone(client, twilio_api, worker, f"+1555867{n:04d}") for n in range(6)]
    for phone in phones:
        phone.send("hi")
        phone.send("yes")
    addresses = db.session.scalars(select(Address).where(Address.channel == "sms").order_by(Address.id)).all()
    for address in addresses[1:]:
        outbox.queue_sms(address, "A team update", "team_relay")
    db.session.commit()
    sent_before = len(twilio_api.sent)
    assert phones[0].post("Maria").status_code == 200  # queued after the five
    worker.run()
    order = [m["to"] for m in twilio_api.sent[sent_before:]]
    assert order[0] == phones[0].number
    assert sorted(order[1:]) == sorted(p.number for p in phones[1:])
