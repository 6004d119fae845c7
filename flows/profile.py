"""What a volunteer tells us about themselves to be texted well: their ZIP code, for the time
zone their messages are timed by ("ZIP 94110"). The number's area code gives a first guess;
a ZIP is better for people who moved and kept their number.

The gateway looks the ZIP up (the flows hold no ZIP data) and hands the result in as
`Context.zip_timezone`.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flows.events import Context, Outcome, Reply, SetTimezone, State
from flows.messages import say

_ZIP = re.compile(r"\b(\d{5})(?:-\d{4})?\b")
# Standard-time abbreviations of US time zones, for saying which one we'll use.
_ZONE_NAMES = {
    "EST": "eastern",
    "CST": "central",
    "MST": "mountain",
    "PST": "pacific",
    "AKST": "alaska",
    "HST": "hawaii",
    "AST": "atlantic",
}


def zip_in(text: str) -> str | None:
    """The five-digit ZIP code in a text, if it has one."""
    match = _ZIP.search(text)
    return match[1] if match else None


def set_zip(state: State, rest: str, ctx: Context) -> Outcome:
    """ZIP 94110: time the volunteer's messages by the time zone of that ZIP code."""
    code = zip_in(rest)
    lang = ctx.language
    if code is None:
        return Outcome(state, (Reply(say(lang, "zip.ask")),))
    if ctx.zip_timezone is None:
        return Outcome(state, (Reply(say(lang, "zip.unknown", zip=code)),))
    thanks = say(lang, "zip.thanks", zip=code, zone=zone_name(ctx.zip_timezone, lang))
    return Outcome(state, (Reply(thanks),), (SetTimezone(ctx.zip_timezone),))


def zone_name(timezone: str, language: str) -> str:
    """A time zone as people say it: "Pacific time", "hora del Pacifico"."""
    abbreviation = ZoneInfo(timezone).tzname(datetime(2026, 1, 15)) or ""
    key = _ZONE_NAMES.get(abbreviation)
    return say(language, f"zone.{key}") if key else timezone
