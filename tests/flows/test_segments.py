"""Segment counting, as carriers count: GSM-7 vs UCS-2, single vs concatenated parts."""

from __future__ import annotations

import pytest

from flows import segments
from tests.doubles.twilio_api import count_segments as provider_count

# fmt: off
CASES = [
    ("", "GSM-7", 0),
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("a" * 306, "GSM-7", 2),
    ("a" * 307, "GSM-7", 3),
    ("€" * 80, "GSM-7", 1),                 # extension characters count twice
    ("€" * 81, "GSM-7", 2),
    ("a" * 152 + "€" + "a" * 152, "GSM-7", 3),   # the € may not straddle two parts
    ("Ñandú ñ", "UCS-2", 1),                # ú is not GSM-7; Ñ and ñ are
    ("Ñoño " * 32, "GSM-7", 1),
    ("ó" + "a" * 69, "UCS-2", 1),           # one ó makes it all UCS-2: 70 units
    ("ó" + "a" * 70, "UCS-2", 2),
    ("👋" * 35, "UCS-2", 1),                # an emoji is two UTF-16 units
    ("👋" * 36, "UCS-2", 2),
    ("a" * 66 + "👋" + "a" * 66, "UCS-2", 3),  # 134 units, but a pair may not straddle two parts
    ("it’s", "UCS-2", 1),
]
# fmt: on


@pytest.mark.parametrize(("text", "encoding", "count"), CASES)
def test_count(text: str, encoding: str, count: int) -> None:
    assert segments.count(text) == segments.Segments(encoding, count)


@pytest.mark.parametrize(
    "text",
    [
        "Idea for Ruth: ask how rising health costs have hit her.",
        "¿Hablaste con María? 🙂",
        "x" * 500,
        "{" * 200,
    ],
)
def test_agrees_with_the_provider_double(text: str) -> None:
    assert segments.count(text).count == provider_count(text)


def test_gsm_friendly_keeps_a_text_in_gsm7() -> None:
    text = "Ask Ruth what’s changed — and “listen” first…"
    assert not segments.is_gsm7(text)
    assert segments.gsm_friendly(text) == 'Ask Ruth what\'s changed - and "listen" first...'
    assert segments.is_gsm7(segments.gsm_friendly(text))
