"""One table of provider errors (issue 10), through the outbox, the real worker and the Twilio
API double: each error a send is refused with, or a status callback reports, is acted on as it
means. A number that cannot get texts is not tried again until it texts in; an unreachable
handset fails after a few tries; a passing error or a throttled sender is tried again later,
after a backoff with jitter; nothing is sent twice."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway import clock
from gateway.delivery import outbox
from gateway.extensions import db
from gateway.jobs import send_message
from gateway.models import Address, Message
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import KINDRED_NUMBER, Phone, SettableClock, signed_post

FRIENDS_ANSWER = "You haven't added anyone yet."


def join(phone: Phone) -> None:
    phone.send("hi")
    phone.send("yes")
    phone.send("Sam")


def last_reply() -> Message:
    db.session.rollback()
    return db.session.scalars(
        select(Message).where(Message.direction == "outbound").order_by(Message.id.desc()).limit(1)
    ).one()


def address(phone: Phone) -> Address:
    db.session.rollback()
    return db.session.scalars(select(Address).where(Address.value == phone.number)).one()


def as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=clock.now().tzinfo)


@pytest.mark.parametrize("code", [21211, 21614, 30006])
def test_a_number_that_cannot_get_texts_is_not_tried_again_until_it_texts_in(
    phone: Phone, twilio_api: TwilioApiDouble, code: int
) -> None:
    join(phone)
    twilio_api.reject(phone.number, status=400, code=code)
    asked = len(twilio_api.received)
    assert phone.send("FRIENDS") == []
    failed = last_reply()
    assert (failed.status, failed.error_code, failed.attempts) == ("failed", str(code), 1)
    assert address(phone).undeliverable_since is not None
    # A message Kindred starts itself is held back without asking Twilio again.
    message = outbox.queue_sms(address(phone), "A reminder", "follow_up")
    db.session.commit()
    phone.worker.run()
    assert (last_reply().status, last_reply().error_code) == ("suppressed", "undeliverable")
    assert len(twilio_api.received) == asked + 1
    assert message.id == last_reply().id
    # It texts in: it can get texts after all, and the answer goes.
    twilio_api.accept(phone.number)
    assert phone.reply_to("FRIENDS").startswith(FRIENDS_ANSWER)
    assert address(phone).undeliverable_since is None


def test_a_status_callback_saying_a_number_cannot_get_texts_marks_it(
    phone: Phone, client: FlaskClient
) -> None:
    join(phone)
    sent = last_reply()
    form = {
        "MessageSid": sent.provider_id or "",
        "MessageStatus": "undelivered",
        "ErrorCode": "30006",
        "To": phone.number,
        "From": KINDRED_NUMBER,
    }
    assert signed_post(client, f"/webhooks/twilio/status?message={sent.id}", form).status_code == 204
    assert address(phone).undeliverable_since is not None
    outbox.queue_sms(address(phone), "A reminder", "follow_up")
    db.session.commit()
    phone.worker.run()
    assert (last_reply().status, last_reply().error_code) == ("suppressed", "undeliverable")


def test_an_unreachable_handset_is_tried_three_times_then_fails(
    phone: Phone, twilio_api: TwilioApiDouble
) -> None:
    join(phone)
    twilio_api.reject(phone.number, status=400, code=30003)
    phone.send("FRIENDS")
    reply = last_reply()
    assert (reply.status, reply.attempts) == ("queued", 1)
    for attempt in (2, 3):
        send_message.enqueue(reply.id)
        phone.worker.run()
        reply = last_reply()
        assert reply.attempts == attempt
    assert (reply.status, reply.error_code) == ("failed", "30003")
    send_message.enqueue(reply.id)  # a stray job later changes nothing and asks nobody
    asked = len(twilio_api.received)
    phone.worker.run()
    assert len(twilio_api.received) == asked and last_reply().status == "failed"


@pytest.mark.parametrize(
    ("fault", "code"), [((500, None), "20500"), ((429, None), "20429"), ((429, 63018), "63018")]
)
def test_a_passing_error_or_a_throttled_sender_is_retried_later_with_jitter_and_sent_once(
    phone: Phone,
    twilio_api: TwilioApiDouble,
    fault: tuple[int, int | None],
    code: str,
    request: pytest.FixtureRequest,
) -> None:
    join(phone)
    status, twilio_code = fault
    if twilio_code:
        twilio_api.reject(phone.number, status=status, code=twilio_code)
    else:
        twilio_api.fail_next(status=status)
    before = clock.now()
    assert phone.send("FRIENDS") == []
    waiting = last_reply()
    assert (waiting.status, waiting.error_code, waiting.attempts) == ("queued", code, 1)
    delay = as_utc(waiting.next_attempt_at) - before
    first = timedelta(seconds=outbox.RETRY_DELAYS[0])
    assert first * (1 - outbox.RETRY_JITTER) - timedelta(seconds=1) <= delay <= first + timedelta(seconds=1)
    # It is tried again then, not before.
    twilio_api.accept(phone.number)
    asked = len(twilio_api.received)
    phone.worker.run()
    assert (last_reply().status, len(twilio_api.received)) == ("queued", asked)
    app_clock: SettableClock = request.getfixturevalue("clock")
    app_clock.set(as_utc(waiting.next_attempt_at))
    phone.worker.run()
    assert last_reply().status == "sent"
    assert [r for r in phone.replies() if r.startswith(FRIENDS_ANSWER)] == [phone.replies()[-1]]


def test_backoff_grows_and_every_delay_keeps_its_jitter_within_bounds() -> None:
    for attempts, delay in enumerate(outbox.RETRY_DELAYS, start=1):
        seen = {outbox.retry_delay(attempts).total_seconds() for _ in range(200)}
        assert all(delay * (1 - outbox.RETRY_JITTER) <= s <= delay for s in seen)
        assert len(seen) > 100  # spread, not one value
