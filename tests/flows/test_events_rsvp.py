"""Events by text, one table row per situation: (text, upcoming events, friends) -> (what the
reply says, the effects); and the reminder the day before. No app, no database."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows import engine, events_rsvp, segments
from flows.events import (
    Consent,
    Context,
    Effect,
    EventView,
    Friend,
    Inbound,
    LogReport,
    Organization,
    RecordRsvp,
    ReplyKind,
    State,
)

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
ORG = Organization("Eastside Neighbors", "organizers@eastside.example.org")
FORUM = EventView(3, "Community Forum", datetime(2026, 12, 3, 18, 30, tzinfo=NEW_YORK), "Eastside Library")
CLEANUP = EventView(4, "Park cleanup", datetime(2026, 12, 5, 10, 0, tzinfo=NEW_YORK))
SOON = EventView(5, "Phone bank", NOW.astimezone(NEW_YORK) + timedelta(hours=5), "Union hall")
EVENTS = (FORUM, CLEANUP)
RUTH = Friend(2, "Ruth", "family", stage="open", last_reported_at=NOW - timedelta(days=1))
MARIA = Friend(1, "Maria", "neighbor", stage="listed")
BOB = Friend(3, "Bob", "coworker", stage="committed", last_reported_at=NOW - timedelta(days=5))


@dataclass
class Row:
    text: str
    events: tuple[EventView, ...] = EVENTS
    friends: tuple[Friend, ...] = (MARIA,)
    step: str = "idle"
    data: dict = field(default_factory=dict)
    language: str = "en"  # a Spanish row is a volunteer who already writes in Spanish


def run(row: Row):
    ctx = Context(ORG, NOW, Consent.OPTED_IN, "Sam", row.friends, events=row.events, language=row.language)
    return engine.respond(State(row.step, row.data), Inbound(row.text, NOW), ctx)


# fmt: off
CASES: list[tuple[Row, str, tuple[Effect, ...]]] = [
    (Row("EVENTS"), "Coming up: 1) Community Forum, Thu Dec 3, 6:30 PM, Eastside Library; "
                    "2) Park cleanup, Sat Dec 5, 10 AM. Reply RSVP and a number", ()),
    (Row("EVENTS", events=(replace(FORUM, going=True),)), "Eastside Library (you are going)", ()),
    (Row("EVENTS", events=()), "No events are scheduled right now.", ()),
    (Row("RSVP 1"), "You're in for Community Forum, Thu Dec 3, 6:30 PM, Eastside Library. "
                    "I'll text you a reminder the day before.", (RecordRsvp(3),)),
    (Row("rsvp #2"), "You're in for Park cleanup", (RecordRsvp(4),)),
    (Row("RSVP forum"), "You're in for Community Forum", (RecordRsvp(3),)),
    (Row("RSVP 1", events=(replace(FORUM, going=True),)), "You're already down for Community Forum", ()),
    (Row("RSVP 3"), "Please reply RSVP and a number from 1 to 2.", ()),
    (Row("RSVP"), "Coming up: 1) Community Forum", ()),
    (Row("RSVP 1", events=()), "No events are scheduled right now.", ()),
    (Row("RSVP NO 1", events=(replace(FORUM, going=True),)), "You're off the list for Community Forum.",
     (RecordRsvp(3, going=False),)),
    (Row("RSVP NO 1"), "You're off the list for Community Forum.", ()),
    (Row("RSVP 1", events=(SOON,)), "You're in for Phone bank", (RecordRsvp(5),)),
    (Row("count me in for the forum"), "You're in for Community Forum", (RecordRsvp(3),)),
    (Row("Count me in for the forum!"), "You're in for Community Forum", (RecordRsvp(3),)),
    (Row("I'm in for the park cleanup"), "You're in for Park cleanup", (RecordRsvp(4),)),
    (Row("sign me up for the cleanup"), "You're in for Park cleanup", (RecordRsvp(4),)),
    # Bring a friend: committed before open, and only someone open or committed.
    (Row("RSVP 1", friends=(MARIA, RUTH)), "Bring Ruth? Reply INVITE Ruth for a message to forward.",
     (RecordRsvp(3),)),
    (Row("RSVP 1", friends=(MARIA, RUTH, BOB)), "Bring Bob? Reply INVITE Bob", (RecordRsvp(3),)),
]
# fmt: on


@pytest.mark.parametrize(("row", "says", "effects"), CASES, ids=[c[0].text[:40] for c in CASES])
def test_event_commands(row: Row, says: str, effects: tuple[Effect, ...]) -> None:
    outcome = run(row)
    assert len(outcome.replies) == 1
    assert says in outcome.replies[0].body
    assert outcome.effects == effects
    assert outcome.replies[0].kind is ReplyKind.REPLY


def test_no_friend_to_bring_means_no_suggestion() -> None:
    assert "Bring" not in run(Row("RSVP 1", friends=(MARIA,))).replies[0].body


def test_an_rsvp_within_a_day_of_the_event_promises_no_reminder() -> None:
    body = run(Row("RSVP 1", events=(SOON,))).replies[0].body
    assert "See you there!" in body and "reminder" not in body


@pytest.mark.parametrize(
    "text",
    [
        "count me in for the bake sale",  # no upcoming event by that name
        "Maria said count me in for the forum",  # a report about Maria, not an RSVP
        "count me in",
        "count me out",
    ],
)
def test_plain_words_that_are_no_rsvp(text: str) -> None:
    outcome = run(Row(text, friends=(MARIA, RUTH)))
    assert RecordRsvp not in [type(e) for e in outcome.effects]


def test_count_me_in_with_no_events_is_not_an_rsvp() -> None:
    ctx = Context(ORG, NOW, Consent.OPTED_IN, "Sam")
    assert events_rsvp.count_me_in(State("idle"), "count me in for the forum", ctx) is None


def test_cancel_is_an_opt_out_never_an_rsvp_command() -> None:
    outcome = run(Row("CANCEL"))
    assert outcome.state.step == "opted_out"


def test_the_reminder_says_when_and_where_and_suggests_a_friend() -> None:
    day_before = datetime(2026, 12, 2, 18, 30, tzinfo=NEW_YORK)
    ctx = Context(ORG, day_before, Consent.OPTED_IN, "Sam", (MARIA, RUTH), events=EVENTS)
    outcome = engine.event_reminder(State("ask_friend"), ctx, FORUM)
    (reply,) = outcome.replies
    assert reply.kind is ReplyKind.REMINDER
    assert reply.body == (
        "Hi Sam! Reminder: Community Forum is tomorrow at 6:30 PM at Eastside Library. See you there! "
        "Bring Ruth? Reply INVITE Ruth for a message to forward."
    )
    assert outcome.state == State("ask_friend")  # the conversation carries on where it was
    assert outcome.effects == ()


@pytest.mark.parametrize("consent", [Consent.UNKNOWN, Consent.OPTED_OUT])
def test_no_reminder_without_an_opt_in(consent: Consent) -> None:
    ctx = Context(ORG, NOW, consent, "Sam")
    assert engine.event_reminder(State("idle"), ctx, FORUM).replies == ()


# In Spanish: a volunteer who writes in Spanish, events titled and placed as the organizer wrote them.
FORO = EventView(3, "Foro comunitario", FORUM.starts_at, "Biblioteca Eastside")
LIMPIEZA = replace(CLEANUP, title="Limpieza del parque")
ES = {"events": (FORO, LIMPIEZA), "language": "es"}
# fmt: off
SPANISH: list[tuple[Row, str, tuple[Effect, ...]]] = [
    (Row("EVENTOS", **ES), "Lo que viene: 1) Foro comunitario, jue. 3 de dic., 6:30 pm, Biblioteca Eastside; "
                           "2) Limpieza del parque, sab. 5 de dic., 10 am. Para apuntarte, responde CONFIRMAR "
                           "y el # del evento.", ()),
    (Row("eventos", **{**ES, "events": (replace(FORO, going=True),)}), "Biblioteca Eastside (vas a ir).", ()),
    (Row("EVENTOS", **{**ES, "events": ()}), "Por ahora no hay eventos en el calendario. Responde SIGUIENTE", ()),
    (Row("CONFIRMAR 2", **ES), "Te apunté para Limpieza del parque, sab. 5 de dic., 10 am. "
                               "Te mando un recordatorio 24 horas antes.", (RecordRsvp(4),)),
    (Row("confirmar 1", **{**ES, "events": (replace(FORO, going=True),)}),
     "Ya te tengo en la lista para Foro comunitario", ()),
    (Row("CONFIRMAR 3", **ES), "Responde CONFIRMAR y un número del 1 al 2, por favor.", ()),
    (Row("CONFIRMAR NO 1", **{**ES, "events": (replace(FORO, going=True),)}),
     "Gracias por avisar. Te quité de la lista de Foro comunitario.", (RecordRsvp(3, going=False),)),
    (Row("confirmar 1", **{**ES, "events": (replace(SOON, title="Llamadas"),)}), "Te apunté para Llamadas, "
     "sab. 21 de nov., 3 pm, Union hall. ¡Te esperamos!", (RecordRsvp(5),)),
    (Row("cuenten conmigo para el foro", **ES), "Te apunté para Foro comunitario, jue. 3 de dic., 6:30 pm, "
                                                "Biblioteca Eastside.", (RecordRsvp(3),)),
    (Row("¡Apúntame a la limpieza!", **ES), "Te apunté para Limpieza del parque", (RecordRsvp(4),)),
    (Row("CONFIRMAR foro", friends=(MARIA, RUTH), **ES),
     "¿Traes a Ruth? Responde INVITAR Ruth para un mensaje que puedes reenviar.", (RecordRsvp(3),)),
]
# fmt: on
# English words (and English command words) a Spanish events reply never has.
ENGLISH = (
    "Reply",
    "RSVP",
    "PROMPT",
    "INVITE ",
    "You",
    "you",
    "Coming up",
    "Thanks",
    "Bring",
    "Reminder",
    "See you",
    " at ",
    "AM",
    "PM",
    "Thu",
    "Sat",
    "Dec",
    "Nov",
    "tomorrow",
)


def assert_spanish(body: str) -> None:
    for word in ENGLISH:
        assert word not in body.replace("Union hall", ""), body
    assert segments.count(body).count <= 2, body


@pytest.mark.parametrize(("row", "says", "effects"), SPANISH, ids=[c[0].text[:40] for c in SPANISH])
def test_event_commands_in_spanish(row: Row, says: str, effects: tuple[Effect, ...]) -> None:
    outcome = run(row)
    (reply,) = outcome.replies
    assert says in reply.body
    assert outcome.effects == effects  # already Spanish: no SetLanguage
    assert_spanish(reply.body)


def test_the_event_listing_in_spanish_stays_gsm7() -> None:
    body = run(Row("EVENTOS", **ES)).replies[0].body
    assert segments.count(body) == segments.Segments("GSM-7", 2)


@pytest.mark.parametrize(
    ("hour", "english", "spanish"),
    [
        (18, "at 6:30 PM", "a las 6:30 pm"),
        (13, "at 1:30 PM", "a la 1:30 pm"),
        (0, "at 12:30 AM", "a las 12:30 am"),
    ],
)
def test_the_time_of_day_in_each_language(hour: int, english: str, spanish: str) -> None:
    from flows.messages import at_time

    moment = datetime(2026, 12, 3, hour, 30, tzinfo=NEW_YORK)
    assert (at_time("en", moment), at_time("es", moment)) == (english, spanish)


def test_the_reminder_comes_in_the_volunteers_language() -> None:
    day_before = datetime(2026, 12, 2, 18, 30, tzinfo=NEW_YORK)
    ctx = Context(ORG, day_before, Consent.OPTED_IN, "Sam", (MARIA, RUTH), events=(FORO,), language="es")
    (reply,) = engine.event_reminder(State("idle"), ctx, FORO).replies
    assert reply.kind is ReplyKind.REMINDER
    assert reply.body == (
        "¡Hola, Sam! Te recuerdo: Foro comunitario, mañana a las 6:30 pm en Biblioteca Eastside. "
        "¡Te esperamos! ¿Traes a Ruth? Responde INVITAR Ruth para un mensaje que puedes reenviar."
    )
    assert_spanish(reply.body)
    anonymous = replace(ctx, name=None, friends=(), now=datetime(2026, 11, 30, 9, 0, tzinfo=NEW_YORK))
    (reply,) = engine.event_reminder(State("idle"), anonymous, replace(FORO, location="")).replies
    assert reply.body == "Te recuerdo: Foro comunitario, el jue. 3 de dic. a las 6:30 pm. ¡Te esperamos!"


# The next step after a report: someone open is invited to what's coming up.
REPORT = "talked to Ruth, she's open, cares about prices"
# fmt: off
NEXT_STEPS = [
    # (row, what the reply says)
    (Row(REPORT, friends=(MARIA, replace(RUTH, stage="talked"))),
     "Thank you! Logged: Ruth is open, cares about prices. Want an invite to share for Community Forum on Dec 3? "
     "Reply INVITE Ruth."),
    # One the volunteer is going to comes first.
    (Row(REPORT, friends=(RUTH,), events=(FORUM, replace(CLEANUP, going=True))),
     "Want an invite to share for Park cleanup on Dec 5? Reply INVITE Ruth."),
    # Nothing coming up: the usual next step.
    (Row(REPORT, friends=(RUTH,), events=()), "Next step: invite Ruth along. Reply INVITE for a message to forward."),
    # Only for one friend who is open.
    (Row("talked to Ruth, she's in!", friends=(RUTH,)), "Ask Ruth who they'd bring along."),
    (Row("talked to Ruth and Maria, both open", friends=(MARIA, RUTH)), "Logged: Ruth and Maria are open. Reply PROMPT for another idea"),
    (Row("hablé con Ruth, le interesa, le preocupan los precios", friends=(RUTH,), **ES),
     "¡Gracias! Anoté: a Ruth le interesa (temas: precios). ¿Invitas a Ruth a Foro comunitario el 3 de dic.? "
     "Responde INVITAR Ruth para un mensaje que puedes reenviar."),
]
# fmt: on


@pytest.mark.parametrize(
    ("row", "says"), NEXT_STEPS, ids=[c[0].text[:30] + str(i) for i, c in enumerate(NEXT_STEPS)]
)
def test_after_a_report_the_next_step_is_an_upcoming_event(row: Row, says: str) -> None:
    outcome = run(row)
    (reply,) = outcome.replies
    assert says in reply.body
    assert LogReport in [type(e) for e in outcome.effects]
    assert RecordRsvp not in [type(e) for e in outcome.effects]
    if row.language == "es":
        assert_spanish(reply.body)
    if "Want an invite" not in says and "Invitas" not in says:
        assert "Want an invite" not in reply.body
