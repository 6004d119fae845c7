"""The webhook stores a text and says 200; the worker answers it: a person's texts one at a time,
in the order they came, never twice. Until a text is answered, nothing but a STOP confirmation
or HELP goes to its sender, so a STOP waiting for its turn already holds back what Kindred
would start."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text, update

from gateway.delivery import outbox, sender
from gateway.delivery.consent import status
from gateway.extensions import db
from gateway.models import Address, FriendContactDigest, Message
from gateway.models.base import ENCRYPTED_PREFIX
from gateway.sms import inbound
from tests.doubles.servers import RedisServer
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import Phone, a_fault, database_fault_once, on_statement_once, the_connection_is_lost

TERMS_START = "Eastside Neighbors: plan real conversations"
CONFIRMATION_START = "Eastside Neighbors: You're unsubscribed"


def messages_of(phone: Phone, direction: str) -> list[Message]:
    db.session.rollback()  # see what the requests and the worker committed
    return list(
        db.session.scalars(
            select(Message)
            .join(Address)
            .where(Address.value == phone.number, Message.direction == direction)
            .order_by(Message.id)
        )
    )


def texts_in(phone: Phone) -> list[Message]:
    return messages_of(phone, "inbound")


def replies_queued(phone: Phone) -> list[Message]:
    return messages_of(phone, "outbound")


def the_reply_write_once(strike: Callable[[object], None]) -> AbstractContextManager[None]:
    """The first write of a reply (an outbound message) meets `strike`."""
    return database_fault_once(
        lambda statement, parameters: (
            statement.startswith("INSERT INTO message") and "outbound" in str(parameters)
        ),
        strike,
    )


def joined(phone: Phone) -> Address:
    phone.send("hi")
    phone.send("yes")
    phone.send("Dee")
    return db.session.scalars(select(Address).where(Address.value == phone.number)).one()


def joined_with_an_idea_queued(phone: Phone) -> None:
    """A volunteer who joined, and an idea Kindred starts (a follow-up) queued for them."""
    outbox.queue_sms(joined(phone), "Idea for Ruth: ask about her garden", reason="follow_up")
    db.session.commit()


def test_the_webhook_stores_the_text_and_the_worker_answers_it(phone: Phone) -> None:
    assert phone.post("hi").status_code == 200
    (stored,) = texts_in(phone)
    assert stored.answered_at is None and replies_queued(phone) == []  # nothing decided yet

    phone.worker.run()
    (stored,) = texts_in(phone)
    assert stored.answered_at is not None
    (terms,) = phone.replies()
    assert terms.startswith(TERMS_START)


def test_a_persons_texts_are_answered_one_at_a_time_in_the_order_they_came(phone: Phone) -> None:
    for body in ("hi", "yes", "Dee"):
        assert phone.post(body).status_code == 200
    first, second, third = texts_in(phone)
    assert inbound.answer(third.id) is None  # two texts wait ahead of it: not now
    assert inbound.answer(second.id) is None
    assert all(each.answered_at is None for each in texts_in(phone)) and replies_queued(phone) == []

    phone.worker.run()
    assert all(each.answered_at is not None for each in texts_in(phone))
    replies = phone.replies()
    assert replies[0].startswith(TERMS_START)  # "hi"
    assert "first name" in replies[1]  # "yes", then the name it asks for
    assert "Dee" in replies[2]
    assert inbound.answer(first.id) is None  # answered already: never twice
    assert len(replies_queued(phone)) == 3


def test_a_stop_waiting_for_its_turn_holds_back_what_kindred_would_start(
    phone: Phone, twilio_api: TwilioApiDouble
) -> None:
    joined_with_an_idea_queued(phone)
    assert phone.post("STOP").status_code == 200  # stored; the worker has not answered it yet

    with phone.worker.app.app_context():
        sender.drain()  # the senders, before the answer: the idea waits behind the STOP
    assert not [m for m in twilio_api.sent if m["to"] == phone.number and m["body"].startswith("Idea")]

    phone.worker.run()
    assert phone.replies()[-1].startswith(CONFIRMATION_START)
    assert not [r for r in phone.replies() if r.startswith("Idea")]
    (idea,) = [m for m in replies_queued(phone) if m.body.startswith("Idea")]
    assert (idea.status, idea.error_code) == ("suppressed", "opted_out")


def test_a_send_claimed_before_a_stop_came_waits_for_the_stops_turn(
    phone: Phone, twilio_api: TwilioApiDouble
) -> None:
    joined_with_an_idea_queued(phone)
    with phone.worker.app.app_context():
        (claim,) = outbox.claim_due(10)  # a sender has it, about to send...
    assert phone.post("STOP").status_code == 200  # ...when the STOP comes
    with phone.worker.app.app_context():
        assert sender.send(claim)
    db.session.rollback()
    idea = db.session.get(Message, claim.message_id)
    assert idea is not None and idea.status == "queued"  # held, not sent
    assert not [m for m in twilio_api.sent if m["body"].startswith("Idea")]

    phone.worker.run()
    assert phone.replies()[-1].startswith(CONFIRMATION_START)
    db.session.refresh(idea)
    assert (idea.status, idea.error_code) == ("suppressed", "opted_out")


def the_load(statement: str, parameters: object) -> bool:
    """A send's load of its claimed message, with what consent needs of its recipient."""
    return "FROM message JOIN address" in statement


