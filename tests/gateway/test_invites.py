"""INVITE and referrals: the volunteer forwards a message with their personal code; the friend
texts JOIN and the code themselves, opts in on their own, and is linked to the friend entry that
named them (by the digest of their number, else by first name). Kindred never texts the friend
first."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import Friend, Person
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import Phone, Worker


@pytest.fixture
def inviter(phone: Phone) -> Phone:
    for body in ("hi", "yes", "Sam", "ADD Bob 555-201-7788, neighbor", "ADD Carla, coworker"):
        phone.send(body)
    return phone


def code_in(invitation: str) -> str:
    match = re.search(r"Text JOIN ([A-Z0-9]{4}) to", invitation)
    assert match, invitation
    return match[1]


def other_phone(client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker, number: str) -> Phone:
    return Phone(client, twilio_api, worker, number)


def test_invite_gives_a_message_to_forward_with_a_personal_code(inviter: Phone) -> None:
    invitation = inviter.reply_to("INVITE")
    assert invitation.startswith("Forward this to someone you know: \"I'm part of Eastside Neighbors")
    assert "We never text them ourselves" in invitation
    sam = db.session.scalars(select(Person).where(Person.name == "Sam")).one()
    assert code_in(invitation) == sam.referral_code
    assert inviter.reply_to("invite Carla").startswith("Forward this to Carla:")


def test_a_friend_who_joins_with_the_code_is_linked_by_their_number(
    inviter: Phone, client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker
) -> None:
    code = code_in(inviter.reply_to("INVITE"))
    bob = other_phone(client, twilio_api, worker, "+15552017788")
    assert bob.replies() == []  # listing Bob never texted him
    assert "Reply YES to join" in bob.reply_to(f"join {code.lower()}")
    bob.send("yes")
    entry = db.session.scalars(select(Friend).where(Friend.name == "Bob")).one()
    newcomer = db.session.scalars(select(Person).where(Person.id == entry.joined_person_id)).one()
    assert entry.stage == "joined"
    assert newcomer.referred_by_id == db.session.scalars(select(Person).where(Person.name == "Sam")).one().id


def test_without_a_number_the_friend_is_linked_by_first_name(
    inviter: Phone, client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker
) -> None:
    code = code_in(inviter.reply_to("INVITE"))
    carla = other_phone(client, twilio_api, worker, "+15553331234")
    for body in (f"JOIN {code}", "YES", "Carla Reyes"):
        carla.send(body)
    entry = db.session.scalars(select(Friend).where(Friend.name == "Carla")).one()
    assert entry.stage == "joined" and entry.joined_person_id is not None
    assert db.session.scalars(select(Friend).where(Friend.name == "Bob")).one().stage == "listed"


def test_an_unknown_code_still_lets_someone_join(
    client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker
) -> None:
    newcomer = other_phone(client, twilio_api, worker, "+15554440000")
    newcomer.send("JOIN ZZZZ")
    assert newcomer.reply_to("yes") == "Welcome! What's your first name?"
    assert db.session.scalars(select(Person)).one().referred_by_id is None
