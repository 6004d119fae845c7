"""Teams: a few volunteers who organize together and keep each other going with short updates.

    TEAM                      your team, or how to start or join one
    TEAM NEW Block Walkers    start a team; the reply gives its join code (5 characters)
    TEAM JOIN K7Q2X           join a team by its code (TEAM K7Q2X works too)
    TEAM LEAVE                leave your team
    UPDATE we knocked 40 doors!   text your teammates (Spanish: EQUIPO NUEVO/UNIRME/SALIR, AVISO)
    MUTE / UNMUTE             pause or resume your teammates' updates (also TEAM MUTE)

Team join codes need the TEAM word and are five characters with at least one digit (see
:func:`is_code`), so they never read as a word (TEAM LEAVE) and never collide with the
four-character personal codes of "JOIN K7Q2" (flows/invites.py), which is how a new person
joins the program itself. Joining a team, or starting one, leaves the team you were on.

Consent: a teammate gets updates only if they joined the team by their own text (the team
membership keeps that text as evidence), have not muted, and have an opt-in on record; the
outbox checks the opt-in and any opt-out again at send time, and paces each copy into the
recipient's calling window and frequency caps (deferred, never dropped). The sender never gets
their own update. An update is at most :data:`MAX_UPDATE_CHARS` characters and a member sends
at most :data:`DAILY_UPDATES` in any 24 hours; a team holds at most :data:`MAX_TEAM_SIZE`
members, checked when someone joins. Replies to an update are ordinary texts to Kindred: there
is no reply-all.
"""

from __future__ import annotations

import re

from flows import keywords
from flows.events import (
    Context,
    CreateTeam,
    JoinTeam,
    LeaveTeam,
    MuteTeam,
    Outcome,
    RelayTeamUpdate,
    Reply,
    State,
    TeamView,
)
from flows.messages import join_names, say

MAX_TEAM_SIZE = 25
MAX_UPDATE_CHARS = 320
DAILY_UPDATES = 3
MAX_NAME_CHARS = 60
CODE_LENGTH = 5
NAMES_SHOWN = 4

_NEW = frozenset({"new", "create", "start", "nuevo", "nueva", "crear"})
_JOIN = frozenset({"join", "unirme", "unir", "entrar"})
_LEAVE = frozenset({"leave", "exit", "salir", "dejar"})
_MUTE = frozenset({"mute", "silenciar"})
_UNMUTE = frozenset({"unmute", "reactivar"})
# A code has a digit, so no word (TEAM LEAVE, TEAM SALIR) is ever read as one.
_CODE = re.compile(rf"^(?=.*\d)[A-Za-z0-9]{{{CODE_LENGTH}}}$")


def handle(state: State, rest: str, ctx: Context) -> Outcome:
    """Answer TEAM and what follows it: show, NEW, JOIN, LEAVE, MUTE or UNMUTE."""
    word, argument = _split(rest)
    if word in _NEW:
        return create(argument, ctx)
    if word in _JOIN and not argument:
        return Outcome(State("idle"), (Reply(say(ctx.language, "teams.join_how")),))
    if word in _JOIN or _requested_code(rest) is not None:
        return join(ctx)
    if word in _LEAVE:
        return leave(ctx)
    if word in _MUTE | _UNMUTE:
        return mute(ctx, muted=word in _MUTE)
    return show(ctx)


def show(ctx: Context) -> Outcome:
    """TEAM: who is on the volunteer's team and what they can do with it."""
    team = ctx.team
    if team is None:
        return _no_team(ctx)
    key = "teams.show_muted" if team.muted else "teams.show"
    body = say(ctx.language, key, team=team.name, members=_with(ctx.language, team), code=team.code)
    return Outcome(State("idle"), (Reply(body),))


def create(name: str, ctx: Context) -> Outcome:
    """TEAM NEW <name>: start a team with the code the gateway set aside for this text."""
    name = " ".join(name.split()).strip(" .!?\"'")[:MAX_NAME_CHARS]
    if not name or ctx.new_team_code is None:
        return Outcome(State("idle"), (Reply(say(ctx.language, "teams.name_needed")),))
    body = say(ctx.language, "teams.started", left=_left(ctx), name=name, code=ctx.new_team_code)
    return Outcome(State("idle"), (Reply(body),), (CreateTeam(name, ctx.new_team_code),))


def join(ctx: Context) -> Outcome:
    """TEAM JOIN <code>: join the team the code belongs to, if it has room."""
    language = ctx.language
    team = ctx.joining
    if team is None:
        return Outcome(State("idle"), (Reply(say(language, "teams.not_found")),))
    if ctx.team is not None and ctx.team.id == team.id:
        return Outcome(State("idle"), (Reply(say(language, "teams.already_on", team=team.name)),))
    if team.size >= MAX_TEAM_SIZE:
        body = say(language, "teams.full", team=team.name, size=MAX_TEAM_SIZE)
        return Outcome(State("idle"), (Reply(body),))
    body = say(language, "teams.welcome", left=_left(ctx), team=team.name, members=_with(language, team))
    return Outcome(State("idle"), (Reply(body),), (JoinTeam(team.id),))


