"""`kindred seed-demo`: realistic fake data for the console, as an organizer would notice it. The
counts it prints are what the database holds; every volunteer has one fictional number and an
opt-in; some gave an email address at example.org, most of them confirmed, so organizer email
has an audience with exclusions; friends are never contactable; referrals point back in time;
reports follow the ladder; the texts agree with what they are evidence of; and seeding again
adds more."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from flows import abuse, keywords, parse
from flows.events import DEFAULT_INTERESTS
from flows.teams import MAX_TEAM_SIZE, is_code
from gateway import clock
from gateway.community import organization, seeding
from gateway.delivery.transports.simulator import SIMULATOR_NUMBER
from gateway.extensions import db
from gateway.models import (
    Address,
    ConsentEvent,
    ConversationReport,
    Event,
    Friend,
    FriendContactDigest,
    Idea,
    Message,
    MessageStatusEvent,
    Person,
    Rsvp,
    Team,
    TeamMember,
    Thread,
)
from tests.support import Phone, SettableClock

SUMMARY = re.compile(
    r"seeded (?P<volunteers>\d+) volunteers, (?P<friends>\d+) friends, (?P<reports>\d+) reports, "
    r"(?P<messages>\d+) messages, (?P<teams>\d+) teams \((?P<team_members>\d+) members\), "
    r"(?P<events>\d+) events \((?P<rsvps>\d+) RSVPs\), (?P<threads>\d+) inbox threads, "
    r"(?P<ideas>\d+) ideas to review, (?P<opt_outs>\d+) opt-outs, "
    r"(?P<emails>\d+) email addresses \((?P<email_opt_ins>\d+) confirmed\)"
)
EMAIL = re.compile(r"^[a-z]+\.\d{7}@example\.org$")
FICTIONAL = re.compile(r"^\+1555\d{7}$")


def seed_demo(app: Flask, *options: str) -> dict[str, int]:
    """Run the command as an organizer would; the counts it printed."""
    result = app.test_cli_runner().invoke(args=["seed-demo", "--volunteers", "200", *options])
    assert result.exit_code == 0, result.output
    found = SUMMARY.search(result.output)
    assert found, result.output
    return {key: int(value) for key, value in found.groupdict().items()}


def rows(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_seeded_data_is_what_it_says_and_holds_together(app: Flask) -> None:
    printed = seed_demo(app)
    now = clock.now()
    db.session.remove()

    volunteers = db.session.scalars(select(Person).order_by(Person.id)).all()
    assert all(person.volunteer_since is not None for person in volunteers)  # no one else is made
    assert printed == {
        "volunteers": len(volunteers),
        "friends": rows(Friend),
        "reports": rows(ConversationReport),
        "messages": rows(Message),
        "teams": rows(Team),
        "team_members": rows(TeamMember),
        "events": rows(Event),
        "rsvps": rows(Rsvp),
        "threads": rows(Thread),
        "ideas": rows(Idea),
        "opt_outs": db.session.scalar(
            select(func.count()).where(ConsentEvent.kind == "opt_out", ConsentEvent.channel == "sms")
        ),
        "emails": db.session.scalar(select(func.count()).where(Address.channel == "email")),
        "email_opt_ins": db.session.scalar(
            select(func.count()).where(ConsentEvent.kind == "opt_in", ConsentEvent.channel == "email")
        ),
    }
    assert printed["volunteers"] == 200 and printed["teams"] == 5 and printed["threads"] == 4
    # Each team is led by whoever started it; a few volunteers' ideas wait for review, each the
    # text of their own IDEA.
    leads = db.session.execute(
        select(TeamMember.person_id, Team.created_by_id).join(Team).where(TeamMember.lead)
    )
    assert sorted(person for person, _ in leads) == sorted(db.session.scalars(select(Team.created_by_id)))
    assert printed["ideas"] >= 1
    for idea in db.session.scalars(select(Idea)):
        text = db.session.get(Message, idea.message_id)
        assert idea.status == "pending" and text.body == f"IDEA {idea.body}"
        assert text.address.person_id == idea.person_id

    # Some gave an email address too, most confirmed it, a few of those unsubscribed, and the rest
    # never confirmed: organizer email has an audience, and exclusions to show.
    emails = db.session.scalars(select(Address).where(Address.channel == "email")).all()
    assert all(EMAIL.match(a.value) for a in emails) and len({a.person_id for a in emails}) == len(emails)
    assert 0.2 <= len(emails) / len(volunteers) <= 0.4
    email_ids = {a.id for a in emails}
    email_consent = db.session.scalars(
        select(ConsentEvent).where(ConsentEvent.channel == "email").order_by(ConsentEvent.id)
    ).all()
    assert all(c.address_id in email_ids and c.detail == "seed" for c in email_consent)
    assert {(c.kind, c.source) for c in email_consent} == {
        ("opt_in", "email_confirmed"),
        ("opt_out", "email_one_click"),
    }
    latest = {c.address_id: c.kind for c in email_consent}
    assert 0 < printed["emails"] - printed["email_opt_ins"] < printed["email_opt_ins"]  # never confirmed
    assert 0 < list(latest.values()).count("opt_out") < list(latest.values()).count("opt_in")

    # Each volunteer: one fictional number, never the simulator's, opted in by their own YES.
    addresses = db.session.scalars(select(Address).where(Address.channel == "sms")).all()
    assert sorted(a.person_id for a in addresses) == [p.id for p in volunteers]
    assert all(a.channel == "sms" and FICTIONAL.match(a.value) for a in addresses)
    assert SIMULATOR_NUMBER not in {a.value for a in addresses}
    by_address = {a.id: a for a in addresses}
    messages = {m.id: m for m in db.session.scalars(select(Message))}
    opt_ins = db.session.scalars(
        select(ConsentEvent).where(ConsentEvent.kind == "opt_in", ConsentEvent.channel == "sms")
    ).all()
    assert sorted(by_address[c.address_id].person_id for c in opt_ins) == [p.id for p in volunteers]
    for consent in db.session.scalars(select(ConsentEvent).where(ConsentEvent.channel == "sms")):
        evidence = messages[consent.evidence_message_id]
        assert (consent.source, consent.channel) == ("sms_keyword", "sms")
        assert evidence.address_id == consent.address_id
        assert evidence.direction == "inbound" and evidence.created_at == consent.at
        assert (keywords.opt_out_reason(evidence.body) is not None) == (consent.kind == "opt_out")

    # Friends are never contactable: no digests, and no address belongs to anyone but a volunteer.
    assert rows(FriendContactDigest) == 0
    friends = db.session.scalars(select(Friend)).all()
    per_volunteer = Counter(f.volunteer_id for f in friends)
    assert max(per_volunteer.values()) <= 12 and 4 <= len(friends) / len(volunteers) <= 6

    # Who brought whom: about a third, always someone who joined earlier, so no cycles.
    by_id = {p.id: p for p in volunteers}
    referred = [p for p in volunteers if p.referred_by_id is not None]
    assert 0.2 <= len(referred) / len(volunteers) <= 0.45
    for person in referred:
        referrer = by_id[person.referred_by_id]
        assert referrer.id < person.id and referrer.volunteer_since <= person.volunteer_since
    for friend in friends:
        if friend.joined_person_id is not None:
            joiner = by_id[friend.joined_person_id]
            assert friend.stage == "joined" and joiner.referred_by_id == friend.volunteer_id
            assert friend.added_at <= joiner.volunteer_since

    # Reports only on friends past listed, told by that friend's volunteer in a text of theirs.
    stages = Counter(f.stage for f in friends)
    assert stages["listed"] > stages["talked"] > stages["open"] > stages["committed"] > 0
    by_friend = {f.id: f for f in friends}
    for report in db.session.scalars(select(ConversationReport)):
        friend = by_friend[report.friend_id]
        text = messages[report.message_id]
        assert friend.stage != "listed" and report.volunteer_id == friend.volunteer_id
        assert text.body == report.learned and text.created_at == report.reported_at
        assert by_address[text.address_id].person_id == report.volunteer_id
        assert friend.added_at < report.reported_at <= now and set(report.tags) <= set(friend.interests)

    # Every text sent has its delivery history; nothing is left to send.
    provider_ids = [m.provider_id for m in messages.values() if m.provider_id]
    assert len(set(provider_ids)) == len(provider_ids)
    history: dict[int, list[str]] = {}
    for event in db.session.scalars(select(MessageStatusEvent).order_by(MessageStatusEvent.id)):
        history.setdefault(event.message_id, []).append(event.status)
    for message in messages.values():
        if message.direction == "inbound":
            assert message.status == "received" and message.id not in history
        else:
            steps = history[message.id]
            assert steps[0] == "queued" and steps[-1] == message.status
            assert message.status in ("delivered", "sent", "failed", "suppressed")
    week = now - timedelta(days=7)
    problems = [m for m in messages.values() if m.status in ("failed", "suppressed")]
    assert {m.status for m in problems} == {"failed", "suppressed"}
    assert all(m.created_at >= week and m.error_code for m in problems)

    # A volunteer was last active when they last texted (a STOP is not activity).
    latest: dict[int, object] = {}
    for message in messages.values():
        if message.direction == "inbound" and keywords.opt_out_reason(message.body) is None:
            person_id = by_address[message.address_id].person_id
            latest[person_id] = max(message.created_at, latest.get(person_id, message.created_at))
    assert all(person.last_active_at == latest[person.id] for person in volunteers)
    active = sum(person.last_active_at >= week for person in volunteers)
    assert 0.25 <= active / len(volunteers) <= 0.45

    # Teams within their size limit, joined by text; the inbox's texts, flagged when abusive.
    assert all(is_code(team.join_code) for team in db.session.scalars(select(Team)))
    sizes = Counter(member.team_id for member in db.session.scalars(select(TeamMember)))
    assert max(sizes.values()) <= MAX_TEAM_SIZE
    for thread in db.session.scalars(select(Thread)):
        text = messages[thread.last_message_id]
        assert text.needs_attention and text.created_at == thread.last_message_at
        assert by_address[text.address_id].person_id == thread.person_id
        assert thread.flagged == abuse.flagged(text.body) and keywords.opt_out_reason(text.body) is None
    assert db.session.scalar(select(func.count()).where(Thread.flagged)) >= 1


def test_seeding_again_adds_as_many_with_new_numbers_and_codes(
    app: Flask, clock: SettableClock, phone: Phone
) -> None:
    clock.set(clock())
    first = seed_demo(app)
    second = seed_demo(app)
    assert first == second  # the same seed makes the same people, joined at the same times
    db.session.remove()

    volunteers = db.session.scalars(select(Person).order_by(Person.id)).all()
    assert len(volunteers) == 400
    earlier, later = volunteers[:200], volunteers[200:]
    assert [(p.name, p.volunteer_since) for p in earlier] == [(p.name, p.volunteer_since) for p in later]
    numbers = db.session.scalars(select(Address.value).where(Address.channel == "sms")).all()
    assert len(numbers) == len(set(numbers)) == 400 and SIMULATOR_NUMBER not in numbers
    codes = [p.referral_code for p in volunteers]
    assert len(set(codes)) == 400
    join_codes = db.session.scalars(select(Team.join_code)).all()
    assert len(set(join_codes)) == len(join_codes) == 10
    assert len(set(db.session.scalars(select(Team.name)))) == 10

    other = seed_demo(app, "--seed", "7")
    assert other != first

    # The app goes on as before: a real volunteer's texts get the rows that come next.
    assert "Reply YES to join" in phone.reply_to("hi")
    assert "first name" in phone.reply_to("yes")
    assert db.session.scalar(select(func.count()).select_from(Person)) == 601


def test_seed_in_one_transaction_returns_what_it_added(app: Flask) -> None:
    made = seeding.seed(organization.default(), 20, random.Random(1), clock.now())
    db.session.commit()
    assert made["volunteers"] == rows(Person) == 20
    assert (made["friends"], made["messages"]) == (rows(Friend), rows(Message))


def test_the_volunteer_count_must_be_reasonable(app: Flask) -> None:
    for count in ("0", "100001", "many"):
        result = app.test_cli_runner().invoke(args=["seed-demo", "--volunteers", count])
        assert result.exit_code == 2 and "--volunteers" in result.output
    assert rows(Person) == 0


def test_what_volunteers_learn_reads_as_about_the_interest_it_is_filed_under() -> None:
    # A report's tags are the interests the reporting flow finds in its text, as with real ones.
    for interest, (english, spanish) in seeding.LEARNED.items():
        for phrase in (*english, *spanish):
            assert parse.find_interests(phrase, DEFAULT_INTERESTS) == (interest,), phrase
    generic = [seeding.LEARNED_ANYTHING, seeding.NOT_INTERESTED, *seeding.OPENERS.values()]
    for english, spanish in generic:
        for phrase in (*english, *spanish):
            assert parse.find_interests(phrase.format(name=seeding.NAME_SLOT), DEFAULT_INTERESTS) == (), (
                phrase
            )
