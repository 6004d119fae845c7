"""Guards for the parsers on long texts, the longest Twilio delivers (1,600 characters).

`finishes` catches catastrophic backtracking, which takes minutes or forever. `growth` catches
work that grows faster than the text: a reader that looks again from the start of the text for
each of its words is quadratic, one nested in another cubic, seconds for one volunteer's text,
which a worker's answering spends holding back every other. Neither is a speed target (those
belong in bench/): `growth` compares the same reader on a short and a long text of the same
kind, in processor time, so it holds on a slow or busy machine alike."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

GUARD_SECONDS = 30
LONGEST_TEXT = 1600  # characters: Twilio's limit for one inbound text
# A reader whose work grows with the text takes 8 times as long on a text 8 times as long; a
# quadratic one 64 times; one that reads the text again for each word of it, nested, 512.
GROWTH_LIMIT = 32


def finishes(work: Callable[[], object]) -> bool:
    """Whether `work` finishes within the guard's generous time."""
    runner = threading.Thread(target=work, daemon=True)
    runner.start()
    runner.join(timeout=GUARD_SECONDS)
    return not runner.is_alive()


def repeated(piece: str, length: int) -> str:
    """`piece` over and over, `length` characters in all, the last one "!" (a pattern that
    backtracks does so on a text that ends in something it did not expect)."""
    return (piece * (length // len(piece) + 1))[: length - 1] + "!"


def growth(read: Callable[[str], object], piece: str, length: int = LONGEST_TEXT) -> float:
    """How many times the processor time `read` takes on a text of `length` characters made
    of `piece` is that on one an eighth as long (the best of three each, taken in turn)."""
    short, long = repeated(piece, length // 8), repeated(piece, length)
    read(short)  # anything read once at first use (a pattern compiled, a list loaded)
    best = {short: float("inf"), long: float("inf")}
    for _ in range(3):
        for text in (short, long):
            started = time.thread_time()
            read(text)
            best[text] = min(best[text], time.thread_time() - started)
    return best[long] / max(best[short], 1e-6)
