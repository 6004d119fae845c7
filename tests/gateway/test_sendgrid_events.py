"""SendGrid's signed Event Webhook: only posts SendGrid signed, recently, get in; delivery steps
go into the message's history once each, in whatever order they come; bounces, drops for a
bounced address, spam reports and unsubscribes become email opt-outs the worker honours.

Emails are sent through the outbox by the real sendgrid client to the local double of its v3
API; the events name them as SendGrid does (`sg_message_id` is the send's X-Message-Id with
".filter..." appended, and our custom argument `kindred_message_id` comes back at top level)."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, insert, select
from sqlalchemy import event as sa_event
from werkzeug.test import TestResponse

from gateway import create_app
from gateway.config import ConfigError
from gateway.delivery import outbox
from gateway.extensions import db
from gateway.models import Address, ConsentEvent, Message, ProviderEvent
from tests.doubles.sendgrid_api import EventSigner, SendGridApiDouble
from tests.support import SettableClock, Worker, email_member

EVENTS = "/webhooks/sendgrid/events"


@pytest.fixture(autouse=True)
def working_hours(clock: SettableClock) -> None:
    """Noon in New York: mailings go at once."""
    clock.set(datetime(2026, 11, 24, 17, 0, tzinfo=UTC))


class SendGrid:
    """SendGrid's side of the Event Webhook: posts batches of events, signed as it signs them."""

    def __init__(self, client: FlaskClient, signer: EventSigner, clock: SettableClock) -> None:
        self.client = client
        self.signer = signer
        self.clock = clock

    def post(
        self,
        events: list[Any],
        signer: EventSigner | None = None,
        signed_ago: timedelta = timedelta(seconds=3),
    ) -> TestResponse:
        body = json.dumps(events).encode()
        return self.post_body(body, (signer or self.signer).headers(body, self.timestamp(signed_ago)))

    def post_body(self, body: bytes, headers: dict[str, str]) -> TestResponse:
        return self.client.post(EVENTS, data=body, headers={**headers, "Content-Type": "application/json"})

    def timestamp(self, ago: timedelta = timedelta(seconds=3)) -> int:
        return int((self.clock() - ago).timestamp())


@pytest.fixture
def sendgrid(client: FlaskClient, event_signer: EventSigner, clock: SettableClock) -> SendGrid:
    return SendGrid(client, event_signer, clock)


def mailed(worker: Worker, address: Address, subject: str = "Forum Thursday") -> Message:
    """A mailing to `address`, sent by the worker through the SendGrid double."""
    message = outbox.queue_email(address, subject, "Come to the forum.", "mailing")
    db.session.commit()
    worker.run()
    return fresh(message.id)


def fresh(message_id: int) -> Message:
    db.session.rollback()  # see what the requests committed
    message = db.session.get(Message, message_id)
    assert message is not None
    return message


def event(kind: str, message: Message, **fields: Any) -> dict[str, Any]:
    """An event about `message` in the shape SendGrid posts it."""
    return {
        "email": message.address.value,
        "timestamp": 1764003600,
        "smtp-id": message.header_id,
        "event": kind,
        "category": [],
        "sg_event_id": uuid.uuid4().hex[:22],
        "sg_message_id": f"{message.provider_id}.filterdrecv-5b5f9c9ff-2x7kq-1-6565B3F1-23.0",
        "kindred_message_id": str(message.id),
        **fields,
    }


BOUNCE = {
    "reason": "550 5.1.1 The email account that you tried to reach does not exist.",
    "status": "5.1.1",
    "type": "bounce",
    "bounce_classification": "Invalid Address",
}


def steps(message_id: int) -> list[str]:
    return [step.status for step in fresh(message_id).history]


def email_consent(address_id: int) -> list[tuple[str, str]]:
    db.session.rollback()
    return [
        (e.kind, e.source)
        for e in db.session.scalars(
            select(ConsentEvent).where(ConsentEvent.address_id == address_id).order_by(ConsentEvent.id)
        )
    ]


def processed_events() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(ProviderEvent))


# --- what is refused ------------------------------------------------------------------------------


def forged(sendgrid: SendGrid, body: bytes) -> dict[str, str]:
    return EventSigner().headers(body, sendgrid.timestamp())


def tampered(sendgrid: SendGrid, body: bytes) -> dict[str, str]:
    return sendgrid.signer.headers(body.replace(b"5.1.1", b"5.1.2"), sendgrid.timestamp())


