"""Spanish end to end, in the flows: a Spanish-speaking volunteer's conversation one table row at a
time, choosing and switching the language, and the message catalog itself. No app, no database."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from flows import engine, followups, messages, segments
from flows.events import (
    DEFAULT_INTERESTS,
    OUTCOMES,
    RELATIONSHIPS,
    STAGES,
    AddFriend,
    Consent,
    Context,
    ForgetFriend,
    Friend,
    Inbound,
    KeepForInbox,
    LogReport,
    MarkPrompted,
    Organization,
    Prompt,
    RecordConsent,
    ReplyKind,
    ScheduleFollowUp,
    SetInterests,
    SetLanguage,
    SetName,
    State,
)
from flows.language import choose_language
from flows.messages import CATALOG, join_names, say

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)  # a Saturday, 10 a.m. in New York
LOCAL_NOW = NOW.astimezone(ZoneInfo("America/New_York"))
ORG = Organization("Eastside Neighbors", "organizers@eastside.example.org")
ROSA = Friend(1, "Rosa", "family", (), "listed", added_at=NOW - timedelta(days=3))
PROMPTS = (
    Prompt(10, "ask {friend} what's been on their mind lately."),
    Prompt(11, "ask {friend} how health costs hit the family.", interests=("healthcare",)),
    Prompt(20, "pregúntale a {friend} qué le ha preocupado últimamente, y escucha primero.", language="es"),
    Prompt(
        21,
        "pregúntale a {friend} cómo le han afectado los costos de salud, y escucha primero.",
        interests=("healthcare",),
        language="es",
    ),
)
# Words an English reply would carry; a Spanish reply has none of them.
ENGLISH_TELLS = ("Reply ", "Thanks", "Thank you", "Added", "Idea for", "Welcome", "your ", "you ")


@dataclass
class Row:
    text: str
    step: str = "idle"
    consent: Consent = Consent.OPTED_IN
    friends: tuple[Friend, ...] = (ROSA,)
    data: dict = field(default_factory=dict)
    name: str | None = "Ana"
    language: str = "es"


def run(row: Row):
    ctx = Context(ORG, NOW, row.consent, row.name, row.friends, PROMPTS, language=row.language)
    return engine.respond(State(row.step, row.data), Inbound(row.text, NOW), ctx)


def kinds(outcome) -> list[type]:
    return [type(e) for e in outcome.effects]


NEW = {"step": "new", "consent": Consent.UNKNOWN, "name": None, "friends": ()}
# fmt: off
CONVERSATION = [
    # (row, next step, what the reply says, effect types): a Spanish-speaking volunteer, start to finish
    (Row("hola", **NEW), "awaiting_opt_in", "Eastside Neighbors: planea conversaciones reales con gente que conoces. Responde SÍ para unirte. Unos 3 mensajes/semana. Pueden aplicar tarifas de mensajes y datos. Responde AYUDA para ayuda o ALTO para cancelar.", []),
    (Row("¿qué es esto?", **{**NEW, "step": "awaiting_opt_in"}), "awaiting_opt_in", "Responde SÍ para unirte a Eastside Neighbors", []),
    (Row("sí", **{**NEW, "step": "awaiting_opt_in"}), "ask_name", "¡Te damos la bienvenida! ¿Cuál es tu nombre?", [RecordConsent]),
    (Row("Ana", step="ask_name", name=None, friends=()), "ask_friend", "Gracias, Ana. ¿Con quién de tu vida quieres hablar?", [SetName]),
    (Row("me llamo Ana", step="ask_name", name=None, friends=()), "ask_friend", "Gracias, Ana.", [SetName]),
    (Row("mi abuela Rosa", step="ask_friend", friends=()), "ask_interests", "Agregué a Rosa (familia). ¿Qué le importa a Rosa? (p. ej. salud, escuelas, vivienda) o SALTAR", [AddFriend]),
    (Row("agregar a Luis, vecino, le importan las escuelas", friends=()), "idle", "Agregué a Luis (vecindario, temas: escuelas). Idea para Luis: pregúntale a Luis qué le ha preocupado", [AddFriend, MarkPrompted]),
    (Row("agregar Rosa"), "idle", "Rosa ya está en tu lista. Responde SIGUIENTE para una idea.", []),
    (Row("agregar"), "ask_friend", "¿A quién quieres agregar?", []),
    (Row("la salud y la iglesia", step="ask_interests", data={"friend_name": "Rosa"}), "idle", "Idea para Rosa: pregúntale a Rosa cómo le han afectado los costos de salud, y escucha primero.", [SetInterests, MarkPrompted]),
    (Row("saltar", step="ask_interests", data={"friend_name": "Rosa"}), "idle", "Idea para Rosa: pregúntale a Rosa qué le ha preocupado", [MarkPrompted]),
    (Row("SIGUIENTE"), "idle", "Idea para Rosa:", [MarkPrompted]),
    (Row("hablé con Rosa, le interesa"), "idle", "¡Gracias! Anoté: a Rosa le interesa. Siguiente paso: invita a Rosa. Responde INVITAR", [LogReport]),
    (Row("hablé con Rosa, está dentro"), "idle", "Anoté: Rosa se apunta. Pregunta a Rosa a quién invitar también.", [LogReport]),
    (Row("hablé con Rosa, le preocupan los precios"), "choose_outcome", "¿Qué tal te fue con Rosa? Responde 1 Se apunta 2 Le interesa 3 Lo piensa 4 No le interesa 5 No hablamos", []),
    (Row("2", step="choose_outcome", data={"friends": [1], "text": "le preocupan los precios"}), "idle", "Anoté: a Rosa le interesa (temas: precios).", [LogReport]),
    (Row("9", step="choose_outcome", data={"friends": [1], "text": "x"}), "choose_outcome", "Responde con un número del 1 al 5", []),
    (Row("5", step="choose_outcome", data={"friends": [1], "text": "x"}), "idle", "Entendido: falta hablar con Rosa. Sin prisa: responde LUEGO", [LogReport]),
    (Row("AMIGOS"), "idle", "Tu gente: Rosa (familia, en lista). Responde SIGUIENTE para una idea o AGREGAR", []),
    (Row("FRIENDS"), "idle", "Tu gente: Rosa (familia, en lista).", []),
    (Row("amigos", friends=()), "ask_friend", "No has agregado a nadie.", []),
    (Row("más tarde"), "idle", "Claro. Te escribo en unas horas. Responde ALTO cuando quieras para cancelar.", [ScheduleFollowUp]),
    (Row("recuérdame el viernes"), "idle", "Te escribo el viernes.", [ScheduleFollowUp]),
    (Row("INVITAR"), "idle", 'Manda esto a alguien que conoces: "Soy parte de Eastside Neighbors', []),
    (Row("MISDATOS"), "idle", "Guardamos: tu teléfono; tu nombre (Ana); 1 persona de tu lista (Rosa) y lo que nos contaste de ella", []),
    (Row("OLVIDAR Rosa"), "idle", "Listo. Quitamos a esa persona de tu lista", [ForgetFriend]),
    (Row("olvidar Pepe"), "idle", "No encontré a Pepe en tu lista. Responde AMIGOS para verla.", []),
    (Row("BORRAR"), "confirm_delete", "¿Borrar todo? Responde SÍ", []),
    (Row("no", step="confirm_delete"), "idle", "Está bien, no se borró nada.", []),
    (Row("JOIN"), "idle", "¡Ya eres parte, Ana! Responde SIGUIENTE para una idea.", []),
    (Row("basta"), "idle", "¿Quieres dejar de recibir mensajes de Eastside Neighbors? Responde ALTO", []),
    (Row("asdf qwerty"), "idle", "¡Gracias! Se lo pasé al equipo organizador. Responde AGREGAR y un nombre", [KeepForInbox]),
    (Row(""), "idle", "Solo puedo leer texto", [KeepForInbox]),
    (Row("ALTO", step="ask_interests"), "opted_out", "Eastside Neighbors: Te diste de baja y ya no te enviaremos mensajes. Responde START para volver.", [RecordConsent]),
    (Row("STOP"), "opted_out", "Te diste de baja", [RecordConsent]),
    (Row("START", step="opted_out", consent=Consent.OPTED_OUT), "idle", "¡Hola de nuevo, Ana! Responde SIGUIENTE", [RecordConsent]),
    (Row("sí", step="opted_out", consent=Consent.OPTED_OUT, name=None), "ask_name", "¿Me dices tu nombre?", [RecordConsent]),
]
# fmt: on


@pytest.mark.parametrize(
    ("row", "step", "says", "effects"), CONVERSATION, ids=[c[0].text or "<empty>" for c in CONVERSATION]
)
def test_a_spanish_speaking_volunteers_conversation(
    row: Row, step: str, says: str, effects: list[type]
) -> None:
    outcome = run(row)
    assert outcome.state.step == step
    (reply,) = outcome.replies
    assert says in reply.body
    assert kinds(outcome) == effects  # already Spanish: no SetLanguage
    for tell in ENGLISH_TELLS:
        assert tell not in reply.body, reply.body
    if reply.kind not in (ReplyKind.OPT_IN_REQUEST, ReplyKind.HELP, ReplyKind.OPT_OUT_CONFIRMATION):
        assert segments.count(reply.body).count <= 2, reply.body


@pytest.mark.parametrize("text", ["AYUDA", "ayuda", "HELP", "info"])
def test_help_comes_in_spanish_with_what_the_carriers_require(text: str) -> None:
    outcome = run(Row(text, consent=Consent.OPTED_OUT))
    (reply,) = outcome.replies
    assert reply.kind is ReplyKind.HELP and outcome.effects == ()
    for part in (
        "Eastside Neighbors",
        "¿Preguntas? Escribe a organizers@eastside.example.org",
        "Unos 3 mensajes/semana",
    ):
        assert part in reply.body
    assert "Pueden aplicar tarifas de mensajes y datos" in reply.body and "ALTO" in reply.body


def test_an_organizations_own_frequency_is_shown_as_written() -> None:
    org = Organization("Eastside Neighbors", "x@example.org", frequency="2 msgs/week")
    ctx = Context(org, NOW, Consent.UNKNOWN, language="es")
    (reply,) = engine.respond(State(), Inbound("hola", NOW), ctx).replies
    assert "2 msgs/week." in reply.body and "Responde SÍ" in reply.body


# fmt: off
SWITCHES = [
    # (row, the language the reply is in, what it says, effects)
    (Row("ESPAÑOL", language="en"), "es", "¡Listo! Te escribiré en español.", [SetLanguage("es")]),
    (Row("espanol", language="en"), "es", "¡Listo! Te escribiré en español.", [SetLanguage("es")]),
    (Row("Spanish please", language="en"), "es", "¡Listo! Te escribiré en español.", [SetLanguage("es")]),
    (Row("ENGLISH"), "en", "Got it! I'll text you in English.", [SetLanguage("en")]),
    (Row("Inglés"), "en", "Got it! I'll text you in English.", [SetLanguage("en")]),
    (Row("ingles"), "en", "Got it! I'll text you in English.", [SetLanguage("en")]),
    (Row("Español"), "es", "¡Listo! Te escribiré en español.", []),  # already Spanish: nothing to record
    # Before joining, asking for a language gets the terms in it.
    (Row("ESPAÑOL", **NEW, language="en"), "es", "Responde SÍ para unirte.", [SetLanguage("es")]),
    (Row("English", **{**NEW, "step": "awaiting_opt_in"}), "en", "Reply YES to join.", [SetLanguage("en")]),
    # Writing in Spanish switches, from the first text on.
    (Row("hola", **NEW, language="en"), "es", "Responde SÍ para unirte.", [SetLanguage("es")]),
    (Row("¡Buenas!", **NEW, language="en"), "es", "Responde SÍ para unirte.", [SetLanguage("es")]),
    (Row("Hola, quiero unirme", **NEW, language="en"), "es", "Responde SÍ para unirte.", [SetLanguage("es")]),
    (Row("me llamo Ana", step="ask_name", name=None, friends=(), language="en"), "es", "Gracias, Ana.", [SetLanguage("es"), SetName]),
    (Row("hablé con Rosa, le interesa", language="en"), "es", "Anoté: a Rosa le interesa", [SetLanguage("es"), LogReport]),
    # Writing in English switches back, when there is enough of it.
    (Row("talked to Rosa, she's in!"), "en", "Thank you! Logged: Rosa is in.", [SetLanguage("en"), LogReport]),
]
# fmt: on


@pytest.mark.parametrize(("row", "language", "says", "effects"), SWITCHES, ids=[c[0].text for c in SWITCHES])
def test_choosing_the_language(row: Row, language: str, says: str, effects: list) -> None:
    outcome = run(row)
    (reply,) = outcome.replies
    assert says in reply.body
    got = [e if isinstance(e, SetLanguage) else type(e) for e in outcome.effects]
    assert got == effects
    assert choose_language(row.text, row.language) == language


def test_asking_for_a_language_keeps_the_pending_question_open() -> None:
    outcome = run(Row("ESPAÑOL", step="ask_name", name=None, language="en"))
    assert outcome.state.step == "ask_name"
    assert run(Row("Ana", step=outcome.state.step, name=None)).effects == (SetName("Ana"),)


def test_asking_for_a_language_drops_a_pending_erasure() -> None:
    outcome = run(Row("ENGLISH", step="confirm_delete"))
    assert outcome.state.step == "idle" and outcome.effects == (SetLanguage("en"),)


@pytest.mark.parametrize(
    "text",
    ["Ana", "ok", "OK!", "Rosa Pérez", "yes please", "STOP", "2", "🙂", "sounds good", "EQUIPO UNIRME G4RDN"],
)
def test_a_name_or_a_word_never_flips_a_spanish_speaker_to_english(text: str) -> None:
    assert choose_language(text, "es") == "es"
    assert SetLanguage("en") not in run(Row(text, step="ask_name", name=None)).effects


@pytest.mark.parametrize("text", ["Ana", "ok", "Maria Lopez", "yes", "Rosa", "STOP", "lol ok"])
def test_a_name_or_a_word_never_flips_an_english_speaker_to_spanish(text: str) -> None:
    assert choose_language(text, "en") == "en"


@pytest.mark.parametrize(
    ("text", "language", "confirmation"),
    [
        ("por favor dejen de escribirme", "es", "Te diste de baja"),
        ("ALTO, ya no quiero mensajes", "es", "Te diste de baja"),
        ("Stop texting me please", "en", "You're unsubscribed"),
        ("please remove me from this list", "en", "You're unsubscribed"),
    ],
)
@pytest.mark.parametrize("volunteer", ["en", "es"])
@pytest.mark.parametrize(
    "step", ["new", "awaiting_opt_in", "ask_name", "ask_interests", "confirm_delete", "idle"]
)
def test_an_opt_out_is_never_swallowed_and_is_confirmed_in_its_language(
    text: str, language: str, confirmation: str, volunteer: str, step: str
) -> None:
    outcome = run(Row(text, step=step, language=volunteer, data={"friend_name": "Rosa"}))
    (reply,) = outcome.replies
    assert reply.kind is ReplyKind.OPT_OUT_CONFIRMATION and confirmation in reply.body
    assert outcome.state.step == "opted_out"
    switched = (SetLanguage(language),) if language != volunteer else ()
    assert outcome.effects[: len(switched)] == switched
    (consent,) = outcome.effects[len(switched) :]
    assert isinstance(consent, RecordConsent) and consent.kind == "opt_out"


@pytest.mark.parametrize(
    ("text", "volunteer", "confirmation"),
    [
        ("STOP", "es", "Te diste de baja"),
        ("ALTO", "es", "Te diste de baja"),
        ("STOP", "en", "You're unsubscribed"),
        ("ARRET", "en", "You're unsubscribed"),  # French, which Kindred does not write: as it was
        ("ARRÊT", "es", "Te diste de baja"),
    ],
)
def test_a_carrier_keyword_in_no_language_of_its_own_is_confirmed_in_the_volunteers(
    text: str, volunteer: str, confirmation: str
) -> None:
    outcome = run(Row(text, language=volunteer))
    assert confirmation in outcome.replies[0].body
    assert [type(e) for e in outcome.effects] == [RecordConsent]


@pytest.mark.parametrize("text", ["ALTO", "alto", "PARAR", "Cancelar", "BAJA", "detener"])
def test_a_spanish_opt_out_word_is_confirmed_in_spanish_and_the_language_kept(text: str) -> None:
    outcome = run(Row(text, language="en"))
    (reply,) = outcome.replies
    assert reply.kind is ReplyKind.OPT_OUT_CONFIRMATION and "Te diste de baja" in reply.body
    assert outcome.effects[0] == SetLanguage("es") and isinstance(outcome.effects[1], RecordConsent)


def test_after_opting_out_a_language_word_is_remembered_but_not_answered() -> None:
    outcome = run(Row("ESPAÑOL", step="opted_out", consent=Consent.OPTED_OUT, language="en"))
    assert outcome.replies == () and outcome.effects == (SetLanguage("es"),)


def test_a_follow_up_comes_in_the_volunteers_language() -> None:
    ctx = Context(ORG, NOW, Consent.OPTED_IN, "Ana", (ROSA,), PROMPTS, language="es")
    (reply,) = engine.follow_up(State("idle"), ctx, ROSA.id).replies
    assert reply.kind is ReplyKind.FOLLOW_UP
    assert reply.body.startswith("¡Hola, Ana! Te escribo como me pediste. Idea para Rosa: pregúntale")
    (nobody,) = engine.follow_up(
        State("idle"), Context(ORG, NOW, Consent.OPTED_IN, language="es"), None
    ).replies
    assert nobody.body.startswith("¡Hola! Te escribo como me pediste. ¿Con quién quieres hablar esta semana?")


@pytest.mark.parametrize(
    ("due", "english", "spanish"),
    [
        (LOCAL_NOW + timedelta(hours=3), "later today", "en unas horas"),
        (LOCAL_NOW + timedelta(hours=9), "this evening", "esta noche"),
        (LOCAL_NOW + timedelta(days=1), "tomorrow", "mañana"),
        (LOCAL_NOW + timedelta(days=6), "on Friday", "el viernes"),
        (LOCAL_NOW + timedelta(days=13), "on Friday, December 4", "el viernes 4 de diciembre"),
    ],
)
def test_when_a_follow_up_is_due_in_words(due: datetime, english: str, spanish: str) -> None:
    assert followups.describe(due, LOCAL_NOW) == english
    assert followups.describe(due, LOCAL_NOW, "es") == spanish


def test_my_data_gives_the_join_date_in_spanish() -> None:
    ctx = Context(ORG, NOW, Consent.OPTED_IN, "Ana", language="es", joined_at=NOW, report_count=2)
    (reply,) = engine.respond(State("idle"), Inbound("MISDATOS", NOW), ctx).replies
    assert "2 reportes de tus charlas; que te uniste el 21 de nov." in reply.body


# The catalog


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_key_has_both_languages_with_the_same_placeholders(key: str) -> None:
    texts = CATALOG[key]
    assert set(texts) == set(messages.LANGUAGES)
    assert all(text.strip() for text in texts.values())
    assert placeholders(texts["en"]) == placeholders(texts["es"])
    assert all(name.isidentifier() for name in placeholders(texts["en"]))  # no positional {}


@pytest.mark.parametrize("language", messages.LANGUAGES)
def test_every_key_renders_in_every_language(language: str) -> None:
    for key, texts in CATALOG.items():
        rendered = say(language, key, **dict.fromkeys(placeholders(texts[language]), "X"))
        assert "{" not in rendered and "}" not in rendered, key


def test_every_value_the_flows_label_has_a_key() -> None:
    for outcome in OUTCOMES:
        assert f"reports.choice.{outcome}" in CATALOG
        assert {f"reports.said.{outcome}.one", f"reports.said.{outcome}.many"} <= set(CATALOG)
    labelled = [("relationship", RELATIONSHIPS), ("stage", STAGES), ("interest", DEFAULT_INTERESTS)]
    for kind, values in labelled:
        assert {f"{kind}.{value}" for value in values} <= set(CATALOG)
    assert {f"weekday.{i}" for i in range(7)} | {f"month.{m}" for m in range(1, 13)} <= set(CATALOG)
    short = {f"weekday_short.{i}" for i in range(7)} | {f"month_short.{m}" for m in range(1, 13)}
    assert short <= set(CATALOG)


def test_every_key_the_flows_name_is_in_the_catalog() -> None:
    """A literal key in a flow (``say(language, "teams.welcome", ...)``) that the catalog lacks
    would fail only in a volunteer's conversation; the keys built from values are checked above."""
    named = set()
    for path in Path(messages.__file__).parent.glob("*.py"):
        named |= set(re.findall(r"""["']((?:[a-z_]+\.)+[a-z_]+)["']""", path.read_text()))
    keys = {key for key in named if key.split(".")[0] in {k.split(".")[0] for k in CATALOG}}
    assert keys and keys <= set(CATALOG), keys - set(CATALOG)
    assert {"teams.welcome", "events.reminder_named", "reports.logged_open_event"} <= keys


