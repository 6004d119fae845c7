"""How many SMS segments a text costs, as carriers count them.

A text that fits the GSM-7 alphabet costs one segment up to 160 characters (the extension
characters ^{}\\[~]|€ and form feed count twice); longer, it is split into parts of 153. A
single character outside GSM-7 (an emoji, a curly quote, á) turns the whole text into UCS-2:
70 UTF-16 code units, or parts of 67. A character is never split across two parts, so a part
may hold one unit less than its size.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
# Typographic characters that would turn a text into UCS-2, and their GSM-7 look-alikes.
GSM_LOOKALIKES = str.maketrans(
    {"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "\u00a0": " "}
)


@dataclass(frozen=True)
class Segments:
    """The cost of one text."""

    encoding: str  # "GSM-7" | "UCS-2"
    count: int


def is_gsm7(text: str) -> bool:
    """Whether the whole text fits the GSM-7 alphabet."""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def count(text: str) -> Segments:
    """How many segments `text` takes."""
    if is_gsm7(text):
        units = [2 if char in GSM7_EXTENSION else 1 for char in text]
        return Segments("GSM-7", _parts(units, single=160, part=153))
    units = [len(char.encode("utf-16-le")) // 2 for char in text]
    return Segments("UCS-2", _parts(units, single=70, part=67))


def gsm_friendly(text: str) -> str:
    """The text with typographic quotes, dashes and ellipses replaced by GSM-7 look-alikes, so
    a curly apostrophe pasted into a template doesn't double what a message costs."""
    return text.translate(GSM_LOOKALIKES)


def _parts(units: list[int], single: int, part: int) -> int:
    if sum(units) <= single:
        return 1 if units else 0
    parts, used = 1, 0
    for size in units:
        if used + size > part:
            parts, used = parts + 1, 0
        used += size
    return parts
