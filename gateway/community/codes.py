"""Short codes people type: volunteers' referral codes ("Text JOIN K7Q2") and team join codes.
One alphabet and one generator serve both."""

from __future__ import annotations

import secrets
from collections.abc import Callable

# Without letters and digits that look alike (0/O, 1/I/L).
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REFERRAL_CODE_LENGTH = 4


def unused_code(length: int, taken: Callable[[str], bool], shape: Callable[[str], bool] = bool) -> str:
    """A random code of `length` that has the `shape` asked for and is not `taken`."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(length))
        if shape(code) and not taken(code):
            return code
