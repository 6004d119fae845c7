"""Never the same idea twice for a friend, through the signed webhook, the outbox and the real
worker: PROMPT (and "idea for ...") walks through the starter library until no unused idea fits,
then says so kindly and asks what would help; an answer brings fresh ideas. Ideas name the next
event when there is one, prompt rounds leave out a volunteer with nothing new to suggest, and
organizations created before the library grew receive the new starter ideas on upgrade."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import func, select, text

from gateway import migrate
from gateway.community import organization, rounds
from gateway.community.events import add_event
from gateway.community.prompts import default_prompts, validate
from gateway.community.sending import Audience
from gateway.extensions import db
from gateway.models import Friend, Prompt, PromptUse
from tests.support import Phone, SettableClock

CLOSING = " When you've talked, reply with how it went."
MONDAY = datetime(2026, 11, 30, 11, 0, tzinfo=ZoneInfo("America/New_York"))


def join(phone: Phone, *texts: str) -> None:
    for body in ("hi", "yes", *texts):
        phone.send(body)


def idea_of(reply: str) -> str:
    """The idea itself, without the closing line the reply may carry."""
    return reply.removesuffix(CLOSING)


def used_for(name: str) -> list[int]:
    return list(
        db.session.scalars(
            select(PromptUse.prompt_id)
            .join(Friend, Friend.id == PromptUse.friend_id)
            .where(Friend.name == name)
        )
    )


def fitting(stage: str, relationship: str, language: str = "en") -> int:
    """How many starter ideas fit a friend at `stage` of this relationship who cares about nothing
    known yet, with no event coming up."""
    return sum(
        1
        for item in default_prompts()
        if item.get("language", "en") == language
        and not item.get("interests")
        and "{event}" not in item["body"]
        and stage in (item.get("stages") or [stage])
        and relationship in (item.get("relationships") or [relationship])
    )


def test_every_starter_idea_is_one_an_organizer_could_have_written() -> None:
    for item in default_prompts():
        assert validate(item)["body"] == item["body"]


def test_prompt_never_repeats_an_idea_then_says_kindly_none_is_left_and_an_answer_brings_more(
    phone: Phone,
) -> None:
    join(phone, "Sam")
    first = phone.reply_to("my neighbor Carlos")
    assert first.startswith("Added Carlos (neighbor). What does Carlos care about?")
    ideas = [idea_of(phone.reply_to("skip"))]
    # The bug this guards against: PROMPT right after an idea gave the same idea again.
    ideas.append(idea_of(phone.reply_to("PROMPT")))
    assert ideas[1] != ideas[0]
    expected = fitting("listed", "neighbor")
    asks = ("PROMPT", "idea for Carlos", "next")
    for turn in range(expected - len(ideas)):
        reply = phone.reply_to(asks[turn % len(asks)])
        assert reply.startswith("Idea for Carlos: "), reply
        ideas.append(idea_of(reply))
    assert len(ideas) == expected >= 10
    assert len(set(ideas)) == len(ideas)
    assert (
        sorted(set(used_for("Carlos"))) == sorted(used_for("Carlos")) and len(used_for("Carlos")) == expected
    )

    out = phone.reply_to("PROMPT")
    assert out.startswith("I'm out of new ideas for Carlos, and I won't repeat one.")
    assert "What else does Carlos care about? (e.g. healthcare, schools, housing)" in out
    assert "text how your last talk went" in out and "ADD someone else" in out
    assert idea_of(out) not in ideas
    assert len(used_for("Carlos")) == expected  # nothing was marked used

    # What Carlos cares about, in answer, is added to what was known and brings a fresh idea.
    fresh = phone.reply_to("rent and the schools")
    assert fresh.startswith("Idea for Carlos: ") and idea_of(fresh) not in ideas
    carlos = db.session.scalars(select(Friend).where(Friend.name == "Carlos")).one()
    assert carlos.interests == ["housing", "schools"]
    assert len(used_for("Carlos")) == expected + 1


def test_prompt_goes_to_the_friend_who_still_has_ideas(phone: Phone) -> None:
    join(phone, "Sam", "my neighbor Carlos", "skip")
    carlos = db.session.scalars(select(Friend).where(Friend.name == "Carlos")).one()
    listed = select(Prompt.id).where(Prompt.language == "en")
    db.session.add_all(PromptUse(friend_id=carlos.id, prompt_id=pid) for pid in db.session.scalars(listed))
    db.session.commit()
    added = phone.reply_to("ADD my coworker Dana, cares about jobs")
    assert "Idea for Dana" in added
    # Carlos is the most due (listed first, his last idea is older), but has nothing new left.
    assert phone.reply_to("PROMPT").startswith("Idea for Dana: ")


def test_a_spanish_speaker_hears_there_is_no_new_idea_in_spanish(phone: Phone) -> None:
    join(phone, "ESPAÑOL", "Ana", "mi vecina Rosa", "saltar")
    rosa = db.session.scalars(select(Friend).where(Friend.name == "Rosa")).one()
    spanish = select(Prompt.id).where(Prompt.language == "es")
    db.session.add_all(PromptUse(friend_id=rosa.id, prompt_id=pid) for pid in db.session.scalars(spanish))
    db.session.commit()
    out = phone.reply_to("SIGUIENTE")
    assert out.startswith("Ya no me quedan ideas nuevas para Rosa, y no quiero repetirte una.")
    assert "responde AGREGAR" in out


def test_an_idea_for_a_friend_who_is_open_names_the_next_event(
    app: Flask, phone: Phone, clock: SettableClock
) -> None:
    clock.set(MONDAY)
    join(phone, "Sam", "my neighbor Carlos", "skip")
    phone.send("talked to Carlos, he's open to it")
    no_event = phone.reply_to("PROMPT")
    assert "{event}" not in no_event and "Forum" not in no_event

    add_event(organization.default(), "Eastside Housing Forum", MONDAY + timedelta(days=3))
    db.session.commit()
    invite = phone.reply_to("PROMPT")
    assert invite.startswith("Idea for Carlos: ")
    assert "Eastside Housing Forum on Dec 3" in invite


def test_a_round_leaves_out_a_volunteer_with_no_new_idea_for_any_friend(
    phone: Phone, clock: SettableClock
) -> None:
    clock.set(MONDAY)
    join(phone, "Sam", "my neighbor Carlos", "skip")
    org = organization.default()
    assert rounds.preview(org, Audience("all")).count == 1
    carlos = db.session.scalars(select(Friend).where(Friend.name == "Carlos")).one()
    unused = select(Prompt.id).where(Prompt.language == "en", Prompt.id.not_in(used_for("Carlos")))
    db.session.add_all(PromptUse(friend_id=carlos.id, prompt_id=pid) for pid in db.session.scalars(unused))
    db.session.commit()
    preview = rounds.preview(org, Audience("all"))
    assert (preview.count, preview.excluded) == (0, {"no_idea": 1})


def test_an_organization_from_before_receives_the_new_starter_ideas_and_keeps_its_own_edits(
    empty_app: Flask,
) -> None:
    with empty_app.app_context():
        migrate.upgrade("0015_starter_library-1")  # the revision before the starter library grew
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO organization (slug, name, contact, frequency, interests, timezone, created_at)"
                    " VALUES ('eastside', 'Eastside', '', 'weekly', '[]', 'America/Chicago', CURRENT_TIMESTAMP)"
                )
            )
            for key, body, active in (
                ("listen-first", "ask {friend} how the week went.", True),
                ("healthcare", "ask {friend} about health costs.", False),
            ):
                connection.execute(
                    text(
                        "INSERT INTO prompt (organization_id, key, body, stages, interests, relationships,"
                        " language, active, created_at) VALUES (1, :key, :body, '[]', '[]', '[]', 'en',"
                        " :active, CURRENT_TIMESTAMP)"
                    ),
                    {"key": key, "body": body, "active": active},
                )
        migrate.upgrade("head")
        rows = {p.key: p for p in db.session.scalars(select(Prompt))}
        assert set(rows) == {item["key"] for item in default_prompts()}
        assert (rows["listen-first"].body, rows["listen-first"].active) == (
            "ask {friend} how the week went.",
            True,
        )
        assert rows["healthcare"].active is False
        assert rows["listed-catch-up-es"].language == "es" and rows["listed-catch-up-es"].stages == ["listed"]
        db.session.rollback()

        migrate.upgrade("head")  # a second run adds nothing
        assert db.session.scalar(select(func.count()).select_from(Prompt)) == len(default_prompts())
        db.session.rollback()

        migrate.downgrade("0015_starter_library-1")
        naming_event = db.session.scalars(select(Prompt).where(Prompt.body.contains("{event}"))).all()
        assert naming_event and not any(p.active for p in naming_event)
        db.session.rollback()
