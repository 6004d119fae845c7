"""The conversation engine, one table row per situation: (state, consent, friends, text) ->
(next step, what the reply says, the effects). No app, no database."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from flows import engine, prompts, segments
from flows.events import (
    AddFriend,
    Consent,
    Context,
    Friend,
    Inbound,
    KeepForInbox,
    LogReport,
    MarkPrompted,
    Organization,
    Prompt,
    RecordConsent,
    ReplyKind,
    SetInterests,
    SetName,
    State,
)

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
ORG = Organization("Eastside Neighbors", "organizers@eastside.example.org")
MARIA = Friend(1, "Maria", "neighbor", ("schools",), "listed", added_at=NOW - timedelta(days=3))
RUTH = Friend(2, "Ruth", "family", ("healthcare",), "talked", added_at=NOW - timedelta(days=2))
PROMPTS = (
    Prompt(10, "ask {friend} what's been on their mind lately."),
    Prompt(11, "ask {friend} what they hear about the schools.", interests=("schools",)),
    Prompt(
        12,
        "ask {friend} how health costs hit the family.",
        interests=("healthcare",),
        relationships=("family",),
    ),
)


@dataclass
class Row:
    text: str
    step: str = "idle"
    consent: Consent = Consent.OPTED_IN
    friends: tuple[Friend, ...] = (MARIA, RUTH)
    data: dict = field(default_factory=dict)
    name: str | None = "Sam"


def run(row: Row):
    ctx = Context(ORG, NOW, row.consent, row.name, row.friends, PROMPTS)
    return engine.respond(State(row.step, row.data), Inbound(row.text, NOW), ctx)


def kinds(outcome) -> list[type]:
    return [type(e) for e in outcome.effects]


# fmt: off
CASES = [
    # (row, next step, text every reply must contain, effect types)
    (Row("hi", step="new", consent=Consent.UNKNOWN, name=None), "awaiting_opt_in", "Reply YES to join", []),
    (Row("JOIN", step="new", consent=Consent.UNKNOWN, name=None), "awaiting_opt_in", "Msg & data rates", []),
    (Row("yes", step="awaiting_opt_in", consent=Consent.UNKNOWN, name=None), "ask_name", "first name", [RecordConsent]),
    (Row("what?", step="awaiting_opt_in", consent=Consent.UNKNOWN, name=None), "awaiting_opt_in", "Reply YES", []),
    (Row("I'm Sam", step="ask_name", name=None), "ask_friend", "Thanks, Sam.", [SetName]),
    (Row("my grandma Ruth", step="ask_friend", friends=()), "ask_interests", "What does Ruth care about?", [AddFriend]),
    (Row("ADD Bob 555-201-7788"), "ask_interests", "never text your friends", [AddFriend]),
    (Row("ADD Tia, neighbor, cares about schools"), "idle", "Idea for Tia", [AddFriend, MarkPrompted]),
    (Row("Dee and Yvonne from church"), "idle", "Added Dee and Yvonne (community)", [AddFriend, AddFriend, MarkPrompted]),
    (Row("ADD Maria"), "idle", "already on your list", []),
    (Row("ADD"), "ask_friend", "Who would you like to add?", []),
    (Row("skip", step="ask_interests", data={"friend_name": "Ruth"}), "idle", "Idea for Ruth", [MarkPrompted]),
    (Row("rent", step="ask_interests", data={"friend_name": "Maria"}), "idle", "Idea for Maria", [SetInterests, MarkPrompted]),
    (Row("FRIENDS"), "idle", "Maria (neighbor, listed); Ruth (family, talked)", []),
    (Row("friends", friends=()), "ask_friend", "haven't added anyone", []),
    (Row("PROMPT"), "idle", "Idea for Maria: ask Maria what they hear about the schools.", [MarkPrompted]),
    (Row("talked to Maria, she's in!"), "idle", "Logged: Maria is in", [LogReport]),
    (Row("haven't reached Ruth yet"), "idle", "Ruth hasn't been reached yet", [LogReport]),
    (Row("talked to Maria"), "choose_outcome", "How did it go with Maria? Reply 1 In", []),
    (Row("2", step="choose_outcome", data={"friends": [1], "text": "talked to Maria"}), "idle", "Maria is open", [LogReport]),
    (Row("9", step="choose_outcome", data={"friends": [1], "text": "x"}), "choose_outcome", "number from 1 to 5", []),
    (Row("she was open to it"), "choose_friend", "Who was that with? Reply 1 Maria 2 Ruth", []),
    (Row("2", step="choose_friend", data={"options": [1, 2], "outcome": "open", "text": "t"}), "idle", "Ruth is open", [LogReport]),
    (Row("she's in!", data={"prompted_friend": "Ruth"}), "idle", "Ruth is in", [LogReport]),
    (Row("asdf qwerty"), "idle", "passed that on to an organizer", [KeepForInbox]),
    (Row(""), "idle", "only read text", [KeepForInbox]),
]
# fmt: on


@pytest.mark.parametrize(
    ("row", "step", "says", "effects"), CASES, ids=[c[0].text or "<empty>" for c in CASES]
)
def test_conversation_table(row: Row, step: str, says: str, effects: list[type]) -> None:
    outcome = run(row)
    assert outcome.state.step == step
    assert len(outcome.replies) == 1
    assert says in outcome.replies[0].body
    assert kinds(outcome) == effects


@pytest.mark.parametrize(
    "step",
    ["new", "awaiting_opt_in", "ask_name", "ask_friend", "ask_interests", "choose_outcome", "idle"],
)
@pytest.mark.parametrize("consent", [Consent.UNKNOWN, Consent.OPTED_IN])
def test_stop_wins_at_every_step(step: str, consent: Consent) -> None:
    outcome = run(Row("Stop.", step=step, consent=consent, data={"friend_name": "Ruth", "friends": [1]}))
    assert outcome.effects == (RecordConsent("opt_out", "STOP"),)
    assert [r.kind for r in outcome.replies] == [ReplyKind.OPT_OUT_CONFIRMATION]
    assert "Reply START" in outcome.replies[0].body and "Eastside Neighbors" in outcome.replies[0].body


@pytest.mark.parametrize("text", ["hi", "ADD Maria", "talked to Maria, she's in!", "what?", "STOP"])
def test_after_opting_out_nothing_but_help_and_start_is_answered(text: str) -> None:
    outcome = run(Row(text, step="opted_out", consent=Consent.OPTED_OUT))
    assert outcome.replies == ()
    # A STOP again is recorded again (the ledger shows every one), never confirmed again.
    assert outcome.effects == ((RecordConsent("opt_out", "STOP"),) if text == "STOP" else ())


@pytest.mark.parametrize(
    ("confirmed_ago", "confirmed"),
    [
        (None, True),
        (timedelta(minutes=10), True),
        (timedelta(minutes=9, seconds=59), False),
        (timedelta(0), False),
    ],
)
def test_an_opt_out_is_confirmed_at_most_once_in_ten_minutes_and_always_recorded(
    confirmed_ago: timedelta | None, confirmed: bool
) -> None:
    ctx = Context(ORG, NOW, Consent.OPTED_IN, "Sam", (), PROMPTS)
    ctx = replace(ctx, opt_out_confirmed_at=None if confirmed_ago is None else NOW - confirmed_ago)
    outcome = engine.respond(State("idle"), Inbound("STOP", NOW), ctx)
    assert outcome.effects == (RecordConsent("opt_out", "STOP"),)
    assert outcome.state.step == "opted_out"
    assert [r.kind for r in outcome.replies] == ([ReplyKind.OPT_OUT_CONFIRMATION] if confirmed else [])


def test_help_is_answered_even_after_opting_out() -> None:
    outcome = run(Row("HELP", consent=Consent.OPTED_OUT))
    (reply,) = outcome.replies
    assert reply.kind is ReplyKind.HELP
    for part in ("Eastside Neighbors", "organizers@eastside.example.org", "STOP"):
        assert part in reply.body


def test_start_resubscribes_and_picks_the_conversation_up() -> None:
    outcome = run(Row("START", step="opted_out", consent=Consent.OPTED_OUT))
    assert outcome.effects == (RecordConsent("opt_in", "START"),)
    assert outcome.state.step == "idle" and "Welcome back, Sam" in outcome.replies[0].body


def test_a_report_moves_a_friend_along_the_ladder_but_never_back() -> None:
    forward = run(Row("talked to Ruth, she's in!")).effects[0]
    assert isinstance(forward, LogReport) and forward.new_stage == "committed"
    committed = Friend(2, "Ruth", "family", stage="committed")
    backward = run(Row("Ruth was open to it", friends=(MARIA, committed))).effects[0]
    assert isinstance(backward, LogReport) and (backward.outcome, backward.new_stage) == (
        "open",
        None,
    )


def test_a_report_keeps_what_was_learned_and_tags_interests() -> None:
    text = "Ruth was open to it, worried about prices"
    (effect,) = run(Row(text)).effects
    assert effect == LogReport(2, "open", text, ("prices",), "open")


def test_an_idea_fits_two_gsm7_segments_where_the_text_allows() -> None:
    wordy = Prompt(
        20,
        "ask {friend} " + "about the things that matter to them and their family " * 4,
        interests=("schools",),
    )
    curly = Prompt(21, "ask {friend} what’s changed on the block — and listen…", relationships=("neighbor",))
    for prompt in (wordy, curly):
        ctx = Context(ORG, NOW, Consent.OPTED_IN, "Sam", (MARIA,), (prompt,))
        (reply,) = engine.respond(State("idle"), Inbound("PROMPT", NOW), ctx).replies
        cost = segments.count(reply.body)
        assert cost.encoding == "GSM-7" and cost.count <= 2, reply.body
        assert reply.body.startswith("Idea for Maria: ask Maria")


def test_a_short_idea_keeps_its_closing_line() -> None:
    ctx = Context(ORG, NOW, Consent.OPTED_IN, "Sam", (MARIA,), PROMPTS)
    (reply,) = engine.respond(State("idle"), Inbound("PROMPT", NOW), ctx).replies
    assert reply.body.endswith("When you've talked, reply with how it went.")


def test_a_report_naming_nobody_is_about_the_last_idea_only_once_it_was_sent() -> None:
    """A prompt round's idea held for the calling window is expected back from when it goes."""
    now = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)
    friends = (Friend(1, "Ruth", "neighbor"), Friend(2, "Carl", "coworker"))
    ctx = Context(ORG, now, Consent.OPTED_IN, "Ana", friends)
    waiting = prompts.prompted_state(friends[0], now + timedelta(hours=10))
    before = engine.respond(waiting, Inbound("she's in!", now), ctx)
    assert before.state.step == "choose_friend"  # asked who, not filed under Ruth
    later = replace(ctx, now=now + timedelta(hours=11))
    after = engine.respond(waiting, Inbound("she's in!", later.now), later)
    assert after.replies[0].body.startswith("Thank you! Logged: Ruth")


@pytest.mark.parametrize("text", ["PROMPT Ruth", "IDEA for Ruth", "next ruth please"])
def test_an_idea_asked_for_a_friend_by_name_is_for_that_friend(text: str) -> None:
    outcome = run(Row(text))
    assert outcome.replies[0].body.startswith("Idea for Ruth:")
    assert [e.friend for e in outcome.effects if isinstance(e, MarkPrompted)] == [RUTH.id]


def test_an_idea_asked_for_someone_not_listed_is_for_the_friend_most_due() -> None:
    outcome = run(Row("PROMPT Bob"))
    assert outcome.replies[0].body.startswith("Idea for Maria:")
