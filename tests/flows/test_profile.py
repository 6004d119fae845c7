"""ZIP 94110: the volunteer's messages are timed by their ZIP's time zone."""

from __future__ import annotations

from dataclasses import replace

import pytest

from flows import engine
from flows.events import Consent, Context, Inbound, SetTimezone, State
from tests.flows.test_engine import NOW, ORG

BASE = Context(ORG, NOW, Consent.OPTED_IN, "Sam")


# fmt: off
CASES = [
    ("ZIP 94110", "America/Los_Angeles", "en", "Thanks! I'll time my texts to Pacific time (ZIP 94110).", (SetTimezone("America/Los_Angeles"),)),
    ("zip code 60614-1234", "America/Chicago", "en", "Central time (ZIP 60614)", (SetTimezone("America/Chicago"),)),
    ("ZIP 96813", "Pacific/Honolulu", "es", "hora de Hawai (ZIP 96813)", (SetTimezone("Pacific/Honolulu"),)),
    ("ZIP 99999", None, "en", "I don't know ZIP 99999.", ()),
    ("ZIP", None, "en", "Reply ZIP and your 5-digit ZIP code", ()),
    ("zip it", None, "es", "Responde ZIP y tu codigo postal", ()),
]
# fmt: on


@pytest.mark.parametrize(("text", "zone", "language", "says", "effects"), CASES)
def test_zip(text: str, zone: str | None, language: str, says: str, effects: tuple) -> None:
    ctx = replace(BASE, zip_timezone=zone, language=language)
    outcome = engine.respond(State("idle"), Inbound(text, NOW), ctx)
    (reply,) = outcome.replies
    assert says in reply.body
    assert tuple(e for e in outcome.effects if isinstance(e, SetTimezone)) == effects