def leave(ctx: Context) -> Outcome:
    """TEAM LEAVE: off the team; no more of its updates."""
    if ctx.team is None:
        return _no_team(ctx)
    body = say(ctx.language, "teams.left", team=ctx.team.name)
    return Outcome(State("idle"), (Reply(body),), (LeaveTeam(),))


def mute(ctx: Context, muted: bool) -> Outcome:
    """MUTE / UNMUTE: pause or resume the teammates' updates (the volunteer stays on the team)."""
    team = ctx.team
    if team is None:
        return _no_team(ctx)
    body = say(ctx.language, "teams.muted" if muted else "teams.unmuted", team=team.name)
    effects = (MuteTeam(muted),) if muted != team.muted else ()
    return Outcome(State("idle"), (Reply(body),), effects)


def update(state: State, text: str, ctx: Context) -> Outcome:
    """UPDATE <text>: relay a short update to the teammates who get team updates."""
    language = ctx.language
    team = ctx.team
    text = " ".join(text.split())
    if team is None:
        return _no_team(ctx)
    if not text:
        body = say(language, "teams.update_how")
    elif len(text) > MAX_UPDATE_CHARS:
        body = say(language, "teams.update_too_long", length=len(text), limit=MAX_UPDATE_CHARS)
    elif team.updates_today >= DAILY_UPDATES:
        body = say(language, "teams.update_daily_cap", limit=DAILY_UPDATES)
    elif team.listeners == 0:
        body = say(language, "teams.nobody_listening", team=team.name)
    else:
        key = "teams.sent.one" if team.listeners == 1 else "teams.sent.many"
        body = say(language, key, count=team.listeners, team=team.name)
        return Outcome(State("idle"), (Reply(body),), (RelayTeamUpdate(text, team.name, ctx.name),))
    return Outcome(State("idle"), (Reply(body),))


def relay_body(language: str, sender: str | None, team: str, text: str) -> str:
    """One teammate's copy of an update: "Sam (Block Walkers): we knocked 40 doors!", the
    sender's words untouched; a sender with no name is "A teammate" in the recipient's
    `language`."""
    return f"{sender or say(language, 'teams.a_teammate')} ({team}): {text}"


def join_code_in(text: str) -> str | None:
    """The team join code a text gives ("TEAM JOIN K7Q2X", "TEAM K7Q2X"), upper-cased, or
    None; the gateway looks the team up for :attr:`Context.joining`."""
    command = keywords.parse_command(text)
    if command is None or command.name != "team":
        return None
    return _requested_code(command.rest)


def is_code(word: str) -> bool:
    """Whether `word` has the shape of a team join code: five letters and digits, one a digit."""
    return _CODE.match(word) is not None


def starts_team(text: str) -> bool:
    """Whether the text starts a team ("TEAM NEW Block Walkers"), so the gateway sets a fresh
    join code aside in :attr:`Context.new_team_code`."""
    command = keywords.parse_command(text)
    return command is not None and command.name == "team" and _split(command.rest)[0] in _NEW


def _requested_code(rest: str) -> str | None:
    """The code in what follows TEAM: "JOIN K7Q2X" or a lone "K7Q2X"."""
    word, argument = _split(rest)
    candidate = argument.split(" ")[0] if word in _JOIN else (rest.strip() if not argument else "")
    candidate = candidate.strip(" .!?")
    return candidate.upper() if is_code(candidate) else None


def _split(rest: str) -> tuple[str, str]:
    """The first word of what follows TEAM (folded) and the rest, as typed."""
    parts = rest.strip().split(None, 1)
    if not parts:
        return "", ""
    return keywords.fold(parts[0]).strip(" .!?:,"), (parts[1] if len(parts) > 1 else "").strip()


def _with(language: str, team: TeamView) -> str:
    """The other members, the first few by name: ' with Ana, Luis and 3 others' /
    ' con Ana, Luis y 3 personas'."""
    names = [name for name in team.member_names if name][:NAMES_SHOWN]
    others = len(team.member_names) - len(names)
    if not names and not others:
        return ""
    if others:
        names.append(say(language, "teams.others.one" if others == 1 else "teams.others.many", count=others))
    return " " + say(language, "teams.with", names=join_names(language, names))


def _left(ctx: Context) -> str:
    """Starting or joining a team leaves the one the volunteer was on: "You've left Block Walkers. "."""
    return say(ctx.language, "teams.left_before", team=ctx.team.name) + " " if ctx.team is not None else ""


def _no_team(ctx: Context) -> Outcome:
    return Outcome(State("idle"), (Reply(say(ctx.language, "teams.no_team")),))
