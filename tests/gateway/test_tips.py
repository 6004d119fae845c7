"""Coaching for hard conversations through the signed webhook, the outbox and the real worker:
TIPS sends a different starter tip each time and records which, CONSEJOS answers in Spanish,
and after a hard talk the next idea for that friend (by PROMPT or in a prompt round) leads with
listening, once. The starter tips are short, practical texts in both languages, and
organizations from before the tips get them on upgrade."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import func, select, text

from flows import segments
from flows import tips as tip_flow
from flows.events import TipView
from flows.messages import say
from gateway import migrate
from gateway.community import organization, rounds
from gateway.community.sending import Audience
from gateway.community.tips import default_tips, validate
from gateway.extensions import db
from gateway.models import Friend, Person, Tip, TipUse
from tests.support import Phone, SettableClock

MONDAY = datetime(2026, 11, 30, 11, 0, tzinfo=ZoneInfo("America/New_York"))
LISTEN = "Your last talk with Maria was hard, so lead with listening and your own story, not an argument."
MORE = " Reply TIPS for another."


def join(phone: Phone, *texts: str) -> None:
    for body in ("hi", "yes", *texts):
        phone.send(body)


def starters(language: str) -> list[dict]:
    return [item for item in default_tips() if item.get("language", "en") == language]


def test_the_starter_tips_are_short_practical_texts_in_both_languages() -> None:
    english, spanish = starters("en"), starters("es")
    assert len(english) >= 12 and len(spanish) >= 12
    assert {f"{item['key']}-es" for item in english} == {item["key"] for item in spanish}
    bodies = " ".join(item["body"] for item in english).lower()
    for subject in ("listen", "experience", "story", "argue", "relationship", "common ground"):
        assert subject in bodies
    for subject in ("grandmother", "30 years", "uncle", "pause", "one concrete ask", "thank"):
        assert subject in bodies
    for item in default_tips():
        assert validate(item)["body"] == item["body"]
        cost = segments.count(item["body"])
        assert cost.encoding == "GSM-7" and len(item["body"]) <= 300, item["key"]
        # Even the reply that starts the tips over, with how to get another, is two segments.
        language = item.get("language", "en")
        whole = tip_flow.text(TipView(0, item["body"], language), language, starting_over=True)
        assert whole.endswith(say(language, "tips.more")) and segments.count(whole).count <= 2


def test_tips_three_times_sends_three_different_tips_and_records_each(phone: Phone) -> None:
    join(phone, "Sam", "my neighbor Maria")
    replies = [phone.reply_to("TIPS") for _ in range(3)]
    english = [item["body"] for item in starters("en")]
    assert replies == [f"{body}{MORE}" for body in english[:3]]
    sam = db.session.scalars(select(Person).where(Person.name == "Sam")).one()
    used = db.session.scalars(
        select(Tip.key).join(TipUse, TipUse.tip_id == Tip.id).where(TipUse.person_id == sam.id)
    )
    assert sorted(used) == sorted(item["key"] for item in starters("en")[:3])
    # The question about Maria waited: her interests are still the answer to the next text.
    assert phone.reply_to("schools").startswith("Idea for Maria")

    spanish = phone.reply_to("CONSEJOS")
    assert spanish == f"{starters('es')[0]['body']} Responde CONSEJOS para otro."


def test_after_everything_a_volunteer_starts_over_and_a_retired_tip_is_left_out(phone: Phone) -> None:
    join(phone, "Sam")
    org = organization.default()
    keep = {"listen-first", "thank-them"}
    for tip in db.session.scalars(select(Tip).where(Tip.organization_id == org.id, Tip.key.not_in(keep))):
        tip.active = False
    db.session.commit()
    bodies = {tip.key: tip.body for tip in db.session.scalars(select(Tip).where(Tip.key.in_(keep)))}
    assert phone.reply_to("TIPS") == bodies["listen-first"] + MORE
    assert phone.reply_to("tip") == bodies["thank-them"] + MORE
    again = phone.reply_to("TIPS")
    assert again == f"{say('en', 'tips.start_over')} {bodies['listen-first']}{MORE}"


def maria() -> Friend:
    db.session.expire_all()
    return db.session.scalars(select(Friend).where(Friend.name == "Maria")).one()


def test_after_a_tense_talk_the_next_idea_for_maria_leads_with_listening_and_the_one_after_does_not(
    phone: Phone,
) -> None:
    join(phone, "Sam", "my neighbor Maria", "skip")
    # It says how the talk felt, not where Maria stands: asked, "Not sure yet".
    assert phone.reply_to("talked to Maria, she got mad and we argued").startswith(
        "How did it go with Maria?"
    )
    assert phone.reply_to("3").startswith("Thank you! Logged: Maria is still deciding")
    assert maria().listen_first
    first = phone.reply_to("PROMPT")
    assert first.startswith(f"{LISTEN} Idea for Maria: ")
    assert not maria().listen_first
    second = phone.reply_to("PROMPT")
    assert second.startswith("Idea for Maria: ") and "listening" not in second

    # "Not interested" marks her too; a later open report clears the mark before any idea.
    phone.send("talked to Maria again, she's not interested")
    assert maria().listen_first
    phone.send("talked to Maria today, she's open to coming")
    assert not maria().listen_first
    assert "listening" not in phone.reply_to("PROMPT")


def test_a_prompt_round_leads_with_listening_for_a_friend_after_a_hard_talk(
    phone: Phone, clock: SettableClock
) -> None:
    clock.set(MONDAY)
    join(phone, "Sam", "my neighbor Maria", "skip")
    phone.send("talked to Maria, she's not interested")
    org = organization.default()
    preview = rounds.preview(org, Audience("all"))
    assert preview.count == 1 and preview.samples[0].body.startswith(f"{LISTEN} Idea for Maria: ")
    rounds.send(org, Audience("all"), confirm=1)
    phone.worker.run()
    assert phone.replies()[-1].startswith(f"{LISTEN} Idea for Maria: ")
    assert not maria().listen_first


def test_an_organization_from_before_the_tips_gets_them_on_upgrade(empty_app: Flask) -> None:
    with empty_app.app_context():
        migrate.upgrade("0015_starter_library")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO organization (slug, name, contact, frequency, interests, timezone, created_at)"
                    " VALUES ('eastside', 'Eastside', '', 'weekly', '[]', 'America/Chicago', CURRENT_TIMESTAMP)"
                )
            )
        migrate.upgrade("head")
        tips = {tip.key: tip for tip in db.session.scalars(select(Tip))}
        assert set(tips) == {item["key"] for item in default_tips()}
        assert tips["grandmother-es"].language == "es" and tips["grandmother"].active
        db.session.rollback()

        migrate.downgrade("0015_starter_library")
        migrate.upgrade("head")
        assert db.session.scalar(select(func.count()).select_from(Tip)) == len(default_tips())
        db.session.rollback()


def test_right_after_a_tip_more_or_otro_sends_the_next_and_elsewhere_more_does_not(phone: Phone) -> None:
    join(phone, "Sam", "my neighbor Maria")
    english = [item["body"] for item in starters("en")]
    assert phone.reply_to("TIPS") == english[0] + MORE
    assert phone.reply_to("more") == english[1] + MORE
    assert phone.reply_to("another one") == english[2] + MORE
    # The question about Maria waited through the tips.
    assert phone.reply_to("schools").startswith("Idea for Maria")
    # Not right after a tip, "more" is what it always was: no tip is sent.
    assert phone.reply_to("more").startswith("Thanks! I've passed that on to an organizer.")
    spanish = [item["body"] for item in starters("es")]
    assert phone.reply_to("CONSEJOS") == f"{spanish[0]} Responde CONSEJOS para otro."
    assert phone.reply_to("otro") == f"{spanish[1]} Responde CONSEJOS para otro."
