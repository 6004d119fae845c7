"""Teams by text, one table row per situation: (text, the volunteer's team, the team a code
names, a fresh code) -> (what the reply says, the effects). No app, no database."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest

from flows import engine, segments, teams
from flows.events import (
    Consent,
    Context,
    CreateTeam,
    Effect,
    Inbound,
    JoinTeam,
    LeaveTeam,
    MuteTeam,
    Organization,
    RelayTeamUpdate,
    SetLanguage,
    State,
    TeamView,
)

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
ORG = Organization("Eastside Neighbors", "organizers@eastside.example.org")
WALKERS = TeamView(7, "Block Walkers", "K7Q2X", 4, ("Ana", "Luis", ""), listeners=2)
GARDEN = TeamView(9, "Garden Crew", "G4RDN", 2, ("Rosa", "Ben"))
FULL = TeamView(11, "Big Crew", "B1GGG", teams.MAX_TEAM_SIZE, ("Ana",) * teams.MAX_TEAM_SIZE)


@dataclass
class Row:
    text: str
    team: TeamView | None = None
    joining: TeamView | None = None
    new_team_code: str | None = None
    name: str | None = "Sam"
    language: str = "en"  # a Spanish row is a volunteer who already writes in Spanish


def run(row: Row):
    ctx = Context(
        ORG,
        NOW,
        Consent.OPTED_IN,
        row.name,
        team=row.team,
        joining=row.joining,
        new_team_code=row.new_team_code,
        language=row.language,
    )
    return engine.respond(State("idle"), Inbound(row.text, NOW), ctx)


LONG = "x" * (teams.MAX_UPDATE_CHARS + 1)
# fmt: off
CASES: list[tuple[Row, str, tuple[Effect, ...]]] = [
    (Row("TEAM"), "You're not on a team yet. Start one: TEAM NEW", ()),
    (Row("team", team=WALKERS), "You're on Block Walkers with Ana, Luis and 1 other. Join code: K7Q2X", ()),
    (Row("TEAM", team=replace(WALKERS, muted=True)), "UNMUTE to get their updates again", ()),
    (Row("TEAM NEW Block Walkers", new_team_code="K7Q2X"), "Started Block Walkers! Its join code is K7Q2X",
     (CreateTeam("Block Walkers", "K7Q2X"),)),
    (Row("TEAM NEW Garden Crew", team=WALKERS, new_team_code="G4RDN"), "You've left Block Walkers. Started Garden Crew!",
     (CreateTeam("Garden Crew", "G4RDN"),)),
    (Row("TEAM NEW", new_team_code="K7Q2X"), "What should the team be called?", ()),
    (Row("TEAM JOIN g4rdn", joining=GARDEN), "Welcome to Garden Crew with Rosa and Ben!", (JoinTeam(9),)),
    (Row("team g4rdn", joining=GARDEN), "Welcome to Garden Crew", (JoinTeam(9),)),
    # Spanish command words from an English-speaking volunteer: answered, and from now on written, in Spanish.
    (Row("EQUIPO UNIRME G4RDN", joining=GARDEN), "Te damos la bienvenida a Garden Crew", (SetLanguage("es"), JoinTeam(9))),
    (Row("TEAM JOIN G4RDN", team=WALKERS, joining=GARDEN), "You've left Block Walkers. Welcome to Garden Crew",
     (JoinTeam(9),)),
    (Row("TEAM JOIN K7Q2X", team=WALKERS, joining=WALKERS), "You're already on Block Walkers.", ()),
    (Row("TEAM JOIN ZZ9ZZ"), "I couldn't find a team with that code.", ()),
    (Row("TEAM JOIN"), "Reply TEAM JOIN and the team's code", ()),
    (Row("TEAM JOIN B1GGG", joining=FULL), f"Big Crew is full ({teams.MAX_TEAM_SIZE} people)", ()),
    (Row("TEAM LEAVE", team=WALKERS), "You've left Block Walkers.", (LeaveTeam(),)),
    (Row("TEAM LEAVE"), "You're not on a team yet.", ()),
    (Row("MUTE", team=WALKERS), "Muted: no more updates from Block Walkers.", (MuteTeam(True),)),
    (Row("team mute", team=WALKERS), "Muted:", (MuteTeam(True),)),
    (Row("UNMUTE", team=replace(WALKERS, muted=True)), "Unmuted: you'll get updates", (MuteTeam(False),)),
    (Row("UNMUTE", team=WALKERS), "Unmuted", ()),
    (Row("MUTE"), "You're not on a team yet.", ()),
    (Row("UPDATE we knocked 40 doors today!", team=WALKERS), "Sent to 2 teammates on Block Walkers.",
     (RelayTeamUpdate("we knocked 40 doors today!", "Block Walkers", "Sam"),)),
    (Row("UPDATE hi all", team=replace(WALKERS, listeners=1)), "Sent to 1 teammate on",
     (RelayTeamUpdate("hi all", "Block Walkers", "Sam"),)),
    (Row("UPDATE hi all", team=WALKERS, name=None), "Sent to 2", (RelayTeamUpdate("hi all", "Block Walkers"),)),
    (Row("UPDATE " + LONG, team=WALKERS), f"the limit is {teams.MAX_UPDATE_CHARS}", ()),
    (Row("UPDATE " + "y" * teams.MAX_UPDATE_CHARS, team=WALKERS), "Sent to 2",
     (RelayTeamUpdate("y" * teams.MAX_UPDATE_CHARS, "Block Walkers", "Sam"),)),
    (Row("UPDATE one more", team=replace(WALKERS, updates_today=teams.DAILY_UPDATES)),
     f"You've sent {teams.DAILY_UPDATES} team updates in the last 24 hours", ()),
    (Row("UPDATE anyone?", team=replace(WALKERS, listeners=0)), "Nobody on Block Walkers is getting team updates", ()),
    (Row("UPDATE", team=WALKERS), "Reply UPDATE and a short message", ()),
    (Row("UPDATE we did it"), "You're not on a team yet.", ()),
]
# fmt: on


@pytest.mark.parametrize(("row", "says", "effects"), CASES, ids=[c[0].text[:40] for c in CASES])
def test_team_commands(row: Row, says: str, effects: tuple[Effect, ...]) -> None:
    outcome = run(row)
    assert len(outcome.replies) == 1
    assert says in outcome.replies[0].body
    assert outcome.effects == effects


ES = {"language": "es"}
# fmt: off
SPANISH: list[tuple[Row, str, tuple[Effect, ...]]] = [
    # A volunteer who writes in Spanish: every reply in Spanish, team names as written.
    (Row("EQUIPO", **ES), "Por ahora no tienes equipo. Crea uno: EQUIPO NUEVO y un nombre, como EQUIPO NUEVO "
                          "Los Vecinos. O entra a uno: EQUIPO UNIRME y su clave.", ()),
    (Row("equipo", team=WALKERS, **ES), "Eres parte de Block Walkers con Ana, Luis y 1 persona. "
                                        "Clave para unirse: K7Q2X. Con AVISO y un mensaje le escribes a tu equipo; "
                                        "SILENCIAR pausa sus avisos. EQUIPO SALIR para salirte.", ()),
    (Row("EQUIPO", team=replace(WALKERS, member_names=("Ana", "Isabel")), **ES), "con Ana e Isabel.", ()),
    (Row("EQUIPO", team=replace(WALKERS, muted=True), **ES), "REACTIVAR para volver a recibir sus avisos", ()),
    (Row("EQUIPO NUEVO Los Vecinos", new_team_code="V3C1N", **ES),
     "¡Listo, creaste Los Vecinos! Su clave es V3C1N: para unirse, mandan EQUIPO UNIRME V3C1N. "
     "Con AVISO y un mensaje le escribes a tu equipo.", (CreateTeam("Los Vecinos", "V3C1N"),)),
    (Row("equipo nuevo Huerto", team=WALKERS, new_team_code="G4RDN", **ES),
     "Saliste de Block Walkers. ¡Listo, creaste Huerto!", (CreateTeam("Huerto", "G4RDN"),)),
    (Row("EQUIPO NUEVO", new_team_code="K7Q2X", **ES), "¿Qué nombre le ponemos al equipo? Responde EQUIPO NUEVO", ()),
    (Row("EQUIPO UNIRME G4RDN", joining=GARDEN, **ES),
     "¡Te damos la bienvenida a Garden Crew con Rosa y Ben! Vas a recibir los avisos de tu equipo "
     "(SILENCIAR los pausa).", (JoinTeam(9),)),
    (Row("equipo g4rdn", team=WALKERS, joining=GARDEN, **ES), "Saliste de Block Walkers. ¡Te damos la bienvenida",
     (JoinTeam(9),)),
    (Row("EQUIPO UNIRME K7Q2X", team=WALKERS, joining=WALKERS, **ES),
     "Ya eres parte de Block Walkers. Responde EQUIPO para verlo.", ()),
    (Row("EQUIPO UNIRME ZZ9ZZ", **ES), "No encontré un equipo con esa clave.", ()),
    (Row("EQUIPO UNIRME", **ES), "Responde EQUIPO UNIRME y la clave del equipo, como EQUIPO UNIRME K7Q2X.", ()),
    (Row("EQUIPO UNIRME B1GGG", joining=FULL, **ES), f"Lo siento, Big Crew ya no tiene lugar ({teams.MAX_TEAM_SIZE} personas).", ()),
    (Row("EQUIPO SALIR", team=WALKERS, **ES), "Saliste de Block Walkers. Cuando quieras, EQUIPO UNIRME", (LeaveTeam(),)),
    (Row("SILENCIAR", team=WALKERS, **ES), "Silenciado: ya no te llegan avisos de Block Walkers.", (MuteTeam(True),)),
    (Row("REACTIVAR", team=replace(WALKERS, muted=True), **ES), "Reactivado: te van a llegar otra vez los avisos",
     (MuteTeam(False),)),
    (Row("AVISO ¡tocamos 40 puertas hoy!", team=WALKERS, **ES), "Se lo mandé a 2 personas de Block Walkers.",
     (RelayTeamUpdate("¡tocamos 40 puertas hoy!", "Block Walkers", "Sam"),)),
    (Row("aviso  tocamos 40 puertas", team=replace(WALKERS, listeners=1), name=None, **ES),
     "Se lo mandé a 1 persona de Block Walkers.", (RelayTeamUpdate("tocamos 40 puertas", "Block Walkers"),)),
    (Row("AVISO " + LONG, team=WALKERS, **ES), f"Ese aviso tiene {len(LONG)} caracteres y el tope es {teams.MAX_UPDATE_CHARS}.", ()),
    (Row("AVISO uno más", team=replace(WALKERS, updates_today=teams.DAILY_UPDATES), **ES),
     f"Ya mandaste {teams.DAILY_UPDATES} avisos al equipo en 24 horas", ()),
    (Row("AVISO ¿alguien?", team=replace(WALKERS, listeners=0), **ES), "Por ahora nadie en Block Walkers recibe avisos", ()),
    (Row("AVISO", team=WALKERS, **ES), "Responde AVISO y un mensaje corto para tu equipo", ()),
    (Row("AVISO lo logramos", **ES), "Por ahora no tienes equipo.", ()),
]
# fmt: on
# English words (and English command words) a Spanish team reply never has.
ENGLISH = (
    "Reply",
    "TEAM",
    "UPDATE",
    "MUTE",
    "JOIN ",
    "LEAVE",
    "You",
    "you",
    "Sent",
    "Sorry",
    "code",
    "Welcome",
)


@pytest.mark.parametrize(("row", "says", "effects"), SPANISH, ids=[c[0].text[:40] for c in SPANISH])
def test_team_commands_in_spanish(row: Row, says: str, effects: tuple[Effect, ...]) -> None:
    outcome = run(row)
    (reply,) = outcome.replies
    assert says in reply.body
    assert outcome.effects == effects  # already Spanish: no SetLanguage
    for word in ENGLISH:
        assert word not in reply.body.replace("Block Walkers", "").replace("Big Crew", ""), reply.body
    assert segments.count(reply.body).count <= 2, reply.body


@pytest.mark.parametrize(
    ("language", "sender", "copy"),
    [
        ("en", "Sam", "Sam (Block Walkers): ¡tocamos 40 puertas!"),
        ("es", "Sam", "Sam (Block Walkers): ¡tocamos 40 puertas!"),
        ("en", None, "A teammate (Block Walkers): ¡tocamos 40 puertas!"),
        ("es", None, "Alguien del equipo (Block Walkers): ¡tocamos 40 puertas!"),
    ],
)
def test_each_teammates_copy_frames_the_senders_words_in_the_recipients_language(
    language: str, sender: str | None, copy: str
) -> None:
    assert teams.relay_body(language, sender, "Block Walkers", "¡tocamos 40 puertas!") == copy


def test_an_update_from_someone_on_no_team_that_is_a_report_is_logged() -> None:
    from flows.events import Friend, LogReport

    maria = Friend(1, "Maria", "neighbor")
    ctx = Context(ORG, NOW, Consent.OPTED_IN, "Sam", (maria,))
    outcome = engine.respond(State("idle"), Inbound("Update: talked to Maria, she's in!", NOW), ctx)
    assert [type(e) for e in outcome.effects] == [LogReport]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("TEAM JOIN k7q2x", "K7Q2X"),
        ("team join K7Q2X please", "K7Q2X"),
        ("TEAM K7Q2X", "K7Q2X"),
        ("equipo unirme K7Q2X", "K7Q2X"),
        ("JOIN K7Q2", None),  # a personal referral code, not a team's
        ("JOIN K7Q2X", None),  # team codes need the TEAM word
        ("TEAM JOIN K7Q2", None),
        ("TEAM NEW Walkers", None),
        ("TEAM meeting", None),
        ("hello", None),
    ],
)
def test_join_code_in(text: str, code: str | None) -> None:
    assert teams.join_code_in(text) == code


def test_starts_team() -> None:
    assert teams.starts_team("TEAM NEW Block Walkers")
    assert teams.starts_team("equipo nuevo Vecinos")
    assert not teams.starts_team("TEAM JOIN K7Q2X")
    assert not teams.starts_team("new team please")


def test_a_referral_join_before_opt_in_is_still_the_referral_flow() -> None:
    ctx = Context(ORG, NOW, Consent.UNKNOWN)
    outcome = engine.respond(State("new"), Inbound("JOIN K7Q2", NOW), ctx)
    assert outcome.state.data["referral_code"] == "K7Q2"


def test_a_code_has_a_digit_so_no_word_is_a_code() -> None:
    assert teams.is_code("K7Q2X") and teams.is_code("g4rdn")
    assert not teams.is_code("LEAVE") and not teams.is_code("DEJAR") and not teams.is_code("K7Q2")
