"""Coaching for hard conversations, without an app: TIPS / CONSEJOS sends one tip at a time, the
ones not had yet first, then from the first again, saying so; a pending question stays open. A
report of "not interested" or a tense talk marks the friend, and their next idea leads with
listening, a line that survives the two-segment fitting."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from flows import engine, prompts, segments, tips
from flows.events import (
    Consent,
    Context,
    Friend,
    Inbound,
    LogReport,
    MarkPrompted,
    MarkTipSent,
    Organization,
    Prompt,
    SetLanguage,
    State,
    TipView,
)
from flows.messages import say

NOW = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)
ORG = Organization("Eastside Neighbors", "organizers@eastside.example.org")
MARIA = Friend(1, "Maria", "neighbor", (), "listed", added_at=NOW - timedelta(days=3))
RUTH = Friend(2, "Ruth", "family", ("healthcare",), "talked", added_at=NOW - timedelta(days=2))
PROMPTS = (
    Prompt(10, "ask {friend} what's been on their mind lately."),
    Prompt(20, "pregúntale a {friend} qué le preocupa últimamente.", language="es"),
)
TIPS = (
    TipView(1, "Listen first.", "en"),
    TipView(2, "Ask about their experience.", "en"),
    TipView(3, "Thank them.", "en"),
    TipView(11, "Escucha primero.", "es"),
    TipView(12, "Da las gracias.", "es"),
)
LISTEN = "Your last talk with Maria was hard, so lead with listening and your own story, not an argument."
ESCUCHA = (
    "La charla pasada con Maria fue dura: empieza escuchando y con tu propia historia, no con argumentos."
)


def context(language: str = "en", tips: tuple[TipView, ...] = TIPS, friends=(MARIA, RUTH)) -> Context:
    return Context(ORG, NOW, Consent.OPTED_IN, "Sam", friends, PROMPTS, language=language, tips=tips)


def sent(tips: tuple[TipView, ...], tip_id: int) -> tuple[TipView, ...]:
    """The library as the gateway would give it after tip `tip_id` went out: fewest times sent
    first, then in the library's order."""
    counted = [replace(t, times_sent=t.times_sent + (t.id == tip_id)) for t in tips]
    return tuple(sorted(counted, key=lambda t: (t.times_sent, t.id)))


def text(body: str, ctx: Context, step: str = "idle", data: dict | None = None):
    return engine.respond(State(step, data or {}), Inbound(body, NOW), ctx)


def test_tips_sends_each_tip_once_in_order_then_starts_over_from_the_first_and_says_so() -> None:
    tips, bodies = TIPS, []
    for _ in range(4):
        outcome = text("TIPS", context(tips=tips))
        (reply,) = outcome.replies
        (mark,) = outcome.effects
        assert isinstance(mark, MarkTipSent)
        assert reply.body.endswith("Reply TIPS for another.")
        bodies.append(reply.body)
        tips = sent(tips, mark.tip_id)
    assert bodies[:3] == [
        "Listen first. Reply TIPS for another.",
        "Ask about their experience. Reply TIPS for another.",
        "Thank them. Reply TIPS for another.",
    ]
    assert bodies[3] == f"{say('en', 'tips.start_over')} Listen first. Reply TIPS for another."
    # The second round goes on without saying it again.
    assert (
        text("TIP", context(tips=tips)).replies[0].body
        == "Ask about their experience. Reply TIPS for another."
    )


@pytest.mark.parametrize("word", ["CONSEJOS", "consejos", "Consejo", "consejos!"])
def test_consejos_answers_in_spanish_with_a_spanish_tip(word: str) -> None:
    outcome = text(word, context("en"))
    assert outcome.replies[0].body == "Escucha primero. Responde CONSEJOS para otro."
    assert SetLanguage("es") in outcome.effects and MarkTipSent(11) in outcome.effects


def test_a_spanish_speaker_gets_spanish_tips_for_tips_too() -> None:
    outcome = text("tips", context("es"))
    assert outcome.replies[0].body == "Escucha primero. Responde CONSEJOS para otro."
    assert outcome.effects == (MarkTipSent(11),)


def test_a_spanish_speaker_who_had_every_tip_is_told_kindly_in_spanish() -> None:
    tips = sent(sent(TIPS, 11), 12)
    body = text("CONSEJOS", context("es", tips)).replies[0].body
    assert body == "Ya recibiste todos los consejos; volvemos a empezar por el primero: Escucha primero. " + (
        "Responde CONSEJOS para otro."
    )


def test_with_no_tip_in_their_language_the_volunteer_hears_what_else_to_do() -> None:
    outcome = text("TIPS", context("en", tips=TIPS[3:]))
    assert outcome.replies[0].body == say("en", "tips.none") and not outcome.effects


