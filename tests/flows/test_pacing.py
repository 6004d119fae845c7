"""Pacing of system-initiated messages: calling window in the recipient's time zone, rolling
caps, deferral to the earliest allowed moment."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.pacing import Pacing, in_window, next_send_time

NY = "America/New_York"
LA = "America/Los_Angeles"


def local(tz: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz)).astimezone(UTC)


# fmt: off
CASES = [
    # (now, timezone, recent sends, expected)                      why
    (local(NY, 2026, 11, 23, 10, 0), NY, [], local(NY, 2026, 11, 23, 10, 0)),      # inside the window: now
    (local(NY, 2026, 11, 23, 7, 30), NY, [], local(NY, 2026, 11, 23, 9, 0)),       # too early: 9 a.m. today
    (local(NY, 2026, 11, 23, 20, 0), NY, [], local(NY, 2026, 11, 24, 9, 0)),       # 8 p.m. is already too late
    (local(NY, 2026, 11, 23, 23, 59), NY, [], local(NY, 2026, 11, 24, 9, 0)),
    (local(NY, 2026, 11, 23, 10, 0), LA, [], local(LA, 2026, 11, 23, 9, 0)),       # 10 in New York is 7 in LA
    (local(NY, 2026, 11, 23, 12, 0), NY, [local(NY, 2026, 11, 23, 9, 30)], local(NY, 2026, 11, 24, 9, 30)),  # daily cap
    (local(NY, 2026, 11, 23, 12, 0), NY, [local(NY, 2026, 11, 22, 19, 30)], local(NY, 2026, 11, 23, 19, 30)),
    (local(NY, 2026, 11, 23, 12, 0), NY, [local(NY, 2026, 11, 22, 19, 59, 30)], local(NY, 2026, 11, 23, 19, 59, 30)),  # just in time
    (local(NY, 2026, 11, 23, 12, 0), NY, [local(LA, 2026, 11, 22, 19, 0)], local(NY, 2026, 11, 24, 9, 0)),  # cap ends after the window closes
    (local(NY, 2026, 11, 23, 12, 0), NY,                                                    # weekly cap: 4 in 7 days
     [local(NY, 2026, 11, d, 10, 0) for d in (17, 19, 20, 21)], local(NY, 2026, 11, 24, 10, 0)),
    (local(NY, 2026, 3, 8, 1, 0), NY, [], local(NY, 2026, 3, 8, 9, 0)),             # the night clocks spring forward
]
# fmt: on


@pytest.mark.parametrize(("now", "tz", "recent", "expected"), CASES)
def test_next_send_time(now: datetime, tz: str, recent: list[datetime], expected: datetime) -> None:
    assert next_send_time(now, tz, Pacing(), recent) == expected


def test_the_result_is_always_allowed() -> None:
    pacing = Pacing(window_start=time(10), window_end=time(18), daily_cap=2, weekly_cap=5)
    start = local(NY, 2026, 11, 1, 0, 0)
    sent: list[datetime] = []
    for hour in range(0, 24 * 21, 5):  # someone tries to send every five hours for three weeks
        moment = next_send_time(start + timedelta(hours=hour), NY, pacing, sent)
        assert in_window(moment, NY, pacing)
        assert sum(moment - timedelta(days=1) < t <= moment for t in sent) < 2
        assert sum(moment - timedelta(days=7) < t <= moment for t in sent) < 5
        sent.append(moment)
    week = [t for t in sent if start + timedelta(days=7) < t <= start + timedelta(days=14)]
    assert 0 < len(week) <= 5


def test_a_cap_of_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        next_send_time(local(NY, 2026, 11, 23, 10), NY, Pacing(daily_cap=0), [])
