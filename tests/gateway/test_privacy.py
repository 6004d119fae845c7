"""Privacy by text: FORGET a friend, MYDATA, and DELETE, after which only a keyed digest of the
number (and of email addresses that were theirs) is kept, to honour the opt-out."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from gateway.delivery import consent
from gateway.extensions import db
from gateway.models import (
    Address,
    ConsentEvent,
    ConversationReport,
    EmailSignup,
    Friend,
    FriendContactDigest,
    Message,
    Person,
    TipUse,
)
from tests.doubles.sendgrid_api import SendGridApiDouble
from tests.support import Phone, email_member, every_stored_value


@pytest.fixture
def volunteer(phone: Phone) -> Phone:
    for body in (
        "hi",
        "yes",
        "Sam",
        "ADD Maria 555-201-7788, neighbor, cares about schools",
        "talked to Maria, she's in!",
        "ADD Ruth, family, cares about healthcare",
    ):
        phone.send(body)
    return phone


def test_forget_removes_a_friend_and_every_trace_of_them(volunteer: Phone) -> None:
    reply = volunteer.reply_to("FORGET Maria")
    assert reply.startswith("Done. They're off your list") and "Maria" not in reply
    assert [f.name for f in db.session.scalars(select(Friend))] == ["Ruth"]
    assert db.session.scalars(select(ConversationReport)).all() == []
    assert db.session.scalars(select(FriendContactDigest)).all() == []
    assert not [v for v in every_stored_value() if "maria" in v.lower()]
    assert volunteer.reply_to("FRIENDS").startswith("Your people: Ruth")


def test_forget_someone_not_on_the_list(volunteer: Phone) -> None:
    assert volunteer.reply_to("forget Zed") == "I couldn't find Zed on your list. Reply FRIENDS to see it."
    assert db.session.query(Friend).count() == 2


def test_mydata_says_what_is_kept(volunteer: Phone) -> None:
    reply = volunteer.reply_to("MYDATA")
    for part in (
        "your number",
        "Sam",
        "2 people you listed (Maria, Ruth)",
        "1 conversation report",
        "DELETE",
    ):
        assert part in reply


def test_delete_needs_a_yes(volunteer: Phone) -> None:
    assert "Reply YES to erase everything" in volunteer.reply_to("DELETE")
    assert volunteer.reply_to("no wait") == "Okay, nothing was deleted."
    assert db.session.query(Friend).count() == 2


def test_delete_erases_everything_but_a_digest_that_honours_the_opt_out(app: Flask, volunteer: Phone) -> None:
    volunteer.send("TIPS")
    assert db.session.query(TipUse).count() == 1
    volunteer.send("DELETE")
    confirmation = volunteer.reply_to("yes")
    assert "Your data is erased" in confirmation and "START" in confirmation

    address = db.session.scalars(select(Address)).one()
    assert address.value.startswith("hmac:") and not address.pending_erasure
    person = db.session.scalars(select(Person)).one()
    assert person.name is None
    for model in (Friend, ConversationReport, FriendContactDigest, TipUse):
        assert db.session.query(model).count() == 0
    stored = every_stored_value()
    for secret in (
        volunteer.number,
        volunteer.number[2:],
        "Sam",
        "Maria",
        "Ruth",
        "555-201-7788",
        "she's in",
    ):
        assert not [v for v in stored if secret in v], secret
    assert db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id.desc())).first().kind == "opt_out"

    export = app.test_cli_runner().invoke(args=["export", "consent"]).output
    assert volunteer.number not in export and "opted_out" in export

    # If they write again, the digest recognises them: the opt-out stands...
    before = len(volunteer.replies())
    volunteer.send("hi")
    assert len(volunteer.replies()) == before
    # ...until they choose to come back.
    assert volunteer.reply_to("START").startswith("Welcome back")
    assert db.session.scalars(select(Address)).one().value == volunteer.number


def test_delete_erases_only_the_email_addresses_that_are_theirs(
    app: Flask, volunteer: Phone, sendgrid_api: SendGridApiDouble
) -> None:
    """Addresses a volunteer only asked for (someone else's, or one never confirmed) are not
    theirs to erase: their sign-ups and confirmations are withdrawn, and no address is opted out
    but their own."""
    own = email_member("sam@example.org")
    own.person_id = db.session.scalars(select(Address.person_id).where(Address.channel == "sms")).one()
    ana = email_member("ana@example.org")
    ana_id = ana.person_id
    db.session.commit()
    # Answered at once, before the worker sends the confirmations.
    for body in ("EMAIL ana@example.org", "EMAIL new@example.org", "DELETE", "yes"):
        assert volunteer.post(body).status_code == 200
    volunteer.worker.run()
    assert "Your data is erased" in volunteer.replies()[-1]

    assert sendgrid_api.sent == []
    confirmations = db.session.scalars(select(Message).where(Message.channel == "email")).all()
    assert [(m.status, m.error_code) for m in confirmations] == [("suppressed", "erased")] * 2
    assert db.session.scalars(select(EmailSignup)).all() == []
    emails = {a.id: a for a in db.session.scalars(select(Address).where(Address.channel == "email"))}
    db.session.refresh(own)
    assert own.value.startswith("hmac:") and consent.status(own).value == "opted_out"
    ana = emails[ana.id]
    assert (ana.value, ana.person_id, consent.status(ana).value) == ("ana@example.org", ana_id, "opted_in")
    [new] = [a for a in emails.values() if a.value == "new@example.org"]
    assert new.person_id is None and consent.status(new).value == "unknown"


def test_the_erasure_waits_for_the_confirmation_to_be_sent(volunteer: Phone) -> None:
    volunteer.send("DELETE")
    volunteer.post("yes")
    volunteer.worker.answer()  # answered, but the worker has not sent the confirmation yet
    address = db.session.scalars(select(Address)).one()
    assert address.pending_erasure and address.value == volunteer.number
    confirmation = db.session.scalars(select(Message).order_by(Message.id.desc())).first()
    assert confirmation.status == "queued" and "erased" in confirmation.body
    volunteer.worker.run()
    db.session.refresh(address)
    assert address.value.startswith("hmac:")


# What a careful review found: texts that name a friend's contact, or a person, outside the
# paths the first tests took.


@pytest.mark.parametrize(
    "text",
    [
        "ADD Maria 555-201-0001",  # already on the list: nothing is added
        "Carlos 555-201-0002",  # no relationship: goes to the inbox
        "talked to Maria, her new number is 555-201-0003 and email maria@example.org, she's in!",
        "FORGET 555-201-0004",
    ],
)
def test_a_contact_detail_in_any_text_is_stored_only_masked(volunteer: Phone, text: str) -> None:
    volunteer.send(text)
    stored = every_stored_value()
    assert not [v for v in stored if "555-201-000" in v or "maria@example.org" in v]
    assert any("[contact]" in v for v in stored)


def test_forget_scrubs_first_name_mentions_of_a_full_name(volunteer: Phone) -> None:
    volunteer.send("ADD Rosa Delgado, coworker")
    volunteer.send("talked to Rosa, she's open to it")
    volunteer.send("FORGET Rosa")
    assert not [v for v in every_stored_value() if "rosa" in v.lower()]
    assert {f.name for f in db.session.scalars(select(Friend))} == {"Maria", "Ruth"}


def test_writing_again_before_the_erasure_finished_keeps_the_number(volunteer: Phone) -> None:
    volunteer.send("DELETE")
    volunteer.post("yes")  # the confirmation is queued...
    volunteer.post("START")  # ...and they change their mind before it goes
    volunteer.worker.run()
    address = db.session.scalars(select(Address)).one()
    assert (address.value, address.pending_erasure) == (volunteer.number, False)
    assert volunteer.replies()[-1].startswith("Welcome back")


def test_an_erased_person_who_writes_while_still_opted_out_is_erased_again(volunteer: Phone) -> None:
    volunteer.send("DELETE")
    volunteer.send("yes")
    assert volunteer.send("who is this?") == []
    address = db.session.scalars(select(Address)).one()
    assert address.value.startswith("hmac:")
    assert not [v for v in every_stored_value() if volunteer.number in v]
