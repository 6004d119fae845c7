"""IDEA by text, one table row per situation: a volunteer shares a conversation idea (contacts
masked), IDEA alone explains how, and a volunteer whose idea was adopted hears it once, on an
ordinary reply to their next text, never on a STOP or HELP confirmation. No app, no database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flows import engine
from flows.events import (
    Consent,
    Context,
    Friend,
    Inbound,
    Notice,
    NoticeKind,
    NoticesTold,
    Organization,
    Prompt,
    RecordConsent,
    ShareIdea,
    State,
)

NOW = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)
ORG = Organization("Eastside Neighbors", "organizers@eastside.example.org")
MARIA = Friend(1, "Maria", "neighbor", ("schools",))
LIBRARY = (Prompt(10, "ask {friend} what they hear about the schools.", interests=("schools",)),)
ADOPTED = "P.S. The organizers added your idea"
ADOPTADA = "P.D. El equipo organizador sumó tu idea"


def run(text: str, consent: Consent = Consent.OPTED_IN, language: str = "en", adopted: tuple[int, ...] = ()):
    notices = tuple(Notice(NoticeKind.IDEA_ADOPTED, "", idea) for idea in adopted)
    ctx = Context(ORG, NOW, consent, "Sam", (MARIA,), LIBRARY, language=language, notices=notices)
    return engine.respond(State("idle"), Inbound(text, NOW), ctx)


# fmt: off
SHARED = [
    ("IDEA ask about their kids' school first", "en", "Thank you! Your idea is with the organizers.", "ask about their kids' school first"),
    ("idea: bring cookies, call me at 415-555-0123", "en", "Thank you!", "bring cookies, call me at [contact]"),
    ("Idea   walk the dog\n together", "en", "Thank you!", "walk the dog together"),
    ("IDEA pregunta por su familia primero", "es", "¡Gracias! Tu idea ya está con el equipo organizador.", "pregunta por su familia primero"),
    ("IDEA", "en", 'Had a conversation idea that worked? Text IDEA and the idea, like "IDEA ask', None),
    ("idea!", "es", "¿Una idea de charla te funcionó? Escribe IDEA y la idea", None),
]
# fmt: on


@pytest.mark.parametrize(("text", "language", "reply", "shared"), SHARED)
def test_idea_is_shared_or_explained(text: str, language: str, reply: str, shared: str | None) -> None:
    outcome = run(text, language=language)
    assert outcome.replies[0].body.startswith(reply)
    assert [e for e in outcome.effects if isinstance(e, ShareIdea)] == ([ShareIdea(shared)] if shared else [])


def test_idea_for_someone_still_asks_for_an_idea() -> None:
    outcome = run("idea for Maria")
    assert outcome.replies[0].body.startswith("Idea for Maria:")
    assert not [e for e in outcome.effects if isinstance(e, ShareIdea)]


@pytest.mark.parametrize("consent", [Consent.OPTED_OUT, Consent.UNKNOWN])
def test_an_idea_from_someone_not_opted_in_is_not_taken(consent: Consent) -> None:
    outcome = run("IDEA ask about rent", consent=consent)
    assert not [e for e in outcome.effects if isinstance(e, ShareIdea)]
    assert all(ADOPTED not in r.body for r in outcome.replies)


# fmt: off
TOLD = [
    ("FRIENDS", "en", ADOPTED),
    ("PROMPT", "en", ADOPTED),
    ("AMIGOS", "es", ADOPTADA),
    ("ESPAÑOL", "en", ADOPTADA),  # told in the language just chosen
]
# fmt: on


@pytest.mark.parametrize(("text", "language", "told"), TOLD)
def test_an_adopted_idea_is_told_once_on_the_next_ordinary_reply(text: str, language: str, told: str) -> None:
    outcome = run(text, language=language, adopted=(7, 9))
    assert len(outcome.replies) == 1
    assert outcome.replies[0].body.count(told) == 1  # two ideas adopted: said once
    notices = (Notice(NoticeKind.IDEA_ADOPTED, "", 7), Notice(NoticeKind.IDEA_ADOPTED, "", 9))
    assert NoticesTold(notices) in outcome.effects


@pytest.mark.parametrize("text", ["STOP", "HELP", "ayuda"])
def test_stop_and_help_confirmations_carry_no_news(text: str) -> None:
    outcome = run(text, adopted=(7,))
    assert outcome.replies and all(
        "your idea" not in r.body and "tu idea" not in r.body for r in outcome.replies
    )
    assert not [e for e in outcome.effects if isinstance(e, NoticesTold)]


def test_no_news_without_an_adopted_idea() -> None:
    outcome = run("FRIENDS")
    assert ADOPTED not in outcome.replies[0].body
    assert not [e for e in outcome.effects if isinstance(e, NoticesTold | RecordConsent)]