def retimed(sendgrid: SendGrid, body: bytes) -> dict[str, str]:
    headers = sendgrid.signer.headers(body, sendgrid.timestamp())
    return {**headers, EventSigner.TIMESTAMP: str(sendgrid.timestamp() + 1)}


def without(header: str) -> Any:
    def headers(sendgrid: SendGrid, body: bytes) -> dict[str, str]:
        signed = sendgrid.signer.headers(body, sendgrid.timestamp())
        return {name: value for name, value in signed.items() if name != header}

    return headers


def signature(value: str) -> Any:
    def headers(sendgrid: SendGrid, body: bytes) -> dict[str, str]:
        return {**sendgrid.signer.headers(body, sendgrid.timestamp()), EventSigner.SIGNATURE: value}

    return headers


def signed_at(ago: timedelta) -> Any:
    def headers(sendgrid: SendGrid, body: bytes) -> dict[str, str]:
        return sendgrid.signer.headers(body, sendgrid.timestamp(ago))

    return headers


def timestamp(value: str) -> Any:
    def headers(sendgrid: SendGrid, body: bytes) -> dict[str, str]:
        return {**sendgrid.signer.headers(body, sendgrid.timestamp()), EventSigner.TIMESTAMP: value}

    return headers


REFUSED = {
    "signed by another key": forged,
    "body changed after signing": tampered,
    "timestamp changed after signing": retimed,
    "no signature": without(EventSigner.SIGNATURE),
    "no timestamp": without(EventSigner.TIMESTAMP),
    "signature not base64": signature("%%% not base64 %%%"),
    "signature not a signature": signature("bm90IGEgc2lnbmF0dXJlIGF0IGFsbA=="),
    "signature empty": signature(""),
    "signed 11 minutes ago": signed_at(timedelta(minutes=11)),
    "signed 6 minutes from now": signed_at(timedelta(minutes=-6)),
    "timestamp not a number": timestamp("yesterday"),
    "timestamp past year 9999": timestamp("999999999999"),
}


@pytest.mark.parametrize("headers", REFUSED.values(), ids=REFUSED.keys())
def test_a_post_sendgrid_did_not_sign_recently_is_refused_and_changes_nothing(
    app: Flask, worker: Worker, sendgrid: SendGrid, headers: Any
) -> None:
    message = mailed(worker, email_member())
    body = json.dumps([event("bounce", message, **BOUNCE)]).encode()

    response = sendgrid.post_body(body, headers(sendgrid, body))

    assert response.status_code == 403
    assert steps(message.id) == ["queued", "sent"]
    assert email_consent(message.address_id) == [("opt_in", "email_confirmed")]
    assert processed_events() == 0


def test_without_a_verification_key_every_post_is_refused(
    app: Flask, worker: Worker, event_signer: EventSigner, clock: SettableClock
) -> None:
    settings = {k: v for k, v in app.config.items() if k.isupper() and isinstance(v, str | int)}
    keyless = create_app(
        {
            **settings,
            "EMAIL_TRANSPORT": "simulator",
            "PUBLIC_BASE_URL": "http://127.0.0.1:5000",  # the simulator serves only a machine of one's own
            "SENDGRID_EVENT_PUBLIC_KEY": "",
            "CLOCK": clock,
        }
    )
    message = mailed(worker, email_member())
    sendgrid = SendGrid(keyless.test_client(), event_signer, clock)
    assert sendgrid.post([event("bounce", message, **BOUNCE)]).status_code == 403
    assert steps(message.id) == ["queued", "sent"]


def test_a_key_that_is_no_key_stops_the_app_at_start_and_an_armoured_one_is_read(
    app: Flask, event_signer: EventSigner, clock: SettableClock
) -> None:
    settings = {k: v for k, v in app.config.items() if k.isupper() and isinstance(v, str | int)}
    with pytest.raises(ConfigError, match="SENDGRID_EVENT_PUBLIC_KEY"):
        create_app({**settings, "SENDGRID_EVENT_PUBLIC_KEY": "bm90IGEga2V5"})
    armoured = f"-----BEGIN PUBLIC KEY-----\n{event_signer.public_key}\n-----END PUBLIC KEY-----\n"
    pasted = create_app({**settings, "SENDGRID_EVENT_PUBLIC_KEY": armoured, "CLOCK": clock})
    assert SendGrid(pasted.test_client(), event_signer, clock).post([]).status_code == 204


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"[{not json", 400),
        (b'{"event": "delivered"}', 400),
        (b'"delivered"', 400),
        (b"[" * 100_000 + b"]" * 100_000, 400),
        (b"[" + b'{"event": "open"},' * 200_000 + b"{}]", 413),
        (b"[]", 204),
    ],
    ids=["not JSON", "an object", "a string", "nested too deep", "over 2 MB", "no events"],
)
def test_a_signed_body_that_is_no_batch_of_events_gets_a_clear_4xx(
    app: Flask, sendgrid: SendGrid, body: bytes, status: int
) -> None:
    response = sendgrid.post_body(body, sendgrid.signer.headers(body, sendgrid.timestamp()))
    assert response.status_code == status
    assert processed_events() == 0


