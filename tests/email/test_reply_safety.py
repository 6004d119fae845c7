"""Members' email replies, hardened: a reply address is no proof of who is writing (a forwarded
email's reader, a forged From), an unsubscribe by reply is honoured whatever address it went
to, and a broken From, charset or subject gets a clear answer instead of a server error or a
header of its own in the organizer's answer."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from gateway.delivery import consent
from gateway.extensions import db
from gateway.models import Address, ConsentEvent, Message, Person, Thread
from tests.conftest import INBOUND_EMAIL_DOMAIN
from tests.console.conftest import SignedIn
from tests.console.test_inbox import answer
from tests.doubles.sendgrid_api import SendGridApiDouble
from tests.email.conftest import SAM, MailProgram, inbound_emails, payload, reply_address
from tests.support import SettableClock, Worker

STRANGER = "stranger@elsewhere.example"
GMAIL_WORDS = "Yes! I can make it Thursday, and I'll bring my neighbor Ana."


def edited(name: str, changes: dict[bytes, bytes], **values: str) -> bytes:
    """The payload `name` with its placeholders filled in and each change made (once)."""
    body = payload(name, **values)
    for old, new in changes.items():
        assert body.count(old) >= 1, old
        body = body.replace(old, new)
    return body


def sams_reply(
    mail_program: MailProgram, member: Address, name: str, changes: dict[bytes, bytes], message_id: str
) -> list[Message]:
    """Post the payload `name`, changed, as Sam's reply to their own reply address; the
    inbound emails stored since."""
    body = edited(name, changes, TO=reply_address(member), FROM=SAM, MESSAGE_ID=message_id)
    assert mail_program.post(body).status_code == 200
    return inbound_emails()


def spf(result: str) -> dict[bytes, bytes]:
    """The change that makes Inbound Parse's SPF verdict `result` instead of pass."""
    return {b'name="SPF"\r\n\r\npass': f'name="SPF"\r\n\r\n{result}'.encode()}


def unmatched_page(browser: FlaskClient) -> str:
    return unescape(browser.get("/console/inbox?show=unmatched").get_data(as_text=True))


def thread_of_sam(browser: FlaskClient) -> str:
    [link] = re.findall(
        r'<a href="(/console/inbox/\d+)">Sam</a>', browser.get("/console/inbox").get_data(as_text=True)
    )
    return link


def threads() -> int:
    return db.session.scalar(select(func.count()).select_from(Thread)) or 0


def opted_out(value: str) -> bool:
    address = db.session.scalar(select(Address).where(Address.value == value))
    return address is not None and consent.status(address).name == "OPTED_OUT"


def test_a_stranger_writing_with_a_members_reply_address_is_unmatched_and_the_answer_goes_to_the_member(
    member: Address,
    mail_program: MailProgram,
    signed_in: SignedIn,
    worker: Worker,
    sendgrid_api: SendGridApiDouble,
) -> None:
    """Sam forwarded the email; a friend replies from their own address with Sam's reply link."""
    assert mail_program.reply("gmail", reply_address(member)).status_code == 200
    assert mail_program.reply("apple", reply_address(member), sender=STRANGER).status_code == 200

    sams, strangers = inbound_emails()
    assert strangers.reason == "unmatched" and strangers.needs_attention
    assert strangers.address.value == STRANGER and strangers.address.person_id is None  # attached to no one
    assert sams.address.person_id == member.person_id
    organizer = signed_in("organizer")
    page = unmatched_page(organizer)
    assert "sent with Sam's reply address" in page and "s***@elsewhere.example" in page
    assert STRANGER not in page

    thread = thread_of_sam(organizer)
    assert "Sounds great" not in organizer.get(thread).get_data(as_text=True)  # not on Sam's thread
    status, _ = answer(organizer, thread, "Thanks Sam, see you Thursday.")
    assert status == 200
    worker.run()
    [sent] = sendgrid_api.sent
    assert sent.to == SAM  # the member's own address, never the stranger's


def test_a_reply_from_an_address_new_to_us_is_not_taken_as_the_members(
    member: Address, mail_program: MailProgram, signed_in: SignedIn
) -> None:
    """Even if it is Sam's work address: nothing proves it; an organizer can follow up."""
    response = mail_program.reply("gmail", reply_address(member), sender="Sam.Rivera@Work.Example.com")
    assert response.status_code == 200

    [stored] = inbound_emails()
    assert stored.reason == "unmatched" and stored.address.person_id is None
    assert threads() == 0
    assert "sent with Sam's reply address" in unmatched_page(signed_in("organizer"))


def _alex() -> Person:
    alex = Person(organization_id=1, name="Alex")
    db.session.add(alex)
    db.session.flush()
    db.session.add(
        Address(
            organization_id=alex.organization_id, person_id=alex.id, channel="email", value="alex@example.org"
        )
    )
    db.session.commit()
    return alex


