"""The starter library every organization begins with (gateway/data/prompts.json): enough ideas
in each language for every ladder stage, interest and relationship, each one valid, unique and
short enough to text, and written out in full with every placeholder filled. (That the gateway
accepts each one as an organizer's prompt is tests/gateway/test_idea_choice.py's.)"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flows import prompts, segments
from flows.events import (
    DEFAULT_INTERESTS,
    RELATIONSHIPS,
    STAGES,
    Consent,
    Context,
    EventView,
    Friend,
    Organization,
    Prompt,
)
from flows.keywords import load_data

LIBRARY: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[2] / "gateway" / "data" / "prompts.json").read_text("utf-8")
)
LANGUAGES = ("en", "es")
NOW = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)
ORG = Organization("Eastside Neighbors", "organizers@eastside.example.org")
FORUM = EventView(1, "Eastside Housing Forum", NOW + timedelta(days=4))
LONG_NAME = "Guadalupe"  # a long first name, so the bound holds for most
PER_LANGUAGE, PER_STAGE, PER_INTEREST, PER_RELATIONSHIP = 120, 8, 3, 3


def language(item: dict[str, Any]) -> str:
    return str(item.get("language", "en"))


def in_language(code: str) -> list[dict[str, Any]]:
    return [item for item in LIBRARY if language(item) == code]


def test_every_relationship_in_the_data_is_one_the_prompts_know() -> None:
    assert set(load_data("relationships.json")["relationships"]) <= set(RELATIONSHIPS)


@pytest.mark.parametrize("code", LANGUAGES)
def test_each_language_has_enough_ideas_for_every_stage_interest_and_relationship(code: str) -> None:
    items = in_language(code)
    assert len(items) >= PER_LANGUAGE
    # For a friend nobody knows anything about yet: no interest, no relationship, no event.
    plain = Counter(
        stage
        for item in items
        if not item.get("interests") and not item.get("relationships") and "{event}" not in item["body"]
        for stage in item.get("stages", [])
    )
    assert {stage: plain[stage] for stage in STAGES} == {
        stage: max(plain[stage], PER_STAGE) for stage in STAGES
    }
    interests = Counter(i for item in items for i in item.get("interests", []))
    assert min(interests[i] for i in DEFAULT_INTERESTS) >= PER_INTEREST
    relationships = Counter(r for item in items for r in item.get("relationships", []))
    assert min(relationships[r] for r in RELATIONSHIPS) >= PER_RELATIONSHIP
    # An idea for a friend at the open and committed stages names the next event when there is one.
    named = {s for item in items if "{event}" in item["body"] for s in item.get("stages", [])}
    assert {"open", "committed", "joined"} <= named


def test_no_idea_is_there_twice() -> None:
    keys = Counter(item["key"] for item in LIBRARY)
    assert [k for k, n in keys.items() if n > 1] == []
    bodies = Counter(" ".join(item["body"].lower().split()) for item in LIBRARY)
    assert [b for b, n in bodies.items() if n > 1] == []
    # Spanish ideas are keyed "-es", so an organizer can tell the two apart in the library.
    assert all(item["key"].endswith("-es") == (language(item) == "es") for item in LIBRARY)


@pytest.mark.parametrize("item", LIBRARY, ids=[item["key"] for item in LIBRARY])
def test_every_idea_texts_in_two_segments_with_every_placeholder_filled(item: dict[str, Any]) -> None:
    code = language(item)
    stages = item.get("stages") or ["listed"]
    friend = Friend(
        1,
        LONG_NAME,
        (item.get("relationships") or ["neighbor"])[0],
        tuple(item.get("interests") or ["childcare"]),
        stages[0],
    )
    library = (
        Prompt(
            7,
            item["body"],
            tuple(item.get("stages", ())),
            tuple(item.get("interests", ())),
            tuple(item.get("relationships", ())),
            code,
        ),
    )
    ctx = Context(ORG, NOW, Consent.OPTED_IN, "Sam", (friend,), library, code, events=(FORUM,))
    suggestion = prompts.suggest(friend, ctx)
    assert suggestion.prompt == library[0]
    assert "{" not in suggestion.text and "}" not in suggestion.text
    assert suggestion.text.startswith(("Idea for Guadalupe: ", "Idea para Guadalupe: "))
    assert LONG_NAME in suggestion.text
    if "{event}" in item["body"]:
        assert "Eastside Housing Forum" in suggestion.text and (
            "Dec 3" in suggestion.text or "3 de dic." in suggestion.text
        )
    assert segments.count(suggestion.text).count <= prompts.MAX_SEGMENTS
    # Three segments' worth would be cut by the organizer's own preview: keep room to spare.
    assert len(item["body"]) <= 200


@pytest.mark.parametrize("code", LANGUAGES)
def test_an_idea_naming_the_next_event_waits_for_one(code: str) -> None:
    items = [item for item in in_language(code) if "{event}" in item["body"]]
    library = tuple(
        Prompt(i, item["body"], tuple(item.get("stages", ())), language=code) for i, item in enumerate(items)
    )
    friend = Friend(1, "Maria", stage="open")
    without = Context(ORG, NOW, Consent.OPTED_IN, "Sam", (friend,), library, code)
    assert prompts.matching_prompt(friend, library, code) is None
    assert not prompts.has_idea(friend, without)
    past = EventView(2, "Old Forum", NOW - timedelta(days=1))
    assert not prompts.has_idea(
        friend, Context(ORG, NOW, Consent.OPTED_IN, "Sam", (friend,), library, code, events=(past,))
    )
    with_event = Context(ORG, NOW, Consent.OPTED_IN, "Sam", (friend,), library, code, events=(FORUM,))
    assert "Eastside Housing Forum" in prompts.suggest(friend, with_event).text


def test_a_friend_who_joined_gets_welcome_ideas_only_once_the_others_have_none_left() -> None:
    welcome = Prompt(1, "welcome {friend}!", stages=("joined",))
    anyone = Prompt(2, "ask {friend} what's on their mind.")
    ruth = Friend(1, "Ruth", stage="joined")
    maria = Friend(2, "Maria")
    ctx = Context(ORG, NOW, Consent.OPTED_IN, "Sam", (ruth, maria), (welcome, anyone))
    assert prompts.with_idea(ctx) == maria
    assert prompts.matching_prompt(ruth, ctx.prompts, "en") == welcome  # never the idea for anyone
    done = Friend(2, "Maria", used_prompt_ids=frozenset({2}))
    assert (
        prompts.with_idea(Context(ORG, NOW, Consent.OPTED_IN, "Sam", (ruth, done), (welcome, anyone))) == ruth
    )
    both_done = (Friend(1, "Ruth", stage="joined", used_prompt_ids=frozenset({1})), done)
    assert prompts.with_idea(Context(ORG, NOW, Consent.OPTED_IN, "Sam", both_done, (welcome, anyone))) is None
