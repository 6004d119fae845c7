"""When a message the system starts itself (a prompt, a follow-up, a reminder, a team update) may
go out: inside the recipient's calling window in their own time zone, and within their
frequency caps. A message that may not go now is deferred to the earliest moment it may, never
dropped.

Replies to a volunteer's own text are not paced: they answer someone who just wrote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY = timedelta(days=1)
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Pacing:
    """An organization's rules for messages it starts. The default window, 9 a.m. to 8 p.m.
    local time, sits inside every US state's calling hours."""

    window_start: time = time(9)
    window_end: time = time(20)
    daily_cap: int = 1
    weekly_cap: int = 4


def next_send_time(now: datetime, timezone: str, pacing: Pacing, recent: Sequence[datetime]) -> datetime:
    """The earliest moment at or after `now` (timezone-aware) when one more initiated message may
    go to a recipient in `timezone` who was sent initiated messages at the times in `recent`.

    Caps are rolling: at most `daily_cap` in any 24 hours and `weekly_cap` in any 7 days.
    """
    zone = ZoneInfo(timezone)
    candidate = now
    for _ in range(64):  # each pass moves forward; a handful always settles it
        moved = _within_caps(candidate, pacing, recent)
        moved = _within_window(moved, zone, pacing)
        if moved == candidate:
            return candidate
        candidate = moved
    return candidate


def in_window(moment: datetime, timezone: str, pacing: Pacing) -> bool:
    """Whether `moment` falls inside the calling window in `timezone`."""
    return _within_window(moment, ZoneInfo(timezone), pacing) == moment


def _within_caps(moment: datetime, pacing: Pacing, recent: Sequence[datetime]) -> datetime:
    for span, cap in ((DAY, pacing.daily_cap), (WEEK, pacing.weekly_cap)):
        if cap <= 0:
            raise ValueError("a frequency cap must allow at least one message")
        inside = sorted(t for t in recent if moment - span < t <= moment)
        if len(inside) >= cap:
            # Wait until enough of them have aged out of the span to leave room for one more.
            moment = max(moment, inside[len(inside) - cap] + span)
    return moment


def _within_window(moment: datetime, zone: ZoneInfo, pacing: Pacing) -> datetime:
    local = moment.astimezone(zone)
    if local.time() < pacing.window_start:
        return _at(local.date(), pacing.window_start, zone, moment)
    if local.time() >= pacing.window_end:
        return _at(local.date() + DAY, pacing.window_start, zone, moment)
    return moment


def _at(day: date, clock: time, zone: ZoneInfo, original: datetime) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone).astimezone(original.tzinfo)
