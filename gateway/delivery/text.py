"""Text from outside as the database can store it, whichever way it came."""

from __future__ import annotations

from typing import Any


def storable(text: str) -> str:
    """`text` without NUL (PostgreSQL's text cannot hold one) and with each lone surrogate (which
    JSON's "\\ud800" makes, and no encoding can write) as U+FFFD; a surrogate pair is joined."""
    if text.isascii():
        return text.replace("\x00", "")
    return text.replace("\x00", "").encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def storable_json(value: Any) -> Any:
    """A parsed JSON value with every string in it (keys too) made storable."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, list):
        return [storable_json(item) for item in value]
    if isinstance(value, dict):
        return {storable(key): storable_json(item) for key, item in value.items()}
    return value
