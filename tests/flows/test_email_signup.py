"""EMAIL by text, one table row per situation: (text, language, the volunteer's own addresses)
-> (what the reply says, the sign-up asked for). No app, no database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flows import engine
from flows.events import (
    Consent,
    Context,
    EmailStatus,
    EmailView,
    Inbound,
    KeepForInbox,
    Organization,
    SignUpForEmail,
    State,
)
from flows.parse import email_address

NOW = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
ORG = Organization("Eastside Neighbors", "organizers@eastside.example.org")
CONFIRMED = (EmailView("sam@example.org", EmailStatus.CONFIRMED),)


def run(
    text: str,
    language: str = "en",
    emails: tuple[EmailView, ...] = (),
    step: str = "idle",
    email_on: bool = True,
):
    ctx = Context(ORG, NOW, Consent.OPTED_IN, "Sam", language=language, emails=emails, email_on=email_on)
    return engine.respond(State(step), Inbound(text, NOW), ctx)


# fmt: off
CASES = [
    # (text, language, own addresses, the reply, the address signed up for)
    ("EMAIL sam@example.org", "en", (), "Thanks! We emailed s***@example.org a link to confirm.", "sam@example.org"),
    ("email Sam.Lee+news@Example.ORG", "en", (), "Thanks! We emailed s***@example.org a link to confirm.", "sam.lee+news@example.org"),
    ("Email: sam@example.org.", "en", (), "We emailed s***@example.org", "sam@example.org"),
    ("EMAIL me at sam@example.org please", "en", (), "We emailed s***@example.org", "sam@example.org"),
    ("CORREO ana@ejemplo.org", "es", (), "¡Gracias! Enviamos a a***@ejemplo.org un enlace para confirmar.", "ana@ejemplo.org"),
    ("correo ana@ejemplo.org", "en", (), "¡Gracias! Enviamos a a***@ejemplo.org", "ana@ejemplo.org"),  # Spanish command: Spanish answer
    ("EMAIL", "en", (), "text EMAIL and your address, like EMAIL sam@example.org", None),
    ("email", "es", (), "escribe CORREO y tu dirección", None),
    ("EMAIL sam@example", "en", (), "That doesn't look like an email address.", None),
    ("EMAIL sam@@example.org", "en", (), "That doesn't look like an email address.", None),
    ("EMAIL sam.@example.org", "en", (), "That doesn't look like an email address.", None),
    ("EMAIL sam@example.org ana@example.org", "en", (), "That doesn't look like an email address.", None),
    ("EMAIL sam at example dot org", "en", (), "That doesn't look like an email address.", None),
    ("EMAIL sam@example.c0m", "en", (), "That doesn't look like an email address.", None),
    ("CORREO ana arroba ejemplo punto org", "es", (), "Eso no parece una dirección de correo.", None),
    ("EMAIL sam@example.org", "en", CONFIRMED, "s***@example.org is already confirmed.", None),
    ("EMAIL sam@example.org", "en", (EmailView("sam@example.org", EmailStatus.WAITING),), "We emailed s***@example.org", "sam@example.org"),
    ("EMAIL sam@example.org", "en", (EmailView("sam@example.org", EmailStatus.UNSUBSCRIBED),), "We emailed s***@example.org", "sam@example.org"),
    ("EMAIL new@example.org", "en", CONFIRMED, "We emailed n***@example.org", "new@example.org"),
]
# fmt: on


@pytest.mark.parametrize(("text", "language", "emails", "says", "address"), CASES, ids=[c[0] for c in CASES])
def test_email_by_text(
    text: str, language: str, emails: tuple[EmailView, ...], says: str, address: str | None
) -> None:
    outcome = run(text, language, emails)
    [reply] = outcome.replies
    assert says in reply.body
    signups = [e for e in outcome.effects if isinstance(e, SignUpForEmail)]
    assert signups == ([SignUpForEmail(address)] if address else [])
    # The whole address is never in the reply: it shows on a lock screen.
    assert address is None or address not in reply.body


@pytest.mark.parametrize(
    ("text", "language", "says"),
    [
        ("EMAIL sam@example.org", "en", "Sorry, Eastside Neighbors doesn't send email here"),
        ("EMAIL", "en", "nothing to sign up for"),
        ("EMAIL sam@example", "en", "nothing to sign up for"),
        ("CORREO ana@ejemplo.org", "es", "Lo sentimos, Eastside Neighbors no envía correos aquí"),
    ],
)
def test_where_email_is_off_email_says_so_and_asks_for_nothing(text: str, language: str, says: str) -> None:
    outcome = run(text, language, email_on=False)
    [reply] = outcome.replies
    assert says in reply.body
    assert "We emailed" not in reply.body and "Enviamos" not in reply.body
    assert not any(isinstance(e, SignUpForEmail) for e in outcome.effects)


def test_where_email_is_off_a_sentence_that_starts_with_email_is_still_free_text() -> None:
    outcome = run("Email from Ruth was lovely, she's coming Thursday", email_on=False)
    assert not any("doesn't send email" in reply.body for reply in outcome.replies)


def test_a_sentence_that_starts_with_email_is_read_as_free_text() -> None:
    outcome = run("Email from Ruth was lovely, she's coming Thursday")
    assert not any(isinstance(e, SignUpForEmail) for e in outcome.effects)
    assert any(isinstance(e, KeepForInbox) for e in outcome.effects) or outcome.replies


def test_email_wins_over_a_pending_question() -> None:
    outcome = run("EMAIL sam@example.org", step="ask_name")
    assert SignUpForEmail("sam@example.org") in outcome.effects
    assert outcome.state.step == "ask_name"


def test_nobody_who_has_not_joined_can_sign_up_by_text() -> None:
    ctx = Context(ORG, NOW, Consent.UNKNOWN)
    outcome = engine.respond(State("new"), Inbound("EMAIL sam@example.org", NOW), ctx)
    assert not any(isinstance(e, SignUpForEmail) for e in outcome.effects)
    assert "Reply YES to join" in outcome.replies[0].body


@pytest.mark.parametrize(
    ("language", "says"),
    [
        ("en", "your email s***@example.org (confirmed); your email a***@example.org (not confirmed yet)"),
        ("es", "tu correo s***@example.org (confirmado); tu correo a***@example.org (sin confirmar)"),
    ],
)
def test_mydata_names_each_email_masked_with_where_it_stands(language: str, says: str) -> None:
    emails = (*CONFIRMED, EmailView("ana@example.org", EmailStatus.WAITING))
    [reply] = run("MYDATA", language, emails).replies
    assert says in reply.body
    assert "sam@example.org" not in reply.body


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Sam@Example.org", "sam@example.org"),
        ("<sam@example.org>", "sam@example.org"),
        ("sam@example.org, thanks!", "sam@example.org"),
        ("sam", None),
        ("", None),
        ("a" * 65 + "@example.org", None),
        ("sam..lee@example.org", None),
        ("sam@localhost", None),
    ],
)
def test_email_address(text: str, address: str | None) -> None:
    assert email_address(text) == address


@pytest.mark.parametrize(
    "text", ["CORREO ana@ejemplo.org", "EMAIL sam.lee@example.org", "correo: rosa.maria@gmail.com"]
)
def test_an_address_is_no_evidence_of_a_language(text: str) -> None:
    """A Spanish speaker's CORREO with an address whose words read as English stays Spanish."""
    outcome = run(text, "es")
    assert outcome.replies[0].body.startswith("¡Gracias! Enviamos a")
    assert not [e for e in outcome.effects if type(e).__name__ == "SetLanguage"]
