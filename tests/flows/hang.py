"""A hang guard for the parsers: catastrophic backtracking in a pattern takes minutes or
forever on a long text, the parsers milliseconds. Not a speed target (those belong in bench/)."""

from __future__ import annotations

import threading
from collections.abc import Callable

GUARD_SECONDS = 30


def finishes(work: Callable[[], object]) -> bool:
    """Whether `work` finishes within the guard's generous time."""
    runner = threading.Thread(target=work, daemon=True)
    runner.start()
    runner.join(timeout=GUARD_SECONDS)
    return not runner.is_alive()
