"""Team leads proposing events by text, full events, and news told once: (text, context) ->
(reply, effects). No app, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from flows import engine
from flows.event_proposals import when_given
from flows.events import (
    Consent,
    Context,
    EventView,
    Friend,
    Inbound,
    LogReport,
    Notice,
    NoticeKind,
    NoticesTold,
    Organization,
    ProposeEvent,
    RecordRsvp,
    ReplyKind,
    State,
    TeamView,
)

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # Wednesday, noon in New York
ORG = Organization("Eastside Neighbors", "organizers@eastside.example.org")
WALKERS = TeamView(7, "Block Walkers", "K7Q2X", 3, ("Ana", "Luis"), lead_names=("Ana",))
LEAD = replace(WALKERS, lead=True, lead_names=())


def ctx(team: TeamView | None = LEAD, **extra) -> Context:
    return Context(ORG, NOW, Consent.OPTED_IN, "Sam", team=team, **extra)


def answer(text: str, context: Context):
    return engine.respond(State("idle"), Inbound(text, NOW), context)


LOCAL = NOW.astimezone(NEW_YORK)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sat 3pm", datetime(2026, 11, 28, 15, 0, tzinfo=NEW_YORK)),
        ("saturday at 3:30 PM", datetime(2026, 11, 28, 15, 30, tzinfo=NEW_YORK)),
        ("Wed 11am", datetime(2026, 12, 2, 11, 0, tzinfo=NEW_YORK)),  # today's has passed
        ("Wed 6pm", datetime(2026, 11, 25, 18, 0, tzinfo=NEW_YORK)),
        ("Dec 5 6:30pm", datetime(2026, 12, 5, 18, 30, tzinfo=NEW_YORK)),
        ("December 5, 6:30 p.m.", datetime(2026, 12, 5, 18, 30, tzinfo=NEW_YORK)),
        ("5 dic 18:30", datetime(2026, 12, 5, 18, 30, tzinfo=NEW_YORK)),
        ("sábado 10am", datetime(2026, 11, 28, 10, 0, tzinfo=NEW_YORK)),
        ("sáb 3pm", datetime(2026, 11, 28, 15, 0, tzinfo=NEW_YORK)),  # the Spanish how-to's example
        ("dom. 11am", datetime(2026, 11, 29, 11, 0, tzinfo=NEW_YORK)),
        ("12/5 7pm", datetime(2026, 12, 5, 19, 0, tzinfo=NEW_YORK)),
        ("Jan 3 noon", datetime(2027, 1, 3, 12, 0, tzinfo=NEW_YORK)),
        ("Nov 20 5pm", datetime(2027, 11, 20, 17, 0, tzinfo=NEW_YORK)),  # this year's has passed
        ("tomorrow 7pm", datetime(2026, 11, 26, 19, 0, tzinfo=NEW_YORK)),
        ("Mar 14 10am", datetime(2027, 3, 14, 10, 0, tzinfo=NEW_YORK)),  # after the clocks change: EDT
        ("today 9am", None),  # already past
        ("Saturday", None),  # no time
        ("3pm", None),  # no day
        ("Feb 30 3pm", None),
        ("Sat 13pm", None),
        ("soonish", None),
    ],
)
def test_when_a_lead_says_their_event_is(text: str, expected: datetime | None) -> None:
    assert when_given(text, LOCAL) == expected


def test_a_date_with_a_slash_is_day_first_in_spanish() -> None:
    assert when_given("5/12 7pm", LOCAL, "es") == datetime(2026, 12, 5, 19, 0, tzinfo=NEW_YORK)


def test_a_lead_proposes_an_event_on_their_own_clock() -> None:
    outcome = answer(
        "EVENT NEW Park cleanup, Sat 3pm, Riverside Park, north gate", ctx(timezone="America/Los_Angeles")
    )
    starts_at = datetime(2026, 11, 28, 15, 0, tzinfo=LOS_ANGELES)
    assert outcome.effects == (ProposeEvent("Park cleanup", starts_at, "Riverside Park, north gate"),)
    assert outcome.replies[0].body == (
        "Thanks! I sent Park cleanup, Sat Nov 28, 3 PM, Riverside Park, north gate to the organizers. "
        "Once they approve it, it's listed to Block Walkers."
    )


def test_a_proposal_on_separate_lines_with_a_comma_in_its_date() -> None:
    by_lines = answer("event new\nPotluck\nDec 5 6:30pm\nAna's house", ctx())
    by_commas = answer("EVENT NEW Potluck, Dec 5, 6:30pm, Ana's house", ctx())
    expected = ProposeEvent("Potluck", datetime(2026, 12, 5, 18, 30, tzinfo=NEW_YORK), "Ana's house")
    assert by_lines.effects == by_commas.effects == (expected,)


def test_a_spanish_proposal() -> None:
    outcome = answer("EVENTO NUEVO Limpieza, sábado 10am, el parque", ctx(language="es"))
    assert outcome.effects == (
        ProposeEvent("Limpieza", datetime(2026, 11, 28, 10, tzinfo=NEW_YORK), "el parque"),
    )
    assert outcome.replies[0].body.startswith("¡Gracias! Envié Limpieza")


@pytest.mark.parametrize(
    "text", ["EVENT NEW Park cleanup, soon, the park", "EVENT NEW Park cleanup", "EVENT NEW"]
)
def test_a_lead_with_an_unreadable_time_is_shown_the_form(text: str) -> None:
    outcome = answer(text, ctx())
    assert outcome.effects == ()
    assert outcome.replies[0].body.startswith(
        "To propose a team event, text EVENT NEW with its title, time and place"
    )


@pytest.mark.parametrize(
    ("team", "says"),
    [
        (WALKERS, "Only team leads can propose events. Ask Ana, your team's lead, to propose it"),
        (
            replace(WALKERS, lead_names=()),
            "Only team leads can propose events, and Block Walkers has none yet.",
        ),
        (None, "Only team leads can propose events. Join a team"),
    ],
)
def test_anyone_else_is_told_whom_to_ask(team: TeamView | None, says: str) -> None:
    outcome = answer("EVENT NEW Park cleanup, Sat 3pm, Riverside Park", ctx(team))
    assert outcome.effects == ()
    assert outcome.replies[0].body.startswith(says)


def test_event_alone_lists_events_and_event_in_a_sentence_is_no_command() -> None:
    assert answer("EVENT", ctx()).replies[0].body.startswith("No events are scheduled")
    assert not answer("event was great, everyone came", ctx()).replies[0].body.startswith("No events")


def test_the_example_in_the_spanish_how_to_works_as_written() -> None:
    how = answer("EVENTO NUEVO", ctx(language="es")).replies[0].body
    example = how.split("por ejemplo: ", 1)[1]
    outcome = answer(example, ctx(language="es"))
    assert [type(e) for e in outcome.effects] == [ProposeEvent]


def test_a_report_that_starts_with_event_is_read_as_a_report() -> None:
    ruth = Friend(1, "Ruth", "neighbor")
    outcome = answer("Event was great, talked to Ruth, she's in", ctx(friends=(ruth,)))
    assert [type(e) for e in outcome.effects] == [LogReport]
    assert outcome.replies[0].body.startswith("Thank you! Logged: Ruth")


def test_a_yes_to_a_full_event_is_told_it_is_full() -> None:
    full = EventView(3, "Forum", datetime(2026, 12, 3, 18, 30, tzinfo=NEW_YORK), full=True)
    outcome = answer("RSVP 1", ctx(events=(full,)))
    assert outcome.replies[0].body == "Sorry, Forum is full. Reply EVENTS for what else is coming up."
    assert outcome.effects == ()
    going = answer("RSVP 1", ctx(events=(replace(full, going=True),)))
    assert going.replies[0].body.startswith("You're already down for Forum")
    open_event = answer("RSVP 1", ctx(events=(replace(full, full=False),)))
    assert open_event.effects == (RecordRsvp(3, True),)


NEWS = (Notice(NoticeKind.LEAD, "Block Walkers", 11), Notice(NoticeKind.EVENT_APPROVED, "Potluck", 4))


def test_news_rides_on_the_next_reply_and_is_marked_told() -> None:
    outcome = answer("FRIENDS", ctx(notices=NEWS))
    assert outcome.replies[-1].body.endswith(
        "(News: you're now a lead of Block Walkers. Text EVENT NEW with a title, time and place to "
        "propose a team event.) (News: Potluck was approved and is listed to your team.)"
    )
    assert outcome.effects[-1] == NoticesTold(NEWS)


def test_news_is_in_the_language_chosen_for_the_turn() -> None:
    outcome = answer("ESPAÑOL", ctx(notices=NEWS[1:]))
    assert outcome.replies[-1].body.endswith("(Novedad: Potluck fue aprobado y ya aparece para tu equipo.)")


@pytest.mark.parametrize("text", ["STOP", "HELP"])
def test_no_news_on_the_replies_carriers_require(text: str) -> None:
    outcome = answer(text, ctx(notices=NEWS))
    assert all(reply.kind is not ReplyKind.REPLY for reply in outcome.replies)
    assert not any(isinstance(effect, NoticesTold) for effect in outcome.effects)
    assert "News" not in " ".join(reply.body for reply in outcome.replies)