@pytest.mark.parametrize("to", ["hello", "expired", "another person's token", "automatic", "spf fail"])
def test_an_unsubscribe_reply_opts_the_senders_address_out_whatever_it_was_sent_to(
    member: Address, mail_program: MailProgram, clock: SettableClock, to: str
) -> None:
    alex = _alex()
    changes: dict[bytes, bytes] = {}
    address = reply_address(member)
    if to == "hello":
        address = f"hello@{INBOUND_EMAIL_DOMAIN}"
    elif to == "expired":
        clock.advance(timedelta(days=401))
    elif to == "another person's token":
        assert alex.id is not None
        from gateway.delivery import mail_tokens

        address = mail_tokens.reply_address(alex.id)
    elif to == "automatic":
        changes[b"MIME-Version: 1.0\r\n"] = b"MIME-Version: 1.0\r\nAuto-Submitted: auto-replied\r\n"
    elif to == "spf fail":
        changes = spf("fail")
    body = edited("unsubscribe", changes, TO=address, FROM=SAM, MESSAGE_ID="<stop@mail.example.org>")
    assert mail_program.post(body).status_code == 200

    [stored] = inbound_emails()
    assert opted_out(SAM)
    assert not opted_out("alex@example.org")  # only the sender's own address
    event = db.session.scalar(select(ConsentEvent).order_by(ConsentEvent.id.desc()))
    assert event is not None and event.source == "email_reply" and event.evidence_message_id == stored.id
    assert threads() == 0


def test_a_stranger_mailing_a_members_unsubscribe_mailto_opts_the_member_out_not_themselves(
    member: Address, mail_program: MailProgram
) -> None:
    """The List-Unsubscribe mailto's token names the address it unsubscribes."""
    from gateway.delivery import mail_tokens

    to = mail_tokens.unsubscribe_mailto(member.id).removeprefix("mailto:").partition("?")[0]
    assert mail_program.reply("gmail", to, sender=STRANGER).status_code == 200
    inbound_emails()
    assert opted_out(SAM) and not opted_out(STRANGER)


def test_spf_fail_keeps_a_reply_from_the_members_own_address_off_their_thread(
    member: Address, mail_program: MailProgram, signed_in: SignedIn
) -> None:
    [stored] = sams_reply(
        mail_program,
        member,
        "gmail",
        spf("fail"),
        "<forged@mail.example.org>",
    )
    assert stored.reason == "unmatched" and threads() == 0
    assert "sent with Sam's reply address" in unmatched_page(signed_in("organizer"))

    sams_reply(
        mail_program, member, "gmail", spf("softfail"), "<soft@mail.example.org>"
    )  # common for real mail
    assert threads() == 1


def test_a_from_longer_than_any_address_gets_a_clear_400_and_nothing_is_stored(
    member: Address, mail_program: MailProgram
) -> None:
    long_sender = "a" * 320 + "@example.org"
    response = mail_program.reply("gmail", reply_address(member), sender=long_sender)
    assert response.status_code == 400
    assert "From address" in response.get_json()["description"]
    assert inbound_emails() == []


@pytest.mark.parametrize("codec", ["idna", "punycode", "rot13", "x-no-such-charset"])
def test_a_field_in_an_odd_charset_is_read_as_utf8(
    member: Address, mail_program: MailProgram, codec: str
) -> None:
    [stored] = sams_reply(
        mail_program,
        member,
        "gmail",
        {b'"text":"UTF-8"': f'"text":"{codec}"'.encode()},
        "<odd@mail.example.org>",
    )
    assert stored.body == GMAIL_WORDS


@pytest.mark.parametrize("codec", ["idna", "punycode"])
def test_a_raw_email_part_in_an_odd_charset_is_read_as_utf8(
    member: Address, mail_program: MailProgram, codec: str
) -> None:
    [stored] = sams_reply(
        mail_program,
        member,
        "raw",
        {b"charset=ISO-8859-1; format=flowed": f"charset={codec}; format=flowed".encode()},
        "<odd-raw@mail.example.org>",
    )
    assert stored.body.startswith("Thursday works. Shall we get a caf\ufffd after?")


INJECTED = "=?utf-8?q?Hi=0D=0ABcc:_evil@x.org?="


def test_a_line_break_in_a_members_subject_never_reaches_the_answers_headers(
    member: Address,
    mail_program: MailProgram,
    signed_in: SignedIn,
    worker: Worker,
    sendgrid_api: SendGridApiDouble,
) -> None:
    [stored] = sams_reply(
        mail_program,
        member,
        "gmail",
        {
            b"Subject: Re: Forum Thursday": f"Subject: {INJECTED}".encode(),
            b"\r\n\r\nRe: Forum Thursday\r\n": f"\r\n\r\n{INJECTED}\r\n".encode(),
        },
        "<crlf@mail.example.org>",
    )
    assert stored.subject == "Hi Bcc: evil@x.org"

    organizer = signed_in("organizer")
    status, _ = answer(organizer, thread_of_sam(organizer), "Hi Sam!")
    assert status == 200
    worker.run()
    [sent] = sendgrid_api.sent
    assert sent.subject == "Re: Hi Bcc: evil@x.org" and sent.to == SAM
    assert "evil@x.org" not in str(sent.raw["personalizations"])  # no one else got it
    answered = db.session.scalar(select(Message).where(Message.reason == "organizer_reply"))
    assert answered is not None and "\n" not in answered.subject and "\r" not in answered.subject


def test_a_nul_in_a_members_subject_is_stored_as_a_replacement_character(
    member: Address, mail_program: MailProgram
) -> None:
    [stored] = sams_reply(
        mail_program,
        member,
        "gmail",
        {b"\r\n\r\nRe: Forum Thursday\r\n": b"\r\n\r\n=?utf-8?q?Hi=00there?=\r\n"},
        "<nul@mail.example.org>",
    )
    assert stored.subject == "Hi\ufffdthere"
