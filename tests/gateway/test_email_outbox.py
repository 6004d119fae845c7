"""Member email through the outbox (invariants 1, 2 and 6 on the email channel): an email goes
out through the real sendgrid client to a local double of SendGrid's v3 API, rendered from the
organizer's Markdown with a plain-text part, threaded by a signed reply-to address and carrying
one-click unsubscribe; nothing reaches an address without an email opt-in or after an opt-out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from gateway import create_app
from gateway.delivery import consent, mail_tokens, outbox
from gateway.extensions import db
from gateway.models import Address, Message
from tests.conftest import INBOUND_EMAIL_DOMAIN, ORGANIZATION_POSTAL_ADDRESS, PUBLIC_BASE_URL
from tests.doubles.sendgrid_api import SendGridApiDouble
from tests.support import SettableClock, Worker
from tests.support import email_member as member


@pytest.fixture(autouse=True)
def working_hours(clock: SettableClock) -> None:
    """Noon in New York: a mailing, like a text the organization starts, waits for the day."""
    clock.set(datetime(2026, 11, 24, 17, 0, tzinfo=UTC))


def sent_message(message_id: int) -> Message:
    db.session.rollback()
    message = db.session.get(Message, message_id)
    assert message is not None
    return message


def test_a_mailing_goes_out_rendered_with_footer_reply_address_and_one_click_unsubscribe(
    app: Flask, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    address = member()
    body = "Hi **Sam**,\n\nThe forum is on *Thursday*. <script>alert(1)</script>\n"
    message = outbox.queue_email(address, "Forum Thursday", body, "mailing")
    db.session.commit()
    worker.run()

    [mail] = sendgrid_api.sent
    assert (mail.to, mail.subject, mail.from_name) == (
        "sam@example.org",
        "Forum Thursday",
        "Eastside Neighbors",
    )
    assert "<strong>Sam</strong>" in mail.html and "<em>Thursday</em>" in mail.html
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert mail.text.startswith(body)
    # CAN-SPAM: a visible unsubscribe link and the postal address in both parts.
    for part in (mail.text, mail.html):
        assert ORGANIZATION_POSTAL_ADDRESS in part
        assert f"{PUBLIC_BASE_URL}/email/unsubscribe/" in part
    # RFC 8058 one-click, with a mailto beside it.
    url, mailto = (h.strip(" <>") for h in mail.headers["List-Unsubscribe"].split(","))
    assert url.startswith(f"{PUBLIC_BASE_URL}/email/unsubscribe/")
    assert mailto.startswith("mailto:unsubscribe+") and f"@{INBOUND_EMAIL_DOMAIN}" in mailto
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Replies route back to Sam's thread by a signed token.
    assert mail.reply_to is not None and mail.reply_to.endswith(f"@{INBOUND_EMAIL_DOMAIN}")
    assert mail_tokens.route(mail.reply_to) == ("reply", address.person_id)
    assert mail.custom_args == {"kindred_message_id": str(message.id)}

    sent = sent_message(message.id)
    assert (sent.status, sent.provider_id) == ("sent", mail.message_id)
    assert mail.headers["Message-ID"] == sent.header_id
    assert [e.status for e in sent.history] == ["queued", "sent"]


def test_an_answer_to_a_members_email_threads_on_it_and_has_no_footer(
    app: Flask, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    address = member()
    inbound = Message(
        organization_id=address.organization_id,
        direction="inbound",
        channel="email",
        address_id=address.id,
        subject="Re: Forum Thursday",
        body="Can I bring my neighbor?",
        status="received",
        header_id="<CAF=abc123@mail.gmail.com>",
    )
    db.session.add(inbound)
    db.session.commit()
    outbox.queue_email(
        address, "Re: Forum Thursday", "Yes, please do!", "organizer_reply", in_reply_to=inbound
    )
    db.session.commit()
    worker.run()

    [mail] = sendgrid_api.sent
    assert mail.headers["In-Reply-To"] == "<CAF=abc123@mail.gmail.com>"
    assert mail.headers["References"] == "<CAF=abc123@mail.gmail.com>"
    assert ORGANIZATION_POSTAL_ADDRESS not in mail.text
    assert mail.text == "Yes, please do!"


@pytest.mark.parametrize("opted_in", [False, True])
def test_nobody_without_an_email_opt_in_or_after_an_opt_out_gets_a_mailing(
    app: Flask, worker: Worker, sendgrid_api: SendGridApiDouble, opted_in: bool
) -> None:
    address = member(opted_in=opted_in)
    message = outbox.queue_email(address, "News", "Hello", "mailing")
    if opted_in:  # opted out after it was queued: the worker checks again right before sending
        consent.opt_out(address, "email_unsubscribe_link")
    db.session.commit()
    worker.run()

    assert sendgrid_api.sent == []
    assert sendgrid_api.requests == 0
    suppressed = sent_message(message.id)
    assert (suppressed.status, suppressed.error_code) == (
        "suppressed",
        "opted_out" if opted_in else "no_opt_in",
    )


def test_an_sms_opt_out_does_not_stop_email_nor_an_email_opt_out_texts(app: Flask) -> None:
    address = member()
    phone = Address(
        organization_id=address.organization_id,
        person_id=address.person_id,
        channel="sms",
        value="+15555550123",
    )
    db.session.add(phone)
    db.session.flush()
    consent.opt_out(phone, "sms_keyword")
    db.session.commit()
    assert consent.status(address).value != consent.status(phone).value
    assert consent.opt_out(address, "email_unsubscribe_link") is True
    assert consent.opt_out(address, "email_unsubscribe_link") is False  # the ledger keeps the first


def test_a_passing_sendgrid_error_is_retried_and_the_email_sent_once(
    app: Flask, worker: Worker, sendgrid_api: SendGridApiDouble, clock: SettableClock
) -> None:
    address = member()
    sendgrid_api.fail_next(1, status=503)
    message = outbox.queue_email(address, "News", "Hello", "mailing")
    db.session.commit()
    worker.run()
    assert sent_message(message.id).status == "queued"
    clock.advance(timedelta(minutes=30))
    outbox.sweep()  # the sweeper finds it due again
    worker.run()

    assert len(sendgrid_api.sent) == 1
    retried = sent_message(message.id)
    assert retried.status == "sent" and retried.attempts == 2


def test_a_refused_recipient_fails_without_retry(
    app: Flask, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    address = member()
    sendgrid_api.reject("sam@example.org")
    message = outbox.queue_email(address, "News", "Hello", "mailing")
    db.session.commit()
    worker.run()
    failed = sent_message(message.id)
    assert (failed.status, failed.error_code) == ("failed", "sg400")
    assert sendgrid_api.requests == 1


def test_a_mailing_waits_for_the_members_morning(
    app: Flask, worker: Worker, sendgrid_api: SendGridApiDouble, clock: SettableClock
) -> None:
    clock.set(datetime(2026, 11, 25, 7, 0, tzinfo=UTC))  # 2 a.m. in New York
    message = outbox.queue_email(member(), "News", "Hello", "mailing")
    db.session.commit()
    worker.run()
    deferred = sent_message(message.id)
    assert deferred.status == "queued" and sendgrid_api.sent == []
    assert deferred.next_attempt_at == datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


def test_with_email_turned_off_nothing_is_sent_and_the_history_says_why(
    app: Flask, sendgrid_api: SendGridApiDouble, clock: SettableClock
) -> None:
    settings = {k: v for k, v in app.config.items() if k.isupper() and isinstance(v, str | int)}
    off = create_app({**settings, "EMAIL_TRANSPORT": "none", "CLOCK": clock})
    with off.app_context():
        address = member()
        message = outbox.queue_email(address, "News", "Hello", "mailing")
        db.session.commit()
        Worker(off).run()
        assert sent_message(message.id).error_code == "email_off"
    assert sendgrid_api.requests == 0


def test_tokens_cannot_be_forged_moved_to_another_purpose_or_used_after_they_expire(
    app: Flask, clock: SettableClock
) -> None:
    token = mail_tokens.make(mail_tokens.CONFIRM, 42)
    assert mail_tokens.read(mail_tokens.CONFIRM, token) == 42
    assert mail_tokens.read(mail_tokens.CONFIRM, token.upper()) == 42  # mail may change the case
    assert mail_tokens.read(mail_tokens.REPLY, token) is None
    row, day, mac = token.split("-")
    assert mail_tokens.read(mail_tokens.CONFIRM, f"{row}1-{day}-{mac}") is None
    assert mail_tokens.read(mail_tokens.CONFIRM, f"{row}-{day}-{'0' * len(mac)}") is None
    assert mail_tokens.route(f"reply+{token}@{INBOUND_EMAIL_DOMAIN}") is None
    assert mail_tokens.route(f"reply+{mail_tokens.make('reply', 7)}@elsewhere.example") is None
    clock.advance(timedelta(days=8))
    assert mail_tokens.read(mail_tokens.CONFIRM, token) is None
