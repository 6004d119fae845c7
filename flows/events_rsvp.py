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
from flows.messages import at_time, clock_time, say, weekday_and_date

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
_PUNCTUATION = str.maketrans(dict.fromkeys("!.,¡¿", " "))  # "¡Apúntame a la limpieza!"


def listing(ctx: Context) -> Outcome:
    """EVENTS: the next few upcoming events, numbered for RSVP."""
    language = ctx.language
    if not ctx.events:
        return Outcome(State("idle"), (Reply(say(language, "events.none")),))
    lines = "; ".join(
        say(
            language,
            "events.item_going" if event.going else "events.item",
            number=i,
            event=describe(language, event),
        )
        for i, event in enumerate(ctx.events, 1)
    )
    return Outcome(State("idle"), (Reply(say(language, "events.listing", lines=lines)),))


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
            body = say(ctx.language, "events.pick_number", count=len(ctx.events))
            return Outcome(State("idle"), (Reply(body),))
        return listing(ctx)
    return confirm(event, ctx, going)


def count_me_in(state: State, text: str, ctx: Context) -> Outcome | None:
    """An RSVP in plain words ("count me in for the forum"); None if the text isn't one, or
    names no upcoming event."""
    if not ctx.events:
        return None
    folded = " ".join(keywords.fold(text).translate(_PUNCTUATION).split())
    match = _COUNT_ME_IN.match(folded)
    if match is None:
        return None
    event = _by_title(match["what"], ctx.events)
    return confirm(event, ctx) if event is not None else None


def confirm(event: EventView, ctx: Context, going: bool = True) -> Outcome:
    """Record the RSVP and say so; a yes also suggests bringing a friend. A yes to an event
    with no place left is told it is full instead."""
    language = ctx.language
    if not going:
        body = say(language, "events.off_list", title=event.title)
        effects = (RecordRsvp(event.id, False),) if event.going else ()
        return Outcome(State("idle"), (Reply(body),), effects)
    if event.full and not event.going:
        return Outcome(State("idle"), (Reply(say(language, "events.full", title=event.title)),))
    key = "events.already_down" if event.going else "events.in_for"
    if event.starts_at - ctx.now < REMINDER_LEAD:
        key += "_soon"  # too close for the reminder the day before
    body = say(language, key, event=describe(language, event)) + _bring(ctx)
    effects = () if event.going else (RecordRsvp(event.id, True),)
    return Outcome(State("idle"), (Reply(body),), effects)


def reminder(state: State, ctx: Context, event: EventView) -> Outcome:
    """The reminder before an event the volunteer said they'd come to (the system starts this
    one, so it needs an opt-in on record)."""
    if ctx.consent is not Consent.OPTED_IN:
        return Outcome(state)
    language = ctx.language
    where = " " + say(language, "events.at_place", location=event.location) if event.location else ""
    when = _when(language, event, ctx.now)
    values = {"title": event.title, "when": when, "where": where}
    if ctx.name:
        body = say(language, "events.reminder_named", name=ctx.name, **values)
    else:
        body = say(language, "events.reminder", **values)
    body += _bring(ctx)
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


def describe(language: str, event: EventView) -> str:
    """An event in one line: "Community Forum, Thu Dec 3, 6:30 PM, Eastside Library" /
    "Community Forum, jue. 3 de dic., 6:30 pm, Eastside Library" (title and place as written)."""
    moment = event.starts_at
    values = {
        "title": event.title,
        "date": weekday_and_date(language, moment),
        "time": clock_time(language, moment),
    }
    if event.location:
        return say(language, "events.describe_at", location=event.location, **values)
    return say(language, "events.describe", **values)


def _bring(ctx: Context) -> str:
    """The suggestion to bring a friend ("Bring Ruth? Reply INVITE Ruth ..."), after a space; ""
    when nobody on the list is open or committed."""
    friend = bring_along(ctx.friends)
    return " " + say(ctx.language, "events.bring", name=friend.name) if friend is not None else ""


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


def _when(language: str, event: EventView, now: datetime) -> str:
    """When the event is, like "tomorrow at 6:30 PM" / "mañana a las 6:30 pm", on the event's
    own clock."""
    moment = event.starts_at
    days = (moment.date() - now.astimezone(moment.tzinfo).date()).days
    at = at_time(language, moment)
    if days in (0, 1):
        return say(language, "events.when.today" if days == 0 else "events.when.tomorrow", at=at)
    return say(language, "events.when.on", date=weekday_and_date(language, moment), at=at)