@pytest.mark.parametrize(
    ("step", "data"),
    [
        ("ask_interests", {"friend_name": "Maria"}),
        ("choose_friend", {"options": [1, 2], "outcome": None, "text": "we talked"}),
        ("choose_outcome", {"friends": [1], "text": "talked to Maria"}),
        ("ask_friend", {}),
    ],
)
def test_a_pending_question_stays_open_after_tips(step: str, data: dict) -> None:
    outcome = text("TIPS", context(), step, data)
    assert outcome.state == State(step, {**data, tips.JUST_SENT: True})
    assert outcome.replies[0].body == "Listen first. Reply TIPS for another."
    # "more" there asks for the next tip; the question is still open after it.
    more = engine.respond(outcome.state, Inbound("more", NOW), context(tips=sent(TIPS, 1)))
    assert more.replies[0].body == "Ask about their experience. Reply TIPS for another."
    assert more.state == State(step, {**data, tips.JUST_SENT: True})


@pytest.mark.parametrize("word", ["more", "More!", "another one", "one more", "otro", "¿más?", "mas"])
def test_right_after_a_tip_more_or_another_gives_the_next_one(word: str) -> None:
    first = text("TIPS", context())
    outcome = engine.respond(first.state, Inbound(word, NOW), context(tips=sent(TIPS, 1)))
    assert MarkTipSent(2) in outcome.effects, word
    assert outcome.replies[0].body == "Ask about their experience. Reply TIPS for another.", word


def test_more_is_a_tip_only_right_after_one() -> None:
    first = text("TIPS", context())
    # Anything else in between: "more" is read as it always was, and gives no tip.
    between = engine.respond(first.state, Inbound("talked to Maria, she's in!", NOW), context())
    assert tips.JUST_SENT not in between.state.data
    later = engine.respond(between.state, Inbound("more", NOW), context())
    assert later.replies[0].body == text("more", context()).replies[0].body
    assert not any(isinstance(effect, MarkTipSent) for effect in later.effects)


def test_a_friend_named_tip_is_still_a_friend() -> None:
    tip = Friend(4, "Tip", "friend", added_at=NOW)
    outcome = text("Tip said no", context(friends=(MARIA, tip)))
    assert [(e.friend, e.outcome) for e in outcome.effects if isinstance(e, LogReport)] == [
        (4, "not_interested")
    ]


def listen_first(report: str) -> bool:
    """Whether the report marks Maria's next idea to lead with listening; a report that does not
    say how it went is answered "3" (undecided) when asked."""
    outcome = text(report, context())
    if outcome.state.step == "choose_outcome":
        outcome = text("3", context(), outcome.state.step, dict(outcome.state.data))
    (logged,) = [e for e in outcome.effects if isinstance(e, LogReport)]
    assert logged.friend == 1
    return logged.listen_first


@pytest.mark.parametrize(
    "report",
    [
        "talked to Maria, she's not interested",
        "talked to Maria, she got mad and we argued",
        "Maria and I talked but it got heated",
        "talked to Maria, it was pretty awkward",
        "called Maria and she hung up on me",
        "talked to Maria, it didn't go well",
        "hablé con Maria, se enojó",
        "hablé con Maria y discutimos",
        "hablé con Maria, fue muy tenso",
    ],
)
def test_not_interested_or_a_tense_talk_marks_the_next_idea_to_lead_with_listening(report: str) -> None:
    assert listen_first(report)


@pytest.mark.parametrize(
    "report",
    [
        "talked to Maria, she's open to coming",
        "talked to Maria, she's in!",
        "talked to Maria, it wasn't tense at all, she might come",
        "had coffee with Maria, not awkward, she said maybe",
        "hablé con Maria, no fue tenso, dice que tal vez",
    ],
)
def test_an_open_or_calm_talk_does_not(report: str) -> None:
    assert not listen_first(report)


def test_the_next_idea_for_a_friend_after_a_hard_talk_leads_with_listening_and_not_for_others() -> None:
    hard = replace(MARIA, listen_first=True)
    outcome = text("PROMPT", context(friends=(hard, RUTH)))
    assert outcome.replies[0].body.startswith(f"{LISTEN} Idea for Maria: ask Maria what's been on")
    assert MarkPrompted(1, 10) in outcome.effects
    calm = text("PROMPT", context(friends=(MARIA, RUTH))).replies[0].body
    assert calm.startswith("Idea for Maria:") and "listening" not in calm


def test_the_listening_lead_is_in_spanish_for_a_spanish_speaker() -> None:
    hard = replace(MARIA, listen_first=True)
    body = text("SIGUIENTE", context("es", friends=(hard,))).replies[0].body
    assert body.startswith(f"{ESCUCHA} Idea para Maria:")


def test_the_listening_lead_survives_the_segment_limit_the_closing_line_goes_first() -> None:
    hard = replace(MARIA, listen_first=True)
    long_idea = "ask {friend} " + "about the block party and the bus line, " * 4 + "and listen."
    ctx = replace(context(friends=(hard,)), prompts=(Prompt(30, long_idea),))
    full = prompts.suggest(hard, ctx)
    closing = say("en", "prompts.closing")
    assert full.text.startswith(LISTEN)
    assert closing not in full.text and segments.count(full.text).count <= prompts.MAX_SEGMENTS
    # Even an idea too long for two segments with it keeps the line; an outer lead goes first.
    longer = replace(ctx, prompts=(Prompt(31, long_idea + " Then" + " tell them why it matters" * 4),))
    kept = prompts.suggest(hard, longer, lead="Hi Sam!")
    assert kept.text.startswith(LISTEN) and "Hi Sam!" not in kept.text
