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

NO_TEAM = (
    "You're not on a team yet. Start one: TEAM NEW and a name, like TEAM NEW Block Walkers. "
    "Or join one: TEAM JOIN and its code."
)


def handle(state: State, rest: str, ctx: Context) -> Outcome:
    """Answer TEAM and what follows it: show, NEW, JOIN, LEAVE, MUTE or UNMUTE."""
    word, argument = _split(rest)
    if word in _NEW:
        return create(argument, ctx)
    if word in _JOIN and not argument:
        body = "Reply TEAM JOIN and the team's code, like TEAM JOIN K7Q2X."
        return Outcome(State("idle"), (Reply(body),))
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
        return Outcome(State("idle"), (Reply(NO_TEAM),))
    body = f"You're on {team.name}{_with(team)}. Join code: {team.code}. UPDATE and a message texts your team"
    body += "; UNMUTE to get their updates again." if team.muted else "; MUTE pauses their updates."
    return Outcome(State("idle"), (Reply(body + " TEAM LEAVE to leave."),))


def create(name: str, ctx: Context) -> Outcome:
    """TEAM NEW <name>: start a team with the code the gateway set aside for this text."""
    name = " ".join(name.split()).strip(" .!?\"'")[:MAX_NAME_CHARS]
    if not name or ctx.new_team_code is None:
        body = "What should the team be called? Reply TEAM NEW and a name, like TEAM NEW Block Walkers."
        return Outcome(State("idle"), (Reply(body),))
    body = (
        f"{_left(ctx)}Started {name}! Its join code is {ctx.new_team_code}: volunteers text TEAM JOIN "
        f"{ctx.new_team_code} to join. UPDATE and a message texts your team."
    )
    return Outcome(State("idle"), (Reply(body),), (CreateTeam(name, ctx.new_team_code),))


def join(ctx: Context) -> Outcome:
    """TEAM JOIN <code>: join the team the code belongs to, if it has room."""
    team = ctx.joining
    if team is None:
        body = "I couldn't find a team with that code. Check it, or start one with TEAM NEW and a name."
        return Outcome(State("idle"), (Reply(body),))
    if ctx.team is not None and ctx.team.id == team.id:
        return Outcome(State("idle"), (Reply(f"You're already on {team.name}. Reply TEAM to see it."),))
    if team.size >= MAX_TEAM_SIZE:
        body = (
            f"Sorry, {team.name} is full ({MAX_TEAM_SIZE} people). Start your own with TEAM NEW and a name."
        )
        return Outcome(State("idle"), (Reply(body),))
    body = (
        f"{_left(ctx)}Welcome to {team.name}{_with(team)}! You'll get your teammates' updates "
        "(MUTE pauses them). UPDATE and a message texts your team."
    )
    return Outcome(State("idle"), (Reply(body),), (JoinTeam(team.id),))


def leave(ctx: Context) -> Outcome:
    """TEAM LEAVE: off the team; no more of its updates."""
    if ctx.team is None:
        return Outcome(State("idle"), (Reply(NO_TEAM),))
    body = f"You've left {ctx.team.name}. TEAM JOIN and a code joins another team anytime."
    return Outcome(State("idle"), (Reply(body),), (LeaveTeam(),))


def mute(ctx: Context, muted: bool) -> Outcome:
    """MUTE / UNMUTE: pause or resume the teammates' updates (the volunteer stays on the team)."""
    team = ctx.team
    if team is None:
        return Outcome(State("idle"), (Reply(NO_TEAM),))
    if muted:
        body = f"Muted: no more updates from {team.name}. UNMUTE to get them again."
    else:
        body = f"Unmuted: you'll get updates from {team.name} again. MUTE pauses them."
    effects = (MuteTeam(muted),) if muted != team.muted else ()
    return Outcome(State("idle"), (Reply(body),), effects)


def update(state: State, text: str, ctx: Context) -> Outcome:
    """UPDATE <text>: relay a short update to the teammates who get team updates."""
    team = ctx.team
    text = " ".join(text.split())
    if team is None:
        return Outcome(State("idle"), (Reply(NO_TEAM),))
    if not text:
        body = 'Reply UPDATE and a short message for your team, like "UPDATE we knocked 40 doors today!"'
        return Outcome(State("idle"), (Reply(body),))
    if len(text) > MAX_UPDATE_CHARS:
        body = (
            f"That update is {len(text)} characters; the limit is {MAX_UPDATE_CHARS}. "
            "Please shorten it and send it again."
        )
        return Outcome(State("idle"), (Reply(body),))
    if team.updates_today >= DAILY_UPDATES:
        body = (
            f"You've sent {DAILY_UPDATES} team updates in the last 24 hours, the most for a day. "
            "Try again tomorrow!"
        )
        return Outcome(State("idle"), (Reply(body),))
    if team.listeners == 0:
        body = f"Nobody on {team.name} is getting team updates right now, so it wasn't sent."
        return Outcome(State("idle"), (Reply(body),))
    sender = ctx.name or "A teammate"
    relay = RelayTeamUpdate(f"{sender} ({team.name}): {text}")
    people = "teammate" if team.listeners == 1 else "teammates"
    body = f"Sent to {team.listeners} {people} on {team.name}."
    return Outcome(State("idle"), (Reply(body),), (relay,))


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


def _with(team: TeamView) -> str:
    """The other members, the first few by name: ' with Ana, Luis and 3 others'."""
    names = [name for name in team.member_names if name][:NAMES_SHOWN]
    others = len(team.member_names) - len(names)
    if not names and not others:
        return ""
    shown = list(names) + ([f"{others} other{'s' if others != 1 else ''}"] if others else [])
    return " with " + (", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1 else shown[0])


def _left(ctx: Context) -> str:
    return f"You've left {ctx.team.name}. " if ctx.team is not None else ""