@pytest.mark.postgres
def test_a_stop_that_comes_while_redis_keeps_a_reply_waiting_holds_the_reply(
    phone: Phone, twilio_api: TwilioApiDouble, redis_server: RedisServer, database_url: str
) -> None:
    """What a send read of consent as it loaded its message serves only while fresh: a STOP that
    came while the sender's token took Redis's whole timeout is seen."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite takes one writer at a time: the STOP waits for the send to commit")
    assert phone.post("hi").status_code == 200
    phone.worker.answer()  # the welcome waits in the outbox
    with phone.worker.app.app_context():
        (claim,) = outbox.claim_due(10)

        def stop_comes(_: object) -> None:
            stops.append(phone.post("STOP").status_code)  # stored just after the load...
            redis_server.freeze()  # ...while the sender's token will wait for Redis

        stops: list[int] = []
        try:
            with on_statement_once(the_load, stop_comes, after=True):
                assert sender.send(claim)
        finally:
            redis_server.thaw()
    assert stops == [200]
    db.session.rollback()
    welcome = db.session.get(Message, claim.message_id)
    assert welcome is not None and welcome.status == "queued"  # held behind the STOP, not sent
    assert not twilio_api.sent

    phone.worker.run()
    assert phone.replies()[-1].startswith(CONFIRMATION_START)
    db.session.refresh(welcome)
    assert (welcome.status, welcome.error_code) == ("suppressed", "opted_out")


def test_a_friends_number_waits_encrypted_for_the_turn_and_is_then_kept_only_as_a_digest(
    phone: Phone,
) -> None:
    joined(phone)
    assert phone.post("ADD Bob 555-201-7788").status_code == 200
    stored = texts_in(phone)[-1]
    assert "555-201-7788" not in stored.body  # masked in the body from the start
    stored_id = stored.id
    db.session.commit()  # on SQLite, the session's transaction holds the lock this connection needs
    with db.engine.connect() as connection:
        (raw,) = connection.execute(
            text("SELECT body_as_sent FROM message WHERE id = :id"), {"id": stored_id}
        ).one()
    assert raw.startswith(ENCRYPTED_PREFIX) and "7788" not in raw  # as sent, for the turn, encrypted

    phone.worker.run()
    stored = texts_in(phone)[-1]
    assert stored.body_as_sent is None  # read by the turn, then gone
    assert db.session.scalars(select(FriendContactDigest)).all()  # the turn saw Bob's number
    assert any("Bob" in reply for reply in phone.replies()[-1:])


@pytest.mark.postgres
def test_a_text_another_worker_is_answering_is_skipped_not_waited_for(
    phone: Phone, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite takes one writer at a time: no other worker holds a row")
    assert phone.post("hi").status_code == 200
    (stored,) = texts_in(phone)
    other = create_engine(database_url)
    try:
        with other.connect() as worker_b:
            worker_b.execute(text("SELECT id FROM message WHERE id = :id FOR UPDATE"), {"id": stored.id})
            db.session.execute(text("SET lock_timeout = '5s'"))  # a wait fails the test, never hangs it
            assert inbound.answer(stored.id) is None  # worker B has it: skipped at once
            worker_b.rollback()  # B's turn failed, say: the text waits again
        assert inbound.answer(stored.id) is True
    finally:
        other.dispose()
    assert texts_in(phone)[0].answered_at is not None
    assert len(replies_queued(phone)) == 1


def test_a_turn_the_database_cut_off_leaves_the_text_waiting_and_the_next_look_answers_it(
    phone: Phone,
) -> None:
    """Losing the database mid-turn is no fault of the text: it is not put aside for an
    organizer with no reply, as a turn that fails is. It waits, and is answered once the
    database is back."""
    assert phone.post("hi").status_code == 200
    (stored,) = texts_in(phone)
    with the_reply_write_once(the_connection_is_lost):
        assert inbound.answer(stored.id) is None
    (stored,) = texts_in(phone)
    assert (stored.answered_at, stored.needs_attention) == (None, False)
    assert replies_queued(phone) == []

    phone.worker.run()
    assert texts_in(phone)[0].answered_at is not None
    (terms,) = phone.replies()
    assert terms.startswith(TERMS_START)


def test_a_turn_that_fails_keeps_the_text_for_an_organizer_and_still_honours_its_stop(
    phone: Phone,
) -> None:
    address = joined(phone)
    assert phone.post("STOP").status_code == 200
    stop = texts_in(phone)[-1]
    with the_reply_write_once(a_fault):
        assert inbound.answer(stop.id) is False
    stop = texts_in(phone)[-1]
    assert stop.answered_at is not None and stop.needs_attention  # an organizer reads it
    assert status(db.session.merge(address)).value == "opted_out"
    assert inbound.answer(stop.id) is None  # never answered twice


def test_a_text_whose_turn_the_database_still_cuts_off_long_after_it_came_is_kept_for_an_organizer(
    phone: Phone,
) -> None:
    """A text cut off every time (its own connection killed, say) cannot hold back its sender
    for ever: once past the patience, it is kept for an organizer, and its STOP honoured."""
    address = joined(phone)
    assert phone.post("STOP").status_code == 200
    stop = texts_in(phone)[-1]
    db.session.execute(
        update(Message)
        .where(Message.id == stop.id)
        .values(created_at=stop.created_at - inbound.OUTAGE_PATIENCE - timedelta(minutes=1))
    )
    db.session.commit()
    with the_reply_write_once(the_connection_is_lost):
        assert inbound.answer(stop.id) is False
    stop = texts_in(phone)[-1]
    assert stop.answered_at is not None and stop.needs_attention
    assert status(db.session.merge(address)).value == "opted_out"
