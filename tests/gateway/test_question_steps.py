"""A pending question takes only what answers it, through the signed Twilio webhook, the real
worker and the Twilio double: a real volunteer is put at each question (YES to join, their name,
their first friend, what a friend cares about, which friend, how it went, DELETE's YES) and sends
each kind of message (a report, an opt-out, HELP, a command, an RSVP, a new friend, a thanks).
Each test checks what the volunteer would notice: the reply, and what got recorded (an opt-out,
a report, a friend, an RSVP). After HELP or a thanks the question still takes its answer.
tests/flows/test_questions.py holds the same table for the flows alone.

The volunteers of one question are set up side by side, one worker run for each round of texts,
so the table stays fast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import Event, Rsvp
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import (
    Phone,
    SettableClock,
    Worker,
    friends_of,
    opted_out,
    person_of,
    reports_of,
    text_together,
)

MONDAY = datetime(2026, 11, 30, 11, 0, tzinfo=ZoneInfo("America/New_York"))
JOIN = ("hi", "yes", "Sam")
MARIA_AND_RUTH = (*JOIN, "my neighbor Maria", "my cousin Ruth")
UNSUBSCRIBED = (
    "Eastside Neighbors: You're unsubscribed and will get no more texts from us. Reply START to rejoin."
)
TERMS_REMINDER = "Reply YES to join Eastside Neighbors, HELP for help, or STOP to opt out."
HELP = "Eastside Neighbors helps you plan real conversations with people you know."
WELCOME = "You're welcome! Text me anytime."


@dataclass(frozen=True)
class Question:
    """How a volunteer gets to a question, the answer it takes and the reply that answer gets, the
    report a volunteer there would send (and whom it is about), and the friends listed by then."""

    setup: tuple[str, ...]
    answer: str
    answered: str
    report: str
    reported: str | None
    listed: frozenset[str]
    thanks: str = WELCOME


QUESTIONS = {
    "awaiting_opt_in": Question(
        ("hi",),
        "YES",
        "Welcome! What's your first name?",
        "talked to my cousin Joe, he's in!",
        None,
        frozenset(),
    ),
    "ask_name": Question(
        JOIN[:2],
        "Sam",
        "Thanks, Sam.",
        "talked to my cousin Joe, he's in!",
        "Joe",
        frozenset(),
        thanks="Sorry, I didn't get that. What's your first name?",
    ),
    "ask_friend": Question(
        JOIN,
        "Maria",
        "Added Maria",
        "talked to my cousin Joe, he's in!",
        "Joe",
        frozenset(),
        thanks='Who would you like to add? Reply with a name and how you know them, like "Maria, neighbor".',
    ),
    "ask_interests": Question(
        (*JOIN, "my neighbor Maria"),
        "schools",
        "Idea for Maria:",
        "talked to her already, she's in!",
        "Maria",
        frozenset({"Maria"}),
    ),
    "choose_friend": Question(
        (*MARIA_AND_RUTH, "FRIENDS", "we talked"),
        "2",
        "How did it go with Ruth?",
        "Ruth said she's in!",
        "Ruth",
        frozenset({"Maria", "Ruth"}),
    ),
    "choose_outcome": Question(
        (*MARIA_AND_RUTH, "talked to Maria"),
        "1",
        "Thank you! Logged: Maria is in.",
        "Ruth said she's in!",
        "Ruth",
        frozenset({"Maria", "Ruth"}),
    ),
    "confirm_delete": Question(
        (*MARIA_AND_RUTH, "DELETE"),
        "YES",
        "Eastside Neighbors: Done. Your data is erased",
        "Ruth said she's in!",
        "Ruth",
        frozenset({"Maria", "Ruth"}),
        thanks=f"Okay, nothing was deleted. {WELCOME}",
    ),
}
KINDS = {
    "report": None,  # the question's own report
    "opt-out": "please stop texting me",
    "HELP": "HELP",
    "command": "EVENTS",
    "RSVP": "count me in for the housing forum",
    "new friend": "my neighbor Carlos",
    "thanks": "thanks!",
}
# What leaves the question open for its answer (DELETE's question takes YES only right away).
KEEP_THE_QUESTION = ("HELP", "thanks")


@pytest.fixture
def housing_forum(app: Flask, clock: SettableClock) -> Flask:
    clock.set(MONDAY)
    added = app.test_cli_runner().invoke(args=["events", "add", "Housing Forum", "--at", "2026-12-03T18:30"])
    assert added.exit_code == 0, added.output
    return app


def rsvps_of(phone: Phone) -> list[tuple[str, str]]:
    db.session.rollback()
    rows = db.session.execute(
        select(Event.title, Rsvp.status).join(Event).where(Rsvp.person_id == person_of(phone).id)
    )
    return [tuple(row) for row in rows]


@pytest.mark.parametrize("step", QUESTIONS)
def test_each_kind_of_message_at_each_question(
    step: str, housing_forum: Flask, client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker
) -> None:
    question = QUESTIONS[step]
    row = list(QUESTIONS).index(step)
    phones = {
        kind: Phone(client, twilio_api, worker, f"+1555{row + 1}{column}00001")
        for column, kind in enumerate(KINDS)
    }
    for text in question.setup:
        text_together([(phone, text) for phone in phones.values()], worker)
    sent = {kind: text or question.report for kind, text in KINDS.items()}
    replies = dict(zip(KINDS, text_together([(phones[k], sent[k]) for k in KINDS], worker), strict=True))
    joined = step != "awaiting_opt_in"

    # An opt-out wins everywhere, and HELP is answered everywhere.
    assert replies["opt-out"] == [UNSUBSCRIBED] and opted_out(phones["opt-out"])
    assert len(replies["HELP"]) == 1 and replies["HELP"][0].startswith(HELP)
    if not joined:
        # Before YES, anything else gets the reminder of the terms and nothing is recorded.
        for kind in ("report", "command", "RSVP", "new friend", "thanks"):
            assert replies[kind] == [TERMS_REMINDER], kind
            assert not opted_out(phones[kind]) and not reports_of(phones[kind]), kind
            assert not friends_of(phones[kind]) and not rsvps_of(phones[kind]), kind
    else:
        (report,) = replies["report"]
        assert f"Logged: {question.reported} is in" in report
        assert [(name, outcome) for name, outcome, _ in reports_of(phones["report"])] == [
            (question.reported, "committed")
        ]
        new = {"Joe"} if question.reported == "Joe" else set()
        assert set(friends_of(phones["report"])) == question.listed | new

        assert "Coming up: 1) Housing Forum" in replies["command"][0]
        assert "You're in for Housing Forum" in replies["RSVP"][0]
        assert rsvps_of(phones["RSVP"]) == [("Housing Forum", "yes")]
        assert "Added Carlos" in replies["new friend"][0]
        assert set(friends_of(phones["new friend"])) == question.listed | {"Carlos"}
        assert replies["thanks"] == [question.thanks]
        for kind in ("HELP", "command", "RSVP", "new friend", "thanks"):
            assert not reports_of(phones[kind]) and not opted_out(phones[kind]), kind
        for kind in ("HELP", "command", "RSVP", "thanks"):
            assert set(friends_of(phones[kind])) == question.listed, kind

    # After HELP or a thanks, the question still takes its answer.
    kept = [kind for kind in KEEP_THE_QUESTION if kind == "HELP" or step != "confirm_delete"]
    answered = text_together([(phones[kind], question.answer) for kind in kept], worker)
    for kind, reply in zip(kept, answered, strict=True):
        assert reply and reply[0].startswith(question.answered), (kind, reply)


def test_said_he_would_be_at_the_forum_is_a_report_about_the_friend_just_added(phone: Phone) -> None:
    for text in ("hi", "yes", "Sam"):
        phone.send(text)
    assert "What does Carlos care about?" in phone.reply_to("my coworker Carlos")
    assert "Logged: Carlos is in" in phone.reply_to("he said he'd be at the forum for sure")
    assert reports_of(phone) == [("Carlos", "committed", "he said he'd be at the forum for sure")]
    assert friends_of(phone)["Carlos"] == ("coworker", "committed", [])
    # Somewhere that is not an event is no report.
    assert "What does Dee care about?" in phone.reply_to("my cousin Dee")
    assert "Logged" not in phone.reply_to("he said he'd be at work till 6")
    assert [name for name, _, _ in reports_of(phone)] == ["Carlos"]
