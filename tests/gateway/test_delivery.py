"""Delivery (DESIGN invariants 1, 2, 6 and 7): what the provider says about a message, at send
time or later in a signed status callback, ends up in the message's status and history once;
a provider-side opt-out silences the volunteer; a passing provider error is retried and the
text sent exactly once; a send job run twice sends once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway import jobs
from gateway.delivery import outbox
from gateway.extensions import db
from gateway.jobs import send_message
from gateway.models import Address, ConsentEvent, Message, utcnow
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import (
    KINDRED_NUMBER,
    Phone,
    SettableClock,
    database_fault_once,
    signed_post,
    the_connection_is_lost,
)

STATUS = "/webhooks/twilio/status"
TERMS_START = "Eastside Neighbors: plan real conversations with people you know."


def outbound() -> list[Message]:
    """Every outbound message, oldest first, as the requests and the worker left it."""
    db.session.rollback()
    return list(
        db.session.scalars(select(Message).where(Message.direction == "outbound").order_by(Message.id))
    )


def history(message: Message) -> list[tuple[str, str | None]]:
    return [(event.status, event.error_code) for event in message.history]


def consent_ledger() -> list[tuple[str, str]]:
    db.session.rollback()
    return [(e.kind, e.source) for e in db.session.scalars(select(ConsentEvent))]


def join(phone: Phone) -> None:
    phone.send("hi")
    phone.send("yes")


def test_the_providers_opt_out_rejection_fails_the_message_and_opts_the_volunteer_out(
    phone: Phone, twilio_api: TwilioApiDouble
) -> None:
    join(phone)
    twilio_api.reject(phone.number, code=21610)
    assert phone.send("Sam") == []

    refused = outbound()[-1]
    assert (refused.status, refused.error_code) == ("failed", "21610")
    assert history(refused) == [("queued", None), ("failed", "21610")]
    assert consent_ledger()[-1] == ("opt_out", "provider_error")

    attempts = len(twilio_api.received)
    assert phone.send("ADD Maria, neighbor") == []
    assert len(twilio_api.received) == attempts  # not even tried: the guard knows


def sweep_later() -> None:
    outbox.sweep(now=utcnow() + timedelta(minutes=30))


def run_a_stray_job(clock: SettableClock) -> None:
    send_message.enqueue(outbound()[-1].id)  # a job an older version queued for it


def let_its_time_come(clock: SettableClock) -> None:
    clock.advance(timedelta(minutes=30))


@pytest.mark.parametrize("retry", [run_a_stray_job, let_its_time_come], ids=["stray job", "time comes"])
def test_a_passing_provider_error_is_retried_and_sent_exactly_once(
    phone: Phone, twilio_api: TwilioApiDouble, clock: SettableClock, retry: Callable[[SettableClock], object]
) -> None:
    join(phone)
    twilio_api.fail_next()
    assert phone.send("Sam") == []
    waiting = outbound()[-1]
    assert (waiting.status, waiting.attempts) == ("queued", 1)
    assert waiting.next_attempt_at is not None and waiting.next_attempt_at > utcnow()
    phone.worker.run()
    assert outbound()[-1].status == "queued"  # not before its time

    retry(clock)
    phone.worker.run()
    # Whatever else runs afterwards (RQ's own retry, another sweep) finds nothing to send.
    sweep_later()
    phone.worker.run()

    thanks = [r for r in phone.replies() if r.startswith("Thanks, Sam")]
    assert len(thanks) == 1
    sent = outbound()[-1]
    assert (sent.status, sent.attempts) == ("sent", 2)
    assert [status for status, _ in history(sent)] == ["queued", "sent"]


def status_callback(client: FlaskClient, message: Message, status: str, error: str = "") -> int:
    """Twilio's status callback for `message`, signed for the URL the app gave Twilio."""
    form = {
        "MessageSid": message.provider_id or "",
        "MessageStatus": status,
        "To": message.address.value,
        "From": KINDRED_NUMBER,
        "AccountSid": "AC" + "0" * 32,
    }
    if error:
        form["ErrorCode"] = error
    return signed_post(client, STATUS, form).status_code


CALLBACKS = {
    "delivered": ([("delivered", "")], "delivered", None, ["queued", "sent", "delivered"]),
    "delivered twice": (
        [("delivered", ""), ("delivered", "")],
        "delivered",
        None,
        ["queued", "sent", "delivered"],
    ),
    "late sent after delivered": (
        [("sending", ""), ("delivered", ""), ("sent", ""), ("queued", "")],
        "delivered",
        None,
        ["queued", "sent", "delivered"],
    ),
    "undelivered 30006": (
        [("undelivered", "30006")],
        "failed",
        "30006",
        ["queued", "sent", "failed"],
    ),
    "undelivered 30006, twice": (
        [("undelivered", "30006"), ("undelivered", "30006")],
        "failed",
        "30006",
        ["queued", "sent", "failed"],
    ),
    "failed 21610": ([("failed", "21610")], "failed", "21610", ["queued", "sent", "failed"]),
}


