"""Team leads propose events by text; an organizer approves them in the console.

    EVENT NEW Park cleanup, Sat 3pm, Riverside Park     propose a team event (Spanish: EVENTO NUEVO)
    EVENT NEW Potluck                                   the parts may also go on separate lines
    Dec 5 6:30pm
    Ana's house

The parts are the title, when and (optionally) where, split by commas or lines. "When" is read
on the volunteer's clock (:func:`when_given`): a weekday ("Sat 3pm", "sábado 3pm"), a month and
day ("Dec 5 6:30pm", "5 dic 18:30"), a date ("12/5 6:30pm"; 5/12 in Spanish), "today" or
"tomorrow", each with a time. Only a lead may propose (:attr:`TeamView.lead`, set by an
organizer); anyone else is told whom to ask. A proposal waits until an organizer approves it
(then it is listed to the lead's team only) or declines it; the lead hears which in the reply to
their next text (flows/notices.py). EVENT alone lists the upcoming events, as EVENTS does.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from flows import events_rsvp
from flows.events import Context, EventView, Outcome, ProposeEvent, Reply, State
from flows.followups import WEEKDAYS
from flows.keywords import fold
from flows.messages import join_names, say

MAX_TITLE_CHARS = 120
MAX_PLACE_CHARS = 200
_NEW = frozenset({"new", "propose", "nuevo", "nueva", "proponer"})
_MONTHS = {
    "jan": 1, "january": 1, "ene": 1, "enero": 1,
    "feb": 2, "february": 2, "febrero": 2,
    "mar": 3, "march": 3, "marzo": 3,
    "apr": 4, "april": 4, "abr": 4, "abril": 4,
    "may": 5, "mayo": 5,
    "jun": 6, "june": 6, "junio": 6,
    "jul": 7, "july": 7, "julio": 7,
    "aug": 8, "august": 8, "ago": 8, "agosto": 8,
    "sep": 9, "sept": 9, "september": 9, "septiembre": 9,
    "oct": 10, "october": 10, "octubre": 10,
    "nov": 11, "november": 11, "noviembre": 11,
    "dec": 12, "december": 12, "dic": 12, "diciembre": 12,
}  # fmt: skip
_TODAY = frozenset({"today", "tonight", "hoy"})
_TOMORROW = frozenset({"tomorrow", "manana"})
_CLOCK = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(am|pm)\b|\b(\d{1,2}):(\d{2})\b|\b(noon|mediodia)\b")
_SLASH_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})\b")
_MONTH_DAY = re.compile(r"\b([a-z]+)\s+(\d{1,2})\b")
_DAY_MONTH = re.compile(r"\b(\d{1,2})\s+(?:de\s+)?([a-z]+)\b")


def handle(state: State, rest: str, ctx: Context) -> Outcome | None:
    """EVENT and what follows it: alone, the events list; NEW, a proposal; None for anything
    else ("event was great"), which is not a command."""
    if not rest.strip():
        return events_rsvp.listing(ctx)
    word, *proposal = rest.strip().split(None, 1)
    if fold(word).strip(" .:,") not in _NEW:
        return None
    return propose(proposal[0] if proposal else "", ctx)


def propose(text: str, ctx: Context) -> Outcome:
    """EVENT NEW <title>, <when>, <where>: a lead's proposal, sent to the organizers."""
    language = ctx.language
    team = ctx.team
    if team is None:
        body = say(language, "proposals.no_team", organization=ctx.organization.name)
        return Outcome(State("idle"), (Reply(body),))
    if not team.lead:
        if team.lead_names:
            leads = join_names(language, list(team.lead_names))
            body = say(language, "proposals.ask_lead", leads=leads, organization=ctx.organization.name)
        else:
            body = say(language, "proposals.no_lead", team=team.name, organization=ctx.organization.name)
        return Outcome(State("idle"), (Reply(body),))
    parts = _parts(text)
    reading = _read(parts, ctx.local_now, language) if parts else None
    if reading is None:
        return Outcome(State("idle"), (Reply(say(language, "proposals.how")),))
    title, starts_at, place = reading
    event = EventView(id=0, title=title, starts_at=starts_at, location=place)
    body = say(language, "proposals.sent", event=events_rsvp.describe(language, event), team=team.name)
    return Outcome(State("idle"), (Reply(body),), (ProposeEvent(title, starts_at, place),))