# --- what a batch does ----------------------------------------------------------------------------


def test_a_batch_as_large_as_sendgrid_sends_is_taken(app: Flask, worker: Worker, sendgrid: SendGrid) -> None:
    message = mailed(worker, email_member())
    agent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    batch = [event("open", message, useragent=agent, ip="192.0.2.1") for _ in range(1700)]
    assert 700_000 < len(json.dumps(batch)) < 768 * 1024  # SendGrid posts at 768 KB at the most

    assert sendgrid.post(batch).status_code == 204

    assert steps(message.id) == ["queued", "sent", "opened"]
    assert processed_events() == len(batch)


def test_a_batch_records_delivery_opens_clicks_and_a_bounce_once_however_often_it_comes(
    app: Flask, worker: Worker, sendgrid: SendGrid, sendgrid_api: SendGridApiDouble, clock: SettableClock
) -> None:
    sam = mailed(worker, email_member("sam@example.org"))
    dana = mailed(worker, email_member("Dana@Example.org"))
    batch = [
        event("processed", sam),
        event("processed", dana),
        event("delivered", sam, response="250 2.0.0 OK", tls=1),
        event("bounce", dana, **BOUNCE),
        event("open", sam, useragent="Mozilla/5.0", ip="192.0.2.1", sg_machine_open=False),
        event(
            "click", sam, url="https://eastside.example.org/forum", url_offset={"index": 0, "type": "html"}
        ),
    ]

    assert sendgrid.post(batch).status_code == 204
    assert sendgrid.post(batch).status_code == 204  # SendGrid retried it

    assert steps(sam.id) == ["queued", "sent", "processed", "delivered", "opened", "clicked"]
    assert fresh(sam.id).status == "delivered"
    assert steps(dana.id) == ["queued", "sent", "processed", "bounced"]
    assert (fresh(dana.id).status, fresh(dana.id).error_code) == ("failed", "5.1.1")
    assert email_consent(sam.address_id) == [("opt_in", "email_confirmed")]
    assert email_consent(dana.address_id) == [("opt_in", "email_confirmed"), ("opt_out", "sendgrid_bounce")]
    assert processed_events() == len(batch)

    # The next day's mailing reaches Sam, and never Dana, whose address bounced.
    clock.advance(timedelta(days=1))
    sent_before = len(sendgrid_api.sent)
    assert mailed(worker, fresh(sam.id).address, "Thank you").status == "sent"
    refused = mailed(worker, fresh(dana.id).address, "Thank you")
    assert (refused.status, refused.error_code) == ("suppressed", "opted_out")
    assert [mail.to for mail in sendgrid_api.sent[sent_before:]] == ["sam@example.org"]


OPT_OUTS = {
    "spamreport": ({}, "sendgrid_spamreport"),
    "unsubscribe": ({}, "sendgrid_unsubscribe"),
    "group_unsubscribe": ({"asm_group_id": 42}, "sendgrid_group_unsubscribe"),
    "bounce": (BOUNCE, "sendgrid_bounce"),
    "dropped": ({"reason": "Bounced Address", "status": "5.0.0"}, "sendgrid_dropped"),
    "dropped_unsubscribed": ({"reason": "Unsubscribed Address"}, "sendgrid_dropped"),
    "dropped_spam_reporter": ({"reason": "Spam Reporting Address"}, "sendgrid_dropped"),
}


