"""Teams by text, one table row per situation: (text, the volunteer's team, the team a code
names, a fresh code) -> (what the reply says, the effects). No app, no database."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest

from flows import engine, teams
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
    (Row("equipo nuevo Los Vecinos", new_team_code="V3C1N", language="es"), "Started Los Vecinos!", (CreateTeam("Los Vecinos", "V3C1N"),)),
    (Row("TEAM NEW Garden Crew", team=WALKERS, new_team_code="G4RDN"), "You've left Block Walkers. Started Garden Crew!",
     (CreateTeam("Garden Crew", "G4RDN"),)),
    (Row("TEAM NEW", new_team_code="K7Q2X"), "What should the team be called?", ()),
    (Row("TEAM JOIN g4rdn", joining=GARDEN), "Welcome to Garden Crew with Rosa and Ben!", (JoinTeam(9),)),
    (Row("team g4rdn", joining=GARDEN), "Welcome to Garden Crew", (JoinTeam(9),)),
    (Row("EQUIPO UNIRME G4RDN", joining=GARDEN), "Welcome to Garden Crew", (JoinTeam(9),)),
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
     (RelayTeamUpdate("Sam (Block Walkers): we knocked 40 doors today!"),)),
    (Row("aviso  tocamos 40 puertas", team=WALKERS, name=None, language="es"), "Sent to 2 teammates",
     (RelayTeamUpdate("A teammate (Block Walkers): tocamos 40 puertas"),)),
    (Row("UPDATE hi all", team=replace(WALKERS, listeners=1)), "Sent to 1 teammate on", (RelayTeamUpdate("Sam (Block Walkers): hi all"),)),
    (Row("UPDATE " + LONG, team=WALKERS), f"the limit is {teams.MAX_UPDATE_CHARS}", ()),
    (Row("UPDATE " + "y" * teams.MAX_UPDATE_CHARS, team=WALKERS), "Sent to 2",
     (RelayTeamUpdate("Sam (Block Walkers): " + "y" * teams.MAX_UPDATE_CHARS),)),
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
