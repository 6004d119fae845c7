"""Member email on an instance that serves two organizations: a member's reply lands in the
inbox of the organization whose email they answered, never another's."""

from __future__ import annotations

from html import unescape

from flask import Flask
from sqlalchemy import select

from gateway.community import organization
from gateway.delivery import consent
from gateway.extensions import db
from gateway.models import Address, Message, Person, Thread
from tests.conftest import INBOUND_EMAIL_DOMAIN
from tests.email.conftest import MailProgram, reply_address
from tests.support import email_member, organizer, sign_in

RUTH = "ruth@westside.example.org"


def test_a_reply_from_a_second_organizations_member_lands_in_that_organizations_inbox(
    console: Flask, member: Address
) -> None:
    westside = organization.create("westside", "Westside Neighbors", "+14155550142", "America/Los_Angeles")
    db.session.commit()
    ruth = email_member(RUTH, org=westside)
    person = db.session.get(Person, ruth.person_id)
    assert person is not None
    person.name = "Ruth"
    db.session.commit()
    east_admin, west_admin = organizer("admin"), organizer("admin", "jo@westside.example.org", org=westside)

    ruths_program = MailProgram(console.test_client(), RUTH)
    assert ruths_program.reply("gmail", reply_address(ruth)).status_code == 200

    db.session.rollback()
    stored = db.session.scalars(select(Message).where(Message.direction == "inbound")).one()
    assert stored.organization_id == westside.id and stored.address.organization_id == westside.id
    thread = db.session.scalars(select(Thread)).one()
    assert (thread.organization_id, thread.person_id) == (westside.id, ruth.person_id)

    def inbox_of(email: str) -> str:
        browser = console.test_client()
        assert sign_in(browser, email, organization="").status_code == 302
        pages = [
            browser.get(f"/console/inbox{show}").get_data(as_text=True) for show in ("", "?show=unmatched")
        ]
        return unescape(" ".join(pages))

    east, west = inbox_of(east_admin), inbox_of(west_admin)
    assert "Ruth" not in east and "westside" not in east  # not even as an unmatched email
    assert f'<a href="/console/inbox/{thread.id}">Ruth</a>' in west


def test_an_unsubscribe_reply_no_token_routes_opts_the_address_out_in_every_organization(
    console: Flask, member: Address
) -> None:
    """An expired or forwarded reply address names no organization: the sender meant them all."""
    westside = organization.create("westside", "Westside Neighbors", "+14155550142", "America/Los_Angeles")
    db.session.commit()
    sam_west = email_member("sam@example.org", org=westside)
    program = MailProgram(console.test_client(), "sam@example.org")
    assert program.reply("unsubscribe", f"hello@{INBOUND_EMAIL_DOMAIN}").status_code == 200

    db.session.rollback()
    for address in (member, sam_west):
        assert consent.status(db.session.get(Address, address.id)).name == "OPTED_OUT"


def test_an_email_no_token_routes_is_kept_by_the_one_organization_that_knows_the_sender(
    console: Flask, member: Address
) -> None:
    westside = organization.create("westside", "Westside Neighbors", "+14155550142", "America/Los_Angeles")
    db.session.commit()
    email_member(RUTH, org=westside)
    program = MailProgram(console.test_client(), RUTH)
    assert program.reply("gmail", f"hello@{INBOUND_EMAIL_DOMAIN}").status_code == 200

    db.session.rollback()
    stored = db.session.scalars(select(Message).where(Message.direction == "inbound")).one()
    assert stored.organization_id == westside.id
