"""The current time, from one place. Production reads the system clock; a test can hand
create_app a clock (config key CLOCK, a callable returning an aware UTC datetime) to run the
time-dependent rules (calling windows, caps, follow-ups) at a moment it chooses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, current_app, has_app_context

Clock = Callable[[], datetime]


def init_app(app: Flask, clock: Clock | None) -> None:
    """Use `clock` for this app's notion of now (None: the system clock)."""
    app.extensions["kindred.clock"] = clock


def now() -> datetime:
    """Now, in UTC."""
    clock = current_app.extensions.get("kindred.clock") if has_app_context() else None
    return clock() if clock else datetime.now(UTC)
