"""Follow-ups: "later", "remind me Friday", "not this week". The volunteer says when; we check
back then, at a reasonable hour on their clock, with an idea for a conversation.

`when_asked` reads the time from the text relative to the volunteer's local now, so a test is
one row: (text, local now) -> local due time.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from flows import prompts
from flows.events import (
    Consent,
    Context,
    Outcome,
    Reply,
    ReplyKind,
    ScheduleFollowUp,
    SnoozeFriend,
    State,
)
from flows.friends import find_by_name
from flows.keywords import fold
from flows.messages import day_and_month, say, weekday_name

MORNING = time(10)  # day-based reminders go out at 10 a.m. local time
EVENING = time(18)
LATER = timedelta(hours=3)
LAST_LATER = time(19)  # a "later" that would land after this moves to tomorrow morning

# Weekday words a volunteer may type, to their number (Monday 0); flows/event_proposals.py reads them too.
WEEKDAYS = {
    "monday": 0,
    "mon": 0,
    "lunes": 0,
    "lun": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "martes": 1,
    "wednesday": 2,
    "wed": 2,
    "miercoles": 2,
    "mie": 2,
    "thursday": 3,
    "thu": 3,
    "thurs": 3,
    "jueves": 3,
    "jue": 3,
    "friday": 4,
    "fri": 4,
    "viernes": 4,
    "vie": 4,
    "saturday": 5,
    "sat": 5,
    "sabado": 5,
    "sab": 5,
    "sunday": 6,
    "sun": 6,
    "domingo": 6,
    "dom": 6,
}  # fmt: skip (Spanish "mar" is left out: it is March too)
_TRIGGER = re.compile(
    r"^(please\s+)?(remind me|remindme|recuerdame|recordarme|later|maybe later|ask me later|not now|"
    r"not right now|not today|not this week|next week|snooze|busy|mas tarde|luego|ahora no|hoy no|"
    r"esta semana no|la proxima semana|la semana que viene|tomorrow|manana|otro dia|another day)\b"
)
_IN_N = re.compile(r"\b(?:in|en)\s+(\d{1,2}|a|an|un|una)\s+(hours?|horas?|days?|dias?|weeks?|semanas?)\b")


def when_asked(text: str, local_now: datetime) -> datetime | None:
    """When the volunteer asked to be reminded, on their clock; None if the text isn't a
    request to be reminded later."""
    folded = " ".join(fold(text).replace("!", " ").replace(".", " ").replace(",", " ").split())
    if not _TRIGGER.match(folded) or len(folded.split()) > 10:
        return None
    today = local_now.date()
    if match := _IN_N.search(folded):
        count = 1 if match[1] in ("a", "an", "un", "una") else int(match[1])
        unit = match[2]
        if unit.startswith("hora") or unit.startswith("hour"):
            return local_now + timedelta(hours=count)
        days = count * (7 if unit.startswith(("week", "semana")) else 1)
        return _at(today + timedelta(days=days), MORNING, local_now)
    for word in folded.split():
        if word in WEEKDAYS:
            ahead = (WEEKDAYS[word] - today.weekday() - 1) % 7 + 1  # the next one, never today
            return _at(today + timedelta(days=ahead), MORNING, local_now)
    if re.search(r"\b(next week|not this week|esta semana no|proxima semana|semana que viene)\b", folded):
        return _at(today + timedelta(days=7 - today.weekday()), MORNING, local_now)
    if re.search(r"\b(weekend|fin de semana)\b", folded):
        return _at(today + timedelta(days=max(5 - today.weekday(), 1)), MORNING, local_now)
    if re.search(r"\b(tomorrow|manana|not today|hoy no|otro dia|another day)\b", folded):
        return _at(today + timedelta(days=1), MORNING, local_now)
    if re.search(r"\b(tonight|esta noche)\b", folded) and local_now.time() < EVENING:
        return _at(today, EVENING, local_now)
    later = local_now + LATER
    if later.date() != today or later.time() > LAST_LATER:
        return _at(today + timedelta(days=1), MORNING, local_now)
    return later


def snooze(state: State, text: str, ctx: Context) -> Outcome | None:
    """Schedule the follow-up the volunteer asked for; None if the text doesn't ask for one."""
    due = when_asked(text, ctx.local_now)
    if due is None:
        return None
    due_utc = due.astimezone(UTC)
    friend = find_by_name(ctx.friends, prompts.prompted_friend(state, ctx.now))
    effects: list[ScheduleFollowUp | SnoozeFriend] = [
        ScheduleFollowUp(due_utc, friend.id if friend else None)
    ]
    if friend is not None and due - ctx.local_now >= timedelta(days=2):
        effects.append(SnoozeFriend(friend.id, due_utc))
    body = say(ctx.language, "followups.snoozed", when=describe(due, ctx.local_now, ctx.language))
    return Outcome(State("idle", state.data), (Reply(body),), tuple(effects))


def nudge(state: State, ctx: Context, friend_id: int | None) -> Outcome:
    """The follow-up itself, at the time the volunteer asked for: an idea for the friend they
    were thinking about (if still due and an idea is left for them), else for whoever is most
    due with an idea left."""
    if ctx.consent is not Consent.OPTED_IN:
        return Outcome(state)
    chosen = next((f for f in ctx.friends if f.id == friend_id and f.stage != "joined"), None)
    fits = chosen is not None and prompts.has_idea(chosen, ctx)
    friend = (chosen if fits else prompts.with_idea(ctx)) or chosen or prompts.most_due(ctx.friends, ctx.now)
    language = ctx.language
    greeting = (
        say(language, "followups.greeting", name=ctx.name)
        if ctx.name
        else say(language, "followups.greeting_no_name")
    )
    lead = say(language, "followups.checking_back", greeting=greeting)
    if friend is None:
        body = say(language, "followups.ask_friend", lead=lead)
        return Outcome(State("ask_friend"), (Reply(body, ReplyKind.FOLLOW_UP),))
    reply, marks, next_state = prompts.prompt_reply(friend, friend.id, ctx, lead=lead)
    return Outcome(next_state, (Reply(reply.body, ReplyKind.FOLLOW_UP),), marks)


def describe(due: datetime, local_now: datetime, language: str = "en") -> str:
    """When, in words the volunteer would use: "later today", "tomorrow", "on Friday",
    "on Friday, December 4" (Spanish: "más tarde", "mañana", "el viernes", "el viernes 4 de
    diciembre"). Day and month names come from the message catalog, not the process locale."""
    days = (due.date() - local_now.date()).days
    if days == 0:
        return say(language, "followups.later_today" if due.time() < EVENING else "followups.this_evening")
    if days == 1:
        return say(language, "followups.tomorrow")
    weekday = weekday_name(language, due)
    if days < 7:
        return say(language, "followups.on_weekday", weekday=weekday)
    return say(language, "followups.on_date", weekday=weekday, date=day_and_month(language, due))


def _at(day: date, clock: time, local_now: datetime) -> datetime:
    return datetime.combine(day, clock, tzinfo=local_now.tzinfo)
