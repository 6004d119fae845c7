"""A pending question takes only what answers it. Every question step (the volunteer's name,
their first friend, what a friend cares about, which friend, how it went, DELETE's YES) against
every kind of message (a report, an opt-out, a command, an RSVP, a new friend, an
acknowledgement, HELP): each is handled as what it is, and the question is asked again later or
dropped. Then the answers themselves, which must still answer. No app, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from flows import engine
from flows.events import (
    AddFriend,
    Consent,
    Context,
    EraseVolunteer,
    EventView,
    Friend,
    Inbound,
    LogReport,
    MarkPrompted,
    MarkTipSent,
    Organization,
    Prompt,
    RecordConsent,
    RecordRsvp,
    SetInterests,
    SetName,
    State,
    TipView,
)

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
ORG = Organization("Eastside Neighbors", "organizers@eastside.example.org")
MARIA = Friend(1, "Maria", "neighbor", (), "listed", added_at=NOW - timedelta(days=3))
RUTH = Friend(2, "Ruth", "family", ("healthcare",), "talked", added_at=NOW - timedelta(days=2))
PROMPTS = (
    Prompt(10, "ask {friend} what's been on their mind lately."),
    Prompt(11, "ask {friend} what they hear about the schools.", interests=("schools",)),
)
FORUM = EventView(7, "Housing Forum", NOW + timedelta(days=5), "Library")


@dataclass(frozen=True)
class Question:
    step: str
    data: dict
    friends: tuple[Friend, ...]
    name: str | None = "Sam"


QUESTIONS = {
    "ask_name": Question("ask_name", {}, (), name=None),
    "ask_friend": Question("ask_friend", {}, ()),
    "ask_interests": Question("ask_interests", {"friend_name": "Maria"}, (MARIA, RUTH)),
    "choose_friend": Question(
        "choose_friend", {"options": [1, 2], "outcome": None, "text": "we talked"}, (MARIA, RUTH)
    ),
    "choose_outcome": Question("choose_outcome", {"friends": [1], "text": "talked to Maria"}, (MARIA, RUTH)),
    "confirm_delete": Question("confirm_delete", {}, (MARIA, RUTH)),
}


def run(question: Question, text: str):
    ctx = Context(ORG, NOW, Consent.OPTED_IN, question.name, question.friends, PROMPTS, events=(FORUM,))
    return engine.respond(State(question.step, question.data), Inbound(text, NOW), ctx)


def kinds(outcome) -> set[type]:
    return {type(effect) for effect in outcome.effects}


def reports(outcome) -> list[tuple[object, str]]:
    return [(e.friend, e.outcome) for e in outcome.effects if isinstance(e, LogReport)]


def added(outcome) -> list[str]:
    return [e.name for e in outcome.effects if isinstance(e, AddFriend)]


# A report about a listed friend where there is one, else about someone new it names.
REPORTS = {
    "ask_name": ("talked to my cousin Joe, he's in!", ["Joe"], [("new:0", "committed")]),
    "ask_friend": ("talked to my cousin Joe, he's in!", ["Joe"], [("new:0", "committed")]),
    "ask_interests": ("talked to her already, she's in!", [], [(1, "committed")]),
    "choose_friend": ("Ruth said she's in!", [], [(2, "committed")]),
    "choose_outcome": ("Ruth said she's in!", [], [(2, "committed")]),
    "confirm_delete": ("Ruth said she's in!", [], [(2, "committed")]),
}


@pytest.mark.parametrize("step", QUESTIONS)
def test_a_report_is_logged_at_every_question(step: str) -> None:
    text, new, logged = REPORTS[step]
    outcome = run(QUESTIONS[step], text)
    assert reports(outcome) == logged
    assert added(outcome) == new
    assert outcome.state.step == "idle"
    assert SetName not in kinds(outcome) and SetInterests not in kinds(outcome)
    assert "Logged" in outcome.replies[0].body


@pytest.mark.parametrize("step", QUESTIONS)
@pytest.mark.parametrize("text", ["STOP", "please stop texting me", "Unsubscribe"])
def test_an_opt_out_wins_at_every_question(step: str, text: str) -> None:
    outcome = run(QUESTIONS[step], text)
    assert [e.kind for e in outcome.effects if isinstance(e, RecordConsent)] == ["opt_out"]
    assert outcome.state.step == "opted_out"


@pytest.mark.parametrize("step", QUESTIONS)
def test_help_is_answered_at_every_question_and_the_question_stays(step: str) -> None:
    question = QUESTIONS[step]
    outcome = run(question, "HELP")
    assert "Eastside Neighbors" in outcome.replies[0].body
    assert not outcome.effects
    assert outcome.state.step == question.step


@pytest.mark.parametrize("step", QUESTIONS)
def test_a_command_is_answered_at_every_question(step: str) -> None:
    outcome = run(QUESTIONS[step], "EVENTS")
    assert "Housing Forum" in outcome.replies[0].body
    assert SetName not in kinds(outcome) and SetInterests not in kinds(outcome)
    assert LogReport not in kinds(outcome)


@pytest.mark.parametrize("step", QUESTIONS)
def test_an_rsvp_in_plain_words_is_recorded_at_every_question(step: str) -> None:
    outcome = run(QUESTIONS[step], "count me in for the housing forum")
    assert [e.event_id for e in outcome.effects if isinstance(e, RecordRsvp)] == [FORUM.id]
    assert SetName not in kinds(outcome) and SetInterests not in kinds(outcome)


@pytest.mark.parametrize("step", QUESTIONS)
def test_a_new_friend_is_added_at_every_question(step: str) -> None:
    outcome = run(QUESTIONS[step], "my neighbor Carlos")
    assert added(outcome) == ["Carlos"]
    assert SetName not in kinds(outcome) and SetInterests not in kinds(outcome)
    assert LogReport not in kinds(outcome)
    assert "Carlos" in outcome.replies[0].body


@pytest.mark.parametrize("step", QUESTIONS)
def test_an_acknowledgement_changes_nothing_at_every_question(step: str) -> None:
    question = QUESTIONS[step]
    outcome = run(question, "thanks!")
    assert not outcome.effects
    if step != "confirm_delete":  # DELETE asks for YES: anything else keeps everything
        assert outcome.state.step == question.step


# The answers themselves: each still answers its question.
INTEREST_ANSWERS = [
    "schools",
    "rent, her kids' school",
    "her church",
    "she's interested in housing",
    "she's worried about rent",
    "she talked about rent",
    "she told me she cares about transit",
    "not interested in politics but cares about schools",
    "she's in the union",
    "she works in healthcare",
    "not sure",
    "idk",
    "her sister Ana is worried about rent",
    "no thanks",
    "she is not interested",  # in what? no talk is reported: taken as the answer, asking nothing
    "she's not into politics",
    "not interested in politics, likes gardening",
    "same as my mom, healthcare",
    "she had a long talk with her boss about rent",
    "she'd come to church with me more if she had a ride",
]


@pytest.mark.parametrize("text", INTEREST_ANSWERS)
def test_what_a_friend_cares_about_is_still_taken_as_the_answer(text: str) -> None:
    outcome = run(QUESTIONS["ask_interests"], text)
    assert LogReport not in kinds(outcome)
    assert AddFriend not in kinds(outcome)
    assert MarkPrompted in kinds(outcome)  # the idea the answer was for
    assert "Maria" in outcome.replies[0].body


@pytest.mark.parametrize(
    ("text", "outcome_logged"),
    [
        ("talked to her already, she's in!", "committed"),
        ("Already talked to Maria, she said yes", "committed"),
        ("she's coming to the forum!", "committed"),
        ("we had coffee, she's not interested", "not_interested"),
        ("talked to her, not interested", "not_interested"),
        ("couldn't reach her yet", "not_reached"),
        ("she cares about seniors and she's coming!", "committed"),
        ("just got off the phone w her, she said she'd come to the next meeting", "committed"),
        ("she said she'd come to the next meeting", "committed"),
        ("he said he'll be there", "committed"),
        ("got off the phone with her, she said she wouldn't come", "not_interested"),
    ],
)
def test_a_report_sent_instead_of_what_a_friend_cares_about_is_logged_for_that_friend(
    text: str, outcome_logged: str
) -> None:
    outcome = run(QUESTIONS["ask_interests"], text)
    assert reports(outcome) == [(MARIA.id, outcome_logged)]
    assert SetInterests not in kinds(outcome)


def test_a_talk_with_no_outcome_sent_instead_of_interests_asks_how_it_went_for_that_friend() -> None:
    outcome = run(QUESTIONS["ask_interests"], "we talked for an hour yesterday")
    assert outcome.state.step == "choose_outcome"
    assert outcome.state.data["friends"] == [MARIA.id]
    assert "Maria" in outcome.replies[0].body


@pytest.mark.parametrize("text", ["Sam", "I'm Sam", "sam lee", "Will", "me llamo Ana"])
def test_a_name_is_still_taken_as_the_answer(text: str) -> None:
    outcome = run(QUESTIONS["ask_name"], text)
    assert SetName in kinds(outcome)
    assert outcome.state.step == "ask_friend"


@pytest.mark.parametrize("text", ["Maria", "my neighbor Carlos", "Dee and Yvonne from church"])
def test_a_first_friend_is_still_taken_as_the_answer(text: str) -> None:
    outcome = run(QUESTIONS["ask_friend"], text)
    assert AddFriend in kinds(outcome)
    assert LogReport not in kinds(outcome)


def test_a_number_still_answers_which_friend_and_how_it_went() -> None:
    assert run(QUESTIONS["choose_friend"], "2").state.step == "choose_outcome"
    assert reports(run(QUESTIONS["choose_outcome"], "1")) == [(MARIA.id, "committed")]


# Texts that once read wrong: talk phrases and time words are nobody's name, a kin word is the
# listed relative it stands for, a name answers the name question whatever follows it, a no
# to DELETE's question is only that, and asking for tips is asking for tips.
@pytest.mark.parametrize(
    "text",
    [
        "Texted my cousin, she's in!",
        "Spoke with my coworker today, she might come",
        "Finally talked to my brother, he's in",
        "hablé con mi jefe, le interesa",
        "Hablé con mi jefa hoy, se apunta",
        "talked with my cousin over dinner, she is in",
    ],
)
def test_a_talk_phrase_or_a_time_word_is_never_taken_for_someone_new(text: str) -> None:
    outcome = run(Question("idle", {}, (MARIA, RUTH)), text)
    assert not added(outcome)


def test_a_kin_word_is_the_listed_relative_the_last_idea_was_for() -> None:
    question = Question("idle", {"prompted_friend": "Ruth"}, (MARIA, RUTH))  # Ruth is family
    outcome = run(question, "talked to grandma, she's open to it")
    assert not added(outcome)
    assert reports(outcome) == [(RUTH.id, "open")]


@pytest.mark.parametrize(
    ("text", "name"),
    [("Dana, my coworker Lucy sent me", "Dana"), ("Jo (my friend Sam referred me)", "Jo")],
)
def test_a_name_answers_the_name_question_whatever_follows_it(text: str, name: str) -> None:
    outcome = run(QUESTIONS["ask_name"], text)
    assert [e.name for e in outcome.effects if isinstance(e, SetName)] == [name]
    assert not added(outcome)


@pytest.mark.parametrize("text", ["no thanks", "Never mind, not interested", "nope", "mejor no"])
def test_a_no_to_deletes_question_keeps_everything_and_asks_nothing(text: str) -> None:
    outcome = run(QUESTIONS["confirm_delete"], text)
    assert not outcome.effects
    assert outcome.state.step == "idle"
    assert outcome.replies[0].body == "Okay, nothing was deleted."


@pytest.mark.parametrize("text", ["YES", "yes, delete everything", "Yes delete", "sí, borrar"])
def test_a_yes_to_deletes_question_erases(text: str) -> None:
    outcome = run(QUESTIONS["confirm_delete"], text)
    assert EraseVolunteer in kinds(outcome)


@pytest.mark.parametrize(
    "text",
    ["any tips for talking to my grandma?", "tips on talking to my dad", "TIPS my grandma", "need advice"],
)
def test_asking_for_tips_in_words_gets_a_tip_and_adds_nobody(text: str) -> None:
    ctx = Context(
        ORG, NOW, Consent.OPTED_IN, "Sam", (MARIA, RUTH), PROMPTS, tips=(TipView(5, "Listen first."),)
    )
    outcome = engine.respond(State("idle", {}), Inbound(text, NOW), ctx)
    assert [e.tip_id for e in outcome.effects if isinstance(e, MarkTipSent)] == [5]
    assert not added(outcome)


def test_a_tense_talk_that_ended_well_needs_no_softer_start() -> None:
    outcome = run(Question("idle", {}, (MARIA, RUTH)), "talked to Maria, it got heated but she's in")
    (logged,) = [e for e in outcome.effects if isinstance(e, LogReport)]
    assert (logged.outcome, logged.listen_first) == ("committed", False)