@pytest.mark.parametrize(
    ("callbacks", "status", "error", "statuses"), CALLBACKS.values(), ids=list(CALLBACKS)
)
def test_status_callbacks_update_status_and_history_once(
    phone: Phone,
    client: FlaskClient,
    twilio_api: TwilioApiDouble,
    callbacks: list[tuple[str, str]],
    status: str,
    error: str | None,
    statuses: list[str],
) -> None:
    phone.send("hi")
    message = outbound()[-1]
    assert (
        twilio_api.sent[-1]["status_callback"] == f"https://kindred.example.org{STATUS}?message={message.id}"
    )
    assert twilio_api.sent[-1]["sid"] == message.provider_id

    for twilio_status, code in callbacks:
        assert status_callback(client, message, twilio_status, code) == 204

    message = outbound()[-1]
    assert (message.status, message.error_code) == (status, error)
    assert [event.status for event in message.history] == statuses
    if error:
        assert history(message)[-1] == (status, error)
    opted_out = error == "21610"
    assert (("opt_out", "provider_error") in consent_ledger()) is opted_out
    if opted_out:
        assert phone.send("hi") == []


def test_a_message_whose_send_job_was_queued_twice_is_sent_once(
    phone: Phone, twilio_api: TwilioApiDouble
) -> None:
    assert phone.post("hi").status_code == 200
    phone.worker.answer()  # the worker queues the reply ...
    send_message.enqueue(outbound()[-1].id)  # ... and something queues it again
    phone.worker.run()
    assert len(phone.replies()) == 1
    assert len(twilio_api.received) == 1
    assert outbound()[-1].status == "sent"


def test_a_message_the_system_starts_needs_an_opt_in(phone: Phone, twilio_api: TwilioApiDouble) -> None:
    phone.send("hi")  # known, but never said YES
    address = db.session.scalars(select(Address).where(Address.value == phone.number)).one()
    outbox.queue_sms(address, "Idea for Ruth: ...", reason="follow_up")
    db.session.commit()  # queued for sending by the commit
    phone.worker.run()

    assert not [r for r in phone.replies() if r.startswith("Idea for")]
    held = outbound()[-1]
    assert (held.status, held.error_code) == ("suppressed", "no_opt_in")
    assert [m["Body"][:20] for m in twilio_api.received] == [TERMS_START[:20]]


def test_a_loop_with_another_auto_responder_ends_at_the_reply_limit(phone: Phone) -> None:
    phone.send("hi")
    for n in range(outbox.REPLY_LIMIT + 5):
        phone.send(f"Auto-reply {n}: I'm away from my phone.")
    assert len(phone.replies()) == outbox.REPLY_LIMIT
    held = outbound()[-1]
    assert (held.status, held.error_code) == ("suppressed", "reply_limit")

    # The limit is each person's: someone else who texts now is answered.
    other = Phone(phone.client, phone.twilio_api, phone.worker, "+15555550177")
    assert len(other.send("hi")) == 1
    assert phone.reply_to("STOP").startswith("Eastside Neighbors: You're unsubscribed")  # always answered


def test_a_status_that_arrives_before_the_send_is_recorded_is_applied_when_it_is(
    phone: Phone, client: FlaskClient, twilio_api: TwilioApiDouble
) -> None:
    sid = "SM" + "e" * 32
    twilio_api.assign_next_sid(sid)
    phone.post("hi")  # the terms are queued; Twilio will call their send SM eee...
    form = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30006", "To": phone.number}
    for _ in range(2):  # Twilio's callback beats our commit, and is retried: both 2xx
        assert signed_post(client, "/webhooks/twilio/status", form).status_code == 204
    phone.worker.run()
    (terms,) = outbound()
    assert terms.provider_id == sid
    assert (terms.status, terms.error_code) == ("failed", "30006")
    assert history(terms) == [("queued", None), ("sent", None), ("failed", "30006")]


def the_load_of_what_more_to_record() -> Callable[[str, object], bool]:
    """The message loaded (and locked) after its send was marked, to apply what came early."""
    marked: list[bool] = []

    def picked(statement: str, _parameters: object) -> bool:
        if "SET provider_id" in statement:  # the mark (on PostgreSQL, a step of a WITH)
            marked.append(True)
        return bool(marked) and statement.startswith("SELECT message.")

    return picked


def test_a_status_that_arrived_early_is_applied_even_if_the_sender_dies_recording_the_send(
    phone: Phone, client: FlaskClient, twilio_api: TwilioApiDouble
) -> None:
    """The sender dies between marking the send and applying the status that came before it
    (on PostgreSQL the mark is committed alone): the sweep applies it."""
    sid = "SM" + "d" * 32
    twilio_api.assign_next_sid(sid)
    phone.post("hi")
    form = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30006", "To": phone.number}
    assert signed_post(client, "/webhooks/twilio/status", form).status_code == 204
    with database_fault_once(the_load_of_what_more_to_record(), the_connection_is_lost):
        phone.worker.run()
    jobs.sweep_outbox()
    (terms,) = outbound()
    assert (terms.provider_id, terms.status, terms.error_code) == (sid, "failed", "30006")
    assert history(terms) == [("queued", None), ("sent", None), ("failed", "30006")]
    assert len(twilio_api.sent) == 1


def test_a_status_earlier_than_the_current_one_joins_the_history_but_never_moves_it_back(
    phone: Phone,
) -> None:
    phone.post("hi")
    phone.worker.answer()  # the terms are queued
    (terms,) = outbound()
    outbox.record_status(terms, "delivered")  # the provider reported delivery first...
    assert outbox.record_status(terms, "sent")  # ...and "sent" only afterwards
    db.session.commit()
    assert terms.status == "delivered"
    assert history(terms) == [("queued", None), ("delivered", None), ("sent", None)]
