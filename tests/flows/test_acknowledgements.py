"""Acknowledgements ("ok 👍", "thanks!", "gracias") and Spanish keywords, in the flows: an
acknowledgement gets a short friendly reply at every step, changes nothing and goes to no
inbox; a Spanish keyword or command is answered in Spanish whatever language the volunteer had.
No app, no database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows import engine
from flows.events import (
    Consent,
    Context,
    Friend,
    Inbound,
    KeepForInbox,
    LogReport,
    Organization,
    Prompt,
    RecordConsent,
    ReplyKind,
    SetLanguage,
    State,
)
from flows.keywords import acknowledgement
from flows.language import choose_language

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
ORG = Organization("Eastside Neighbors", "organizers@eastside.example.org")
ROSA = Friend(1, "Rosa", "family", (), "listed", added_at=NOW - timedelta(days=3))
# One idea in each language, so SIGUIENTE has an idea to give.
PROMPTS = (
    Prompt(10, "ask {friend} what's been on their mind lately."),
    Prompt(11, "pregúntale a {friend} qué le ha preocupado últimamente.", language="es"),
)
# Words an English reply would carry; a Spanish reply has none of them.
ENGLISH_TELLS = ("Reply ", "Thanks", "Thank you", "welcome", "Sounds good", "your ", "you ")


def run(
    text: str,
    step: str = "idle",
    data: dict | None = None,
    language: str = "en",
    friends: tuple[Friend, ...] = (ROSA,),
    consent: Consent = Consent.OPTED_IN,
    name: str | None = "Sam",
):
    ctx = Context(ORG, NOW, consent, name, friends, PROMPTS, language=language)
    return engine.respond(State(step, data or {}), Inbound(text, NOW), ctx)


ACKNOWLEDGEMENTS = {
    "ok": "ok",
    "OK!": "ok",
    "ok 👍": "ok",
    "👍": "ok",
    "👍🏽": "ok",
    "👌": "ok",
    "will do": "ok",
    "Got it.": "ok",
    "sounds good!": "ok",
    "ok perfect": "ok",
    "vale": "ok",
    "de acuerdo": "ok",
    "dale": "ok",
    "thanks!": "thanks",
    "thank you!!": "thanks",
    "Thanks so much 🙏": "thanks",
    "great, thanks!": "thanks",
    "ok thx": "thanks",
    "gracias": "thanks",
    "Muchas gracias!!": "thanks",
    "❤️": "thanks",
}
NOT_ACKNOWLEDGEMENTS = [
    "",
    "great",  # alone, maybe how a talk went: the organizers see it
    "perfecto",
    "ok, Maria",
    "thanks, talked to Rosa, she's in",
    "ok stop",
    "no thanks",
    "2",
    "ok 2",
    "yes",
    "sí",
]


@pytest.mark.parametrize(("text", "kind"), ACKNOWLEDGEMENTS.items())
def test_an_acknowledgement_is_read_as_one(text: str, kind: str) -> None:
    assert acknowledgement(text) == kind


@pytest.mark.parametrize("text", NOT_ACKNOWLEDGEMENTS)
def test_a_message_with_more_in_it_is_no_acknowledgement(text: str) -> None:
    assert acknowledgement(text) is None


# Every step an opted-in volunteer can be at, with what it holds (a pending question among them).
STEPS = [
    ("idle", {}, (ROSA,)),
    ("idle", {"prompted_friend": "Rosa"}, (ROSA,)),
    ("ask_interests", {"friend_name": "Rosa"}, (ROSA,)),
    ("ask_friend", {}, (ROSA,)),
    ("choose_friend", {"options": [1, 2], "outcome": "open", "text": "t"}, (ROSA,)),
    ("choose_outcome", {"friends": [1], "text": "x"}, (ROSA,)),
]


@pytest.mark.parametrize(("step", "data", "friends"), STEPS)
@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("ok 👍", "Sounds good!"),
        ("thanks!", "You're welcome!"),
        ("👍", "Sounds good!"),
        ("will do", "Sounds good!"),
    ],
)
def test_an_acknowledgement_gets_a_friendly_reply_and_changes_nothing(
    step: str, data: dict, friends: tuple[Friend, ...], text: str, says: str
) -> None:
    outcome = run(text, step, data, friends=friends)
    (reply,) = outcome.replies
    assert reply.body.startswith(says) and reply.kind is ReplyKind.REPLY
    assert outcome.effects == ()  # no inbox, no interests, no report, no language change
    kept = {k: v for k, v in outcome.state.data.items() if k != engine.ACKNOWLEDGED}
    assert State(outcome.state.step, kept) == State(step, data)  # a pending question stays open


@pytest.mark.parametrize(
    ("step", "friends", "asks"), [("ask_name", (), "first name"), ("ask_friend", (), "add")]
)
@pytest.mark.parametrize("text", ["ok", "thanks!", "👍", "got it"])
def test_a_name_question_asks_again_and_takes_nothing_from_an_acknowledgement(
    step: str, friends: tuple[Friend, ...], asks: str, text: str
) -> None:
    outcome = run(text, step, friends=friends, name=None)
    (reply,) = outcome.replies
    assert asks in reply.body and outcome.effects == () and outcome.state.step == step


@pytest.mark.parametrize("name", ["Dale", "Vale"])
def test_a_name_that_is_also_a_spanish_ok_is_still_a_name_in_english(name: str) -> None:
    outcome = run(name, "ask_name", friends=(), name=None)
    assert f"Thanks, {name}." in outcome.replies[0].body
    assert SetLanguage("es") not in outcome.effects


def test_the_pending_question_still_takes_its_answer_after_an_acknowledgement() -> None:
    data = {"friends": [1], "text": "talked to Rosa"}
    assert run("ok", "choose_outcome", data).state.step == "choose_outcome"
    outcome = run("2", "choose_outcome", data)
    assert [type(e) for e in outcome.effects] == [LogReport]


def test_ok_on_a_delete_question_erases_nothing() -> None:
    outcome = run("ok 👍", "confirm_delete")
    assert outcome.state.step == "idle" and outcome.effects == ()
    assert "nothing was deleted" in outcome.replies[0].body.lower() or "kept" in outcome.replies[0].body


def test_an_acknowledgement_with_a_report_in_it_is_the_report() -> None:
    outcome = run("thanks! talked to Rosa, she's in")
    assert [type(e) for e in outcome.effects] == [LogReport]


@pytest.mark.parametrize("text", ["ok stop", "thanks, stop texting me", "ok but stop"])
def test_stopping_wins_over_an_acknowledgement(text: str) -> None:
    outcome = run(text)
    assert outcome.replies and "Sounds good" not in outcome.replies[0].body
    assert KeepForInbox("not understood") not in outcome.effects


def test_a_thank_you_before_joining_gets_the_terms_not_a_welcome() -> None:
    outcome = run("thanks!", "awaiting_opt_in", consent=Consent.UNKNOWN, friends=(), name=None)
    assert "Reply YES" in outcome.replies[0].body and outcome.effects == ()


def test_an_acknowledgement_after_opting_out_gets_nothing() -> None:
    outcome = run("ok 👍", "opted_out", consent=Consent.OPTED_OUT)
    assert outcome.replies == () and outcome.effects == ()


@pytest.mark.parametrize(
    ("text", "says"),
    [("gracias", "¡De nada!"), ("Muchas gracias!", "¡De nada!"), ("de acuerdo", "¡Perfecto!")],
)
@pytest.mark.parametrize("volunteer", ["en", "es"])
def test_a_spanish_acknowledgement_is_answered_in_spanish(text: str, says: str, volunteer: str) -> None:
    outcome = run(text, language=volunteer)
    (reply,) = outcome.replies
    assert reply.body.startswith(says)
    assert outcome.effects == ((SetLanguage("es"),) if volunteer == "en" else ())


def test_vale_is_answered_in_the_volunteers_language_since_it_may_be_a_name() -> None:
    assert run("vale", language="es").replies[0].body.startswith("¡Perfecto!")
    outcome = run("vale", language="en")
    assert outcome.replies[0].body.startswith("Sounds good!") and outcome.effects == ()


# (text, consent, what the Spanish answer says): Spanish keywords and commands from a volunteer
# whose language is English or not known yet (a new number is English until it writes otherwise).
SPANISH_KEYWORDS = [
    ("AYUDA", Consent.UNKNOWN, "¿Preguntas?"),
    ("ayuda", Consent.OPTED_IN, "¿Preguntas?"),
    ("Ayuda!", Consent.OPTED_OUT, "¿Preguntas?"),
    ("MISDATOS", Consent.OPTED_IN, "Guardamos: tu teléfono"),
    ("BORRAR", Consent.OPTED_IN, "¿Borrar todo?"),
    ("AMIGOS", Consent.OPTED_IN, "Tu gente: Rosa"),
    ("SIGUIENTE", Consent.OPTED_IN, "Idea para Rosa"),
    ("EVENTOS", Consent.OPTED_IN, "no hay eventos"),
    ("agregar Luis, vecino", Consent.OPTED_IN, "Agregué a Luis"),
    ("ALTO", Consent.OPTED_IN, "Te diste de baja"),
    ("parar", Consent.OPTED_IN, "Te diste de baja"),
    ("BAJA", Consent.UNKNOWN, "Te diste de baja"),
    ("basta", Consent.OPTED_IN, "¿Quieres dejar de recibir mensajes"),
]


@pytest.mark.parametrize(("text", "consent", "says"), SPANISH_KEYWORDS)
def test_a_spanish_keyword_is_answered_in_spanish_and_the_language_kept(
    text: str, consent: Consent, says: str
) -> None:
    step = {Consent.UNKNOWN: "new", Consent.OPTED_OUT: "opted_out"}.get(consent, "idle")
    outcome = run(text, step, consent=consent, name=None if consent is Consent.UNKNOWN else "Sam")
    (reply,) = outcome.replies
    assert says in reply.body
    for tell in ENGLISH_TELLS:
        assert tell not in reply.body, reply.body
    assert outcome.effects[0] == SetLanguage("es")
    assert choose_language(text, "en") == "es"


def test_a_spanish_stop_is_recorded_as_the_opt_out_it_is() -> None:
    outcome = run("ALTO")
    assert outcome.effects[0] == SetLanguage("es")
    (consent,) = outcome.effects[1:]
    assert consent == RecordConsent("opt_out", "ALTO")


@pytest.mark.parametrize("text", ["STOP", "HELP", "ok", "Rosa", "ARRET", "yes", "thanks"])
def test_an_english_or_neutral_word_keeps_an_english_speaker_in_english(text: str) -> None:
    assert choose_language(text, "en") == "en"


@pytest.mark.parametrize("text", ["STOP", "HELP", "FRIENDS", "ok", "thanks"])
def test_an_english_keyword_keeps_a_spanish_speaker_in_spanish(text: str) -> None:
    assert choose_language(text, "es") == "es"


def test_french_is_not_taken_for_spanish() -> None:
    # The Canadian carriers' French opt-outs are honoured, and confirmed in the volunteer's
    # language: an "é" is no reason to switch an English speaker to Spanish.
    lines = (Path(__file__).parent / "corpus" / "opt_out.jsonl").read_text(encoding="utf-8").splitlines()
    french = [item["text"] for item in map(json.loads, lines) if item["lang"] == "fr"]
    assert len(french) >= 10
    assert [text for text in french if choose_language(text, "en") != "en"] == []


def test_an_acknowledgement_of_an_acknowledgement_gets_no_answer_so_no_loop_starts() -> None:
    """An automatic "OK" answering Kindred's "Sounds good!" would otherwise go back and forth."""
    first = run("ok")
    assert len(first.replies) == 1
    second = engine.respond(
        first.state, Inbound("OK", NOW), Context(ORG, NOW, Consent.OPTED_IN, "Sam", (ROSA,), PROMPTS)
    )
    assert second.replies == () and second.effects == ()
    third = engine.respond(
        second.state, Inbound("ok 👍", NOW), Context(ORG, NOW, Consent.OPTED_IN, "Sam", (ROSA,), PROMPTS)
    )
    assert third.replies == ()
    ctx = Context(ORG, NOW, Consent.OPTED_IN, "Sam", (ROSA,), PROMPTS)
    friends = engine.respond(third.state, Inbound("FRIENDS", NOW), ctx)
    assert "Rosa" in friends.replies[0].body
    again = engine.respond(friends.state, Inbound("thanks!", NOW), ctx)
    assert len(again.replies) == 1  # after anything else, a thank-you is answered again
