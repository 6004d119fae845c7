"""A volunteer's whole first conversation, through the signed webhook, the outbox, the real
worker and the real twilio client talking to the Twilio API double."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import (
    ConsentEvent,
    ConversationReport,
    Friend,
    Message,
    Person,
    Prompt,
    PromptUse,
)
from tests.support import Phone


def test_join_add_friend_get_prompt_and_report(phone: Phone) -> None:
    terms = phone.reply_to("hi")
    assert "Eastside Neighbors" in terms
    for required in ("Reply YES", "Msg & data rates may apply", "HELP", "STOP", "msgs/week"):
        assert required in terms

    assert phone.reply_to("yes") == "Welcome! What's your first name?"
    optin = db.session.scalars(select(ConsentEvent)).one()
    assert (optin.kind, optin.source) == ("opt_in", "sms_keyword")
    evidence = db.session.get(Message, optin.evidence_message_id)
    assert evidence is not None and evidence.body == "yes" and evidence.direction == "inbound"

    assert phone.reply_to("Sam").startswith("Thanks, Sam. Who is someone in your life")

    added = phone.reply_to("my grandma Ruth")
    assert added.startswith("Added Ruth (family). What does Ruth care about?")

    idea = phone.reply_to("medicare, her church")
    assert idea.startswith("Idea for Ruth:")
    assert "reply with how it went" in idea
    # Ruth is family and cares about healthcare: the most specific prompt in the library wins.
    used = db.session.scalars(select(Prompt).join(PromptUse)).one()
    assert (used.key, used.relationships, used.interests) == (
        "healthcare-family",
        ["family"],
        ["healthcare"],
    )
    assert "doctor and medicine costs" in idea
    ruth = db.session.scalars(select(Friend)).one()
    assert ruth.interests == ["healthcare", "church"]

    thanks = phone.reply_to("talked sunday, she's worried about prices but open to coming to the forum")
    assert thanks.startswith("Thank you! Logged: Ruth is open")
    report = db.session.scalars(select(ConversationReport)).one()
    assert report.outcome == "open"
    assert "worried about prices" in report.learned
    db.session.refresh(ruth)
    assert ruth.stage == "open"
    volunteer = db.session.scalars(select(Person)).one()
    assert volunteer.name == "Sam" and volunteer.volunteer_since is not None


def test_every_reply_records_why_it_exists_and_its_delivery(phone: Phone) -> None:
    phone.send("hi")
    phone.send("yes")
    outbound = db.session.scalars(
        select(Message).where(Message.direction == "outbound").order_by(Message.id)
    ).all()
    assert [m.reason for m in outbound] == ["opt_in_request", "reply"]
    for message in outbound:
        assert message.in_reply_to_id is not None
        assert message.provider_id and message.provider_id.startswith("SM")
        assert [e.status for e in message.history] == ["queued", "sent"]


def test_logs_never_carry_a_phone_number_email_or_message_body(
    phone: Phone, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts = [
        "hi",
        "yes",
        "Sam",
        "ADD Bob 555-201-7788 bob@example.org",
        "SKIP",
        "talked to Bob, he's in!",
    ]
    for text in texts:
        phone.send(text)
    logged = caplog.text
    assert "outbox: message" in logged  # the outbox does log each send...
    for secret in [phone.number, phone.number[1:], "555-201-7788", "bob@example.org", *texts[3:]]:
        assert secret not in logged  # ...but never who or what
    assert any(r.getMessage().endswith("+1******5309") for r in caplog.records)
