"""Organizers answer a member's email from the console inbox: the answer goes by email, through
the outbox and the real sendgrid client, threaded on the member's reply (In-Reply-To and
References) and with the thread's reply address, so the member's next reply lands here again."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.delivery import consent, mail_tokens
from gateway.extensions import db
from gateway.models import Address, EmailSignup, Message, utcnow
from tests.console.conftest import SignedIn
from tests.console.test_inbox import answer
from tests.doubles.sendgrid_api import SendGridApiDouble
from tests.email.conftest import SAM, MailProgram, reply_address
from tests.support import Worker

MEMBER_MESSAGE_ID = "<CAF=reply-1@mail.example.org>"


def thread_link(browser: FlaskClient) -> str:
    page = browser.get("/console/inbox").get_data(as_text=True)
    [link] = re.findall(r'<a href="(/console/inbox/\d+)">Sam</a>', page)
    return link


@pytest.fixture
def replied(member: Address, mail_program: MailProgram, signed_in: SignedIn) -> tuple[FlaskClient, str]:
    """Sam replied to the organization's email: an organizer, signed in, and Sam's thread."""
    assert mail_program.reply("gmail", reply_address(member), message_id=MEMBER_MESSAGE_ID).status_code == 200
    organizer = signed_in("organizer")
    return organizer, thread_link(organizer)


def test_an_organizer_answers_an_email_thread_and_the_member_gets_a_threaded_email(
    member: Address,
    mail_program: MailProgram,
    replied: tuple[FlaskClient, str],
    worker: Worker,
    sendgrid_api: SendGridApiDouble,
) -> None:
    organizer, thread = replied
    page = organizer.get(thread).get_data(as_text=True)
    assert "Goes out by email" in page and "Send answer by email" in page

    status, page = answer(organizer, thread, "Wonderful, Sam! Ana is welcome too.")
    assert status == 200 and "Answer queued" in page
    worker.run()

    [mail] = sendgrid_api.sent
    assert (mail.to, mail.subject, mail.text) == (
        SAM,
        "Re: Forum Thursday",
        "Wonderful, Sam! Ana is welcome too.",
    )
    assert mail.headers["In-Reply-To"] == MEMBER_MESSAGE_ID
    assert mail.headers["References"] == MEMBER_MESSAGE_ID
    assert mail.reply_to is not None and mail_tokens.route(mail.reply_to) == ("reply", member.person_id)
    sent = db.session.scalar(select(Message).where(Message.reason == "organizer_reply"))
    assert sent is not None and sent.channel == "email" and sent.organizer_id is not None
    assert "An organizer answered by email" in organizer.get(thread).get_data(as_text=True)

    # The member answers the answer: it lands on the same thread, open again.
    assert mail_program.reply("apple", mail.reply_to).status_code == 200
    assert thread_link(organizer) == thread


def test_no_answer_goes_to_a_member_who_unsubscribed(
    member: Address,
    replied: tuple[FlaskClient, str],
    worker: Worker,
    sendgrid_api: SendGridApiDouble,
) -> None:
    organizer, thread = replied
    consent.opt_out(member, "email_link", "unsubscribe link")
    db.session.commit()

    status, page = answer(organizer, thread, "Hi Sam, still coming?")
    worker.run()

    assert status == 409
    assert "unsubscribed from email" in page and "Hi Sam, still coming?" in page  # the draft is kept
    assert sendgrid_api.sent == []


def test_a_phone_given_on_the_sign_up_form_shows_on_the_thread_to_call_masked_for_viewers(
    member: Address, mail_program: MailProgram, signed_in: SignedIn
) -> None:
    db.session.add(
        EmailSignup(
            organization_id=member.organization_id,
            address_id=member.id,
            person_id=member.person_id,
            source="join",
            phone_note="+15555550142",
            confirmed_at=utcnow(),
        )
    )
    db.session.commit()
    assert mail_program.reply("gmail", reply_address(member)).status_code == 200
    organizer = signed_in("organizer")
    page = organizer.get(thread_link(organizer)).get_data(as_text=True)
    assert "to call (not checked, and no texts): +15555550142" in page
    viewer = signed_in("viewer")
    assert "+15555550142" not in viewer.get(thread_link(viewer)).get_data(as_text=True)