@pytest.mark.parametrize("prefix", ["teams.", "events.", "time.", "weekday_short.", "date."])
def test_team_and_event_replies_in_spanish_fit_gsm7_where_they_can(prefix: str) -> None:
    # Only "número" (one short reply) needs a character outside GSM-7.
    for key, texts in CATALOG.items():
        if key.startswith(prefix) and key != "events.pick_number":
            assert segments.is_gsm7(texts["es"]), (key, texts["es"])


def test_say_falls_back_to_english_and_refuses_a_missing_key_or_value() -> None:
    assert say("fr", "onboarding.welcome") == "Welcome! What's your first name?"
    assert say("es", "onboarding.welcome") == "¡Te damos la bienvenida! ¿Cuál es tu nombre?"
    with pytest.raises(KeyError):
        say("es", "no.such.key")
    with pytest.raises(KeyError):
        say("es", "friends.added", names="Rosa")


@pytest.mark.parametrize(
    ("language", "names", "joined"),
    [
        ("en", ["Maria"], "Maria"),
        ("en", ["Maria", "Ruth"], "Maria and Ruth"),
        ("en", ["Ana", "Luis", "Rosa"], "Ana, Luis and Rosa"),
        ("es", ["Maria", "Ruth"], "Maria y Ruth"),
        ("es", ["Ana", "Luis", "Rosa"], "Ana, Luis y Rosa"),
        ("es", ["María", "Isabel"], "María e Isabel"),
        ("es", ["Rosa", "Hilda"], "Rosa e Hilda"),
        ("es", ["Rosa", "Yolanda"], "Rosa y Yolanda"),
        ("es", ["Rosa", "Iosef"], "Rosa y Iosef"),
    ],
)
def test_join_names(language: str, names: list[str], joined: str) -> None:
    assert join_names(language, names) == joined