@pytest.mark.parametrize("kind", OPT_OUTS)
def test_what_says_the_address_is_gone_or_unwilling_opts_it_out_of_email(
    app: Flask, worker: Worker, sendgrid: SendGrid, sendgrid_api: SendGridApiDouble, kind: str
) -> None:
    fields, source = OPT_OUTS[kind]
    message = mailed(worker, email_member())

    sent_as = "dropped" if kind.startswith("dropped") else kind
    assert sendgrid.post([event(sent_as, message, **fields)]).status_code == 204

    assert email_consent(message.address_id)[-1] == ("opt_out", source)
    later = mailed(worker, fresh(message.id).address, "Next week")
    assert (later.status, later.error_code) == ("suppressed", "opted_out")
    assert len(sendgrid_api.sent) == 1


@pytest.mark.parametrize(
    ("kind", "fields", "step", "code"),
    [
        ("bounce", {**BOUNCE, "type": "blocked", "status": "4.7.1"}, "blocked", "4.7.1"),
        ("dropped", {"reason": "Spam Content (if spam checker app enabled)"}, "dropped", "spam_content"),
        ("dropped", {"reason": "Invalid SMTPAPI header"}, "dropped", "Invalid SMTPAPI"),
    ],
    ids=["blocked", "dropped as spam", "dropped for a reason of its own"],
)
def test_an_email_refused_for_its_own_sake_fails_but_the_address_stays_subscribed(
    app: Flask,
    worker: Worker,
    sendgrid: SendGrid,
    sendgrid_api: SendGridApiDouble,
    clock: SettableClock,
    kind: str,
    fields: dict[str, str],
    step: str,
    code: str,
) -> None:
    message = mailed(worker, email_member())

    assert sendgrid.post([event(kind, message, **fields)]).status_code == 204

    failed = fresh(message.id)
    assert (failed.status, failed.error_code, failed.history[-1].status) == ("failed", code, step)
    assert email_consent(message.address_id) == [("opt_in", "email_confirmed")]
    clock.advance(timedelta(days=1))
    assert mailed(worker, failed.address, "Next week").status == "sent"
    assert len(sendgrid_api.sent) == 2


def test_late_steps_never_move_a_delivered_email_back(
    app: Flask, worker: Worker, sendgrid: SendGrid, clock: SettableClock
) -> None:
    clock.set(datetime(2026, 11, 25, 7, 0, tzinfo=UTC))  # 2 a.m. in New York: the mailing waits
    address = email_member()
    waiting = outbox.queue_email(address, "News", "Hello", "mailing")
    db.session.commit()
    worker.run()
    clock.set(datetime(2026, 11, 25, 14, 5, tzinfo=UTC))
    outbox.sweep()
    worker.run()
    message = fresh(waiting.id)
    assert steps(message.id) == ["queued", "deferred", "sent"]

    response = sendgrid.post(
        [
            event("delivered", message),
            event("deferred", message, response="451 try again later", attempt="1"),
            event("processed", message),
        ]
    )

    assert response.status_code == 204
    assert fresh(message.id).status == "delivered"
    # SendGrid's deferral is its own step beside the outbox's wait for the morning.
    assert steps(message.id) == ["queued", "deferred", "sent", "delivered", "delayed", "processed"]


def test_events_are_matched_to_the_email_they_name_and_nothing_else(
    app: Flask, worker: Worker, sendgrid: SendGrid
) -> None:
    sam = mailed(worker, email_member("sam@example.org"))
    lee = email_member("lee@example.org")
    # Named by our custom argument, but to another recipient, from another send: not Sam's.
    other_send = {**event("delivered", sam), "email": "lee@example.org", "sg_message_id": "zzz.filter1"}
    # Named only by SendGrid's message id (the custom argument was lost).
    by_provider_id = {k: v for k, v in event("open", sam).items() if k != "kindred_message_id"}
    # About no email of ours, but an address we know: its spam report still counts.
    unknown = {**event("spamreport", sam), "email": "Lee@Example.org", "sg_message_id": "nope.filter2"}
    del unknown["kindred_message_id"]

    assert sendgrid.post([other_send, by_provider_id, unknown]).status_code == 204

    assert steps(sam.id) == ["queued", "sent", "opened"]
    assert fresh(sam.id).status == "sent"
    assert email_consent(lee.id) == [("opt_in", "email_confirmed"), ("opt_out", "sendgrid_spamreport")]
    assert email_consent(sam.address_id) == [("opt_in", "email_confirmed")]
    assert processed_events() == 3


