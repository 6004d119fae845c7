"""HELP with the organization's own line (Settings): the line is there, the parts carriers
require stay, and the answer keeps to two segments where the line allows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flows import engine, segments
from flows.events import Consent, Context, Inbound, Organization, ReplyKind, State

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
REQUIRED = {
    "en": ("Eastside Neighbors", "Questions?", "Msg & data rates may apply", "STOP"),
    "es": ("Eastside Neighbors", "¿Preguntas?", "Pueden aplicar tarifas de mensajes y datos", "ALTO"),
}


def help_reply(help_text: str, language: str = "en", phone: str = "(555) 010-0199") -> str:
    org = Organization(
        "Eastside Neighbors", "organizers@eastside.example.org", phone=phone, help_text=help_text
    )
    (reply,) = engine.respond(
        State(), Inbound("HELP", NOW), Context(org, NOW, Consent.OPTED_IN, language=language)
    ).replies
    assert reply.kind is ReplyKind.HELP
    return reply.body


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(
    "line",
    [
        "Office hours Mon-Fri 9-5.",
        "Office hours are Monday to Friday, 9 to 5; on weekends, leave a message and we call back Monday.",
        "x" * 160,
    ],
)
def test_the_organizations_line_is_in_help_with_everything_carriers_require(language: str, line: str) -> None:
    body = help_reply(line, language)
    assert line in body
    for part in REQUIRED[language]:
        assert part in body, body
    if language == "en" and len(line) < 100:  # Spanish's ¿ and á make every HELP UCS-2, longer
        assert segments.count(body).count <= 2, body


def test_a_short_line_keeps_the_sentence_about_what_we_do_and_a_long_one_drops_it() -> None:
    assert "helps you plan real conversations" in help_reply("Office hours Mon-Fri 9-5.")
    long_line = (
        "Office hours are Monday to Friday, 9 to 5; on weekends, leave a message and we call back Monday."
    )
    body = help_reply(long_line)
    assert "helps you plan real conversations" not in body and segments.count(body).count == 2


def test_without_a_line_help_is_as_before() -> None:
    assert help_reply("") == help_reply("", phone="(555) 010-0199")
    assert "helps you plan real conversations" in help_reply("")