def when_given(text: str, local_now: datetime, language: str = "en") -> datetime | None:
    """The moment `text` names ("Sat 3pm", "Dec 5 6:30pm"), on the clock of `local_now`, the
    next one to come; None if it names no day and time, or one already past."""
    folded = " ".join(fold(text).replace(".", "").replace(",", " ").split())
    clock = _CLOCK.search(folded)
    if clock is None:
        return None
    at = _clock_time(clock)
    if at is None:
        return None
    rest = (folded[: clock.start()] + " " + folded[clock.end() :]).strip()
    day = _day(rest, local_now.date(), at, local_now, language)
    if day is None:
        return None
    moment = datetime.combine(day, at, tzinfo=local_now.tzinfo)
    return moment if moment > local_now else None


def _parts(text: str) -> list[str]:
    """The title, when and where, split by lines if there are several, else by commas."""
    lines = [line.strip() for line in text.strip().splitlines()]
    pieces = lines if len([line for line in lines if line]) > 1 else text.split(",")
    return [" ".join(piece.split()) for piece in pieces if piece.strip()]


def _read(parts: list[str], local_now: datetime, language: str) -> tuple[str, datetime, str] | None:
    """Title, start and place from the parts; "when" may itself hold a comma ("Dec 5, 6pm")."""
    title = parts[0].strip(" .!\"'")[:MAX_TITLE_CHARS]
    for taken in (1, 2):
        if len(parts) < 1 + taken:
            break
        starts_at = when_given(" ".join(parts[1 : 1 + taken]), local_now, language)
        if starts_at is not None and title:
            place = ", ".join(parts[1 + taken :]).strip(" .!")[:MAX_PLACE_CHARS]
            return title, starts_at, place
    return None


def _clock_time(match: re.Match[str]) -> time | None:
    if match[6]:
        return time(12)
    if match[3]:
        hour, minute = int(match[1]), int(match[2] or 0)
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match[3] == "pm" else 0)
    else:
        hour, minute = int(match[4]), int(match[5])
    return time(hour, minute) if hour < 24 and minute < 60 else None


def _day(text: str, today: date, at: time, local_now: datetime, language: str) -> date | None:
    """The day `text` names: the next such weekday or date (this year's, or next year's once
    it has passed), or today or tomorrow."""
    words = text.split()
    if any(word in _TODAY for word in words):
        return today
    if any(word in _TOMORROW for word in words):
        return today + timedelta(days=1)
    if slash := _SLASH_DATE.search(text):
        first, second = int(slash[1]), int(slash[2])
        month, day = (second, first) if language == "es" else (first, second)
        return _next_date(month, day, today, at, local_now)
    for pattern, month_group, day_group in ((_MONTH_DAY, 1, 2), (_DAY_MONTH, 2, 1)):
        for match in pattern.finditer(text):
            if match[month_group] in _MONTHS:
                return _next_date(_MONTHS[match[month_group]], int(match[day_group]), today, at, local_now)
    for word in words:
        if word in WEEKDAYS:
            day = today + timedelta(days=(WEEKDAYS[word] - today.weekday()) % 7)
            if datetime.combine(day, at, tzinfo=local_now.tzinfo) <= local_now:
                day += timedelta(days=7)
            return day
    return None


def _next_date(month: int, day: int, today: date, at: time, local_now: datetime) -> date | None:
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None
        if datetime.combine(candidate, at, tzinfo=local_now.tzinfo) > local_now:
            return candidate
    return None
