"""Text from outside as the database can store it, whichever way it came."""

from __future__ import annotations

from typing import Any


def storable(text: str, nul: str = "") -> str:
    """`text` with each NUL as `nul` (PostgreSQL's text cannot hold one; a reader is shown
    U+FFFD where something was) and each lone surrogate (which JSON's "\\ud800" makes, and no
    encoding can write) as U+FFFD; a surrogate pair is joined."""
    if text.isascii():
        return text.replace("\x00", nul)
    return text.replace("\x00", nul).encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def storable_json(value: Any) -> Any:
    """A parsed JSON value with every string in it (keys too) made storable."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, list):
        return [storable_json(item) for item in value]
    if isinstance(value, dict):
        return {storable(key): storable_json(item) for key, item in value.items()}
    return value
