"""Events: what's coming up, who's coming, and a reminder the day before.

    EVENTS                      the next few upcoming events, numbered (Spanish: EVENTOS)
    RSVP 2                      you'll come to event 2 of that list (Spanish: CONFIRMAR 2)
    RSVP forum                  the same, by a word of the event's title
    count me in for the forum   the same, in plain words ("I'm in for the forum",
                                "sign me up for the cleanup", "cuenten conmigo para el foro")
    RSVP NO 2                   you won't come after all (CANCEL is never used: it opts out)

The numbers are positions in the list EVENTS shows (the next few, soonest first), which the
confirmation repeats by name. After an RSVP the volunteer is asked to bring a friend from their
list who is open or committed, if there is one.

The reminder goes about a day before the event to each volunteer who said they'd come (see
gateway/reminders.py for when); it is a message the system starts, so the outbox sends it only
with an opt-in on record and paces it into the calling window on the volunteer's clock.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from flows import keywords
from flows.events import (
    Consent,
    Context,
    EventView,
    Friend,
    Outcome,
    RecordRsvp,
    Reply,
    ReplyKind,
    State,
)

# Reminders go this long before an event, to those who said yes before then (gateway/reminders.py).
REMINDER_LEAD = timedelta(hours=24)
_NO = frozenset({"no", "not"})
_COUNT_ME_IN = re.compile(
    r"^(?:count me in|i'?m in|i am in|sign me up|i'?ll be there|i will be there|i'?ll come|"
    r"i will come|cuenten conmigo|cuenta conmigo|apuntame|ahi estare|alli estare)\s+"
    r"(?:for|to|at|para|a|al|en)\s+(?P<what>.+)$"
)
_NOT_TITLE_WORDS = frozenset(
    {"the", "a", "an", "our", "your", "this", "that", "el", "la", "los", "las", "del"}
)
_BRING_STAGES = ("committed", "open")


def listing(ctx: Context) -> Outcome:
    """EVENTS: the next few upcoming events, numbered for RSVP."""
    if not ctx.events:
        body = "No events are scheduled right now. Reply PROMPT for a conversation idea."
        return Outcome(State("idle"), (Reply(body),))
    lines = "; ".join(
        f"{i}) {_describe(event)}{' (you are going)' if event.going else ''}"
        for i, event in enumerate(ctx.events, 1)
    )
    return Outcome(State("idle"), (Reply(f"Coming up: {lines}. Reply RSVP and a number to come."),))


def rsvp(state: State, rest: str, ctx: Context) -> Outcome:
    """RSVP <number or title word>, or RSVP NO <number>."""
    words = rest.strip(" .!?").split()
    going = not (words and keywords.fold(words[0]) in _NO)
    what = " ".join(words[1:] if not going else words)
    if not ctx.events:
        return listing(ctx)
    event = _by_number(what, ctx.events) or _by_title(what, ctx.events)
    if event is None:
        if what.isdigit():
            body = f"Please reply RSVP and a number from 1 to {len(ctx.events)}."
            return Outcome(State("idle"), (Reply(body),))
        return listing(ctx)
    return confirm(event, ctx, going)


def count_me_in(state: State, text: str, ctx: Context) -> Outcome | None:
    """An RSVP in plain words ("count me in for the forum"); None if the text isn't one, or
    names no upcoming event."""
    if not ctx.events:
        return None
    folded = " ".join(keywords.fold(text).replace("!", " ").replace(".", " ").replace(",", " ").split())
    match = _COUNT_ME_IN.match(folded)
    if match is None:
        return None
    event = _by_title(match["what"], ctx.events)
    return confirm(event, ctx) if event is not None else None


def confirm(event: EventView, ctx: Context, going: bool = True) -> Outcome:
    """Record the RSVP and say so; a yes also suggests bringing a friend."""
    if not going:
        body = f"Thanks for letting us know. You're off the list for {event.title}."
        effects = (RecordRsvp(event.id, False),) if event.going else ()
        return Outcome(State("idle"), (Reply(body),), effects)
    said = "You're already down for" if event.going else "You're in for"
    body = f"{said} {_describe(event)}. I'll text you a reminder the day before."
    if event.starts_at - ctx.now < REMINDER_LEAD:
        body = f"{said} {_describe(event)}. See you there!"
    friend = bring_along(ctx.friends)
    if friend is not None:
        body += f" Bring {friend.name}? Reply INVITE {friend.name} for a message to forward."
    effects = () if event.going else (RecordRsvp(event.id, True),)
    return Outcome(State("idle"), (Reply(body),), effects)


def reminder(state: State, ctx: Context, event: EventView) -> Outcome:
    """The reminder before an event the volunteer said they'd come to (the system starts this
    one, so it needs an opt-in on record)."""
    if ctx.consent is not Consent.OPTED_IN:
        return Outcome(state)
    greeting = f"Hi {ctx.name}! " if ctx.name else ""
    body = f"{greeting}Reminder: {event.title} is {_when(event, ctx.now)}{_at(event)}. See you there!"
    friend = bring_along(ctx.friends)
    if friend is not None:
        body += f" Bring {friend.name}? Reply INVITE {friend.name} for a message to forward."
    return Outcome(state, (Reply(body, ReplyKind.REMINDER),))


def bring_along(friends: Sequence[Friend]) -> Friend | None:
    """A friend worth bringing to an event: committed before open, most recently reported on
    first; None if nobody on the list is open or committed."""
    ready = [f for f in friends if f.stage in _BRING_STAGES]
    if not ready:
        return None
    return min(
        ready,
        key=lambda f: (
            _BRING_STAGES.index(f.stage),
            -(f.last_reported_at.timestamp() if f.last_reported_at else 0.0),
            f.id,
        ),
    )


def _by_number(what: str, events: Sequence[EventView]) -> EventView | None:
    what = what.strip(" .!?#")
    if what.isdigit() and 1 <= int(what) <= len(events):
        return events[int(what) - 1]
    return None


def _by_title(what: str, events: Sequence[EventView]) -> EventView | None:
    """The soonest event whose title shares the most words with `what`."""
    wanted = {w for w in _words(what) if w not in _NOT_TITLE_WORDS and len(w) >= 3}
    if not wanted:
        return None
    scored = [(len(wanted & set(_words(event.title))), i) for i, event in enumerate(events)]
    best, index = max(scored, key=lambda pair: (pair[0], -pair[1]))
    return events[index] if best else None


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", keywords.fold(text))


def _describe(event: EventView) -> str:
    return f"{event.title}, {_date(event.starts_at)}, {_clock(event.starts_at)}{_at(event, ',')}"


def _at(event: EventView, joiner: str = " at") -> str:
    return f"{joiner} {event.location}" if event.location else ""


def _when(event: EventView, now: datetime) -> str:
    """When the event is, like "tomorrow at 6:30 PM", on the event's own clock."""
    days = (event.starts_at.date() - now.astimezone(event.starts_at.tzinfo).date()).days
    day = "today" if days == 0 else "tomorrow" if days == 1 else f"on {_date(event.starts_at)}"
    return f"{day} at {_clock(event.starts_at)}"


def _date(moment: datetime) -> str:
    return f"{moment:%a %b} {moment.day}"


def _clock(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes} {'AM' if moment.hour < 12 else 'PM'}"