def test_a_spam_report_about_no_email_of_ours_opts_the_address_out_in_every_organization(
    app: Flask, worker: Worker, sendgrid: SendGrid
) -> None:
    """The organizations of one instance share its SendGrid account, and so its suppressions."""
    from gateway.community import organization

    sam = mailed(worker, email_member("sam@example.org"))
    westside = organization.create("westside", "Westside Neighbors", "+14155550142", "America/Los_Angeles")
    db.session.commit()
    lee_east, lee_west = email_member("lee@example.org"), email_member("lee@example.org", org=westside)
    unknown = {**event("spamreport", sam), "email": "lee@example.org", "sg_message_id": "nope.filter2"}
    del unknown["kindred_message_id"]

    assert sendgrid.post([unknown]).status_code == 204

    for lee in (lee_east, lee_west):
        assert email_consent(lee.id) == [("opt_in", "email_confirmed"), ("opt_out", "sendgrid_spamreport")]
    assert email_consent(sam.address_id) == [("opt_in", "email_confirmed")]


def test_unusable_elements_are_skipped_and_the_rest_of_the_batch_is_kept(
    app: Flask, worker: Worker, sendgrid: SendGrid
) -> None:
    message = mailed(worker, email_member())
    junk: list[Any] = [
        "delivered",
        42,
        None,
        [],
        {"event": "delivered"},  # no event id
        {"sg_event_id": "x" * 101, "event": "delivered"},
        {**event("bounce", message, **BOUNCE), "event": 5},
        # Fields of the wrong type are read as missing: SendGrid's own id still names the email.
        {**event("open", message), "email": ["sam@example.org"], "kindred_message_id": {}},
        # No recipient and no SendGrid id left once the NULs are gone: about no email of ours.
        {**event("click", message), "sg_event_id": "nul\x00id", "sg_message_id": "\x00", "email": "\x00"},
    ]

    response = sendgrid.post([*junk, event("delivered", message)])

    assert response.status_code == 204
    assert steps(message.id) == ["queued", "sent", "opened", "delivered"]
    assert email_consent(message.address_id) == [("opt_in", "email_confirmed")]
    assert processed_events() == 3


@pytest.mark.parametrize("ours", [True, False], ids=["about our email", "about no email of ours"])
def test_the_same_batch_posted_twice_at_once_is_recorded_once(
    app: Flask, worker: Worker, event_signer: EventSigner, clock: SettableClock, ours: bool
) -> None:
    message = mailed(worker, email_member())
    batch = [event(kind, message) for kind in ("processed", "delivered", "open", "spamreport")]
    if not ours:  # nothing to lock but the event ids themselves
        batch = [{**e, "kindred_message_id": "", "sg_message_id": "elsewhere.filter0"} for e in batch]
    ready = threading.Barrier(2)
    answers: list[int] = []

    def deliver() -> None:
        poster = SendGrid(app.test_client(), event_signer, clock)
        ready.wait()
        answers.append(poster.post(batch).status_code)

    db.session.commit()  # the test's own transaction holds no lock the posts would wait for
    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [204, 204]
    expected = ["processed", "delivered", "opened"] if ours else []
    assert steps(message.id) == ["queued", "sent", *expected]
    assert email_consent(message.address_id) == [
        ("opt_in", "email_confirmed"),
        ("opt_out", "sendgrid_spamreport"),
    ]
    assert processed_events() == len(batch)


def test_an_event_another_post_kept_meanwhile_is_left_to_it(
    app: Flask, worker: Worker, sendgrid: SendGrid
) -> None:
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite takes one writer at a time: no other post can come between")
    message = mailed(worker, email_member())
    delivered, spam_report = event("delivered", message), event("spamreport", message)
    other = create_engine(app.config["DATABASE_URL"])
    kept_elsewhere: list[str] = []

    def another_post_keeps_the_spam_report(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # Right before this post keeps its event ids, another keeps one of them and commits.
        if statement.startswith("INSERT INTO provider_event") and not kept_elsewhere:
            kept_elsewhere.append(spam_report["sg_event_id"])
            with other.begin() as connection:
                connection.execute(
                    insert(ProviderEvent).values(event_id=kept_elsewhere[0], kind="spamreport")
                )

    sa_event.listen(db.engine, "before_cursor_execute", another_post_keeps_the_spam_report)
    try:
        response = sendgrid.post([delivered, spam_report])
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", another_post_keeps_the_spam_report)
        other.dispose()

    assert response.status_code == 204 and kept_elsewhere
    assert steps(message.id) == ["queued", "sent", "delivered"]
    assert email_consent(message.address_id) == [("opt_in", "email_confirmed")]  # the other post's to do
    assert processed_events() == 2
