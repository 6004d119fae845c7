"""Members on record for the organizer email tests: people with and without a confirmed email
address, on a team and going (or not) to an event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from gateway.community import organization
from gateway.delivery import consent
from gateway.extensions import db
from gateway.models import Address, Event, Person, Rsvp, Team, TeamMember
from tests.support import SettableClock

NOON_NEW_YORK = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # inside the calling window
TEAM_CODE = "EAST5"


def person(name: str, email: str | None = None, consent_kinds: tuple[str, ...] = ()) -> Person:
    """A person on record, with an email address whose consent events are `consent_kinds`."""
    org = organization.default()
    member = Person(organization_id=org.id, name=name)
    db.session.add(member)
    db.session.flush()
    if email is not None:
        address = Address(organization_id=org.id, person_id=member.id, channel="email", value=email)
        db.session.add(address)
        db.session.flush()
        for kind in consent_kinds:
            consent.record(address, kind, "email_confirmed" if kind == "opt_in" else "email_link", "test")
    return member


@pytest.fixture(name="members")
def members_fixture(app: Flask, clock: SettableClock) -> dict[str, int]:
    """Ana (confirmed, on the team, going to the forum), Eve (confirmed, not going), Ben
    (unsubscribed, on the team), Cy (never confirmed, going), Dee (a volunteer on the team with
    no email address) and Fay (confirmed, then asked to erase her data). Returns the event's id."""
    clock.set(NOON_NEW_YORK)
    org = organization.default()
    ana = person("Ana", "ana@example.org", ("opt_in",))
    eve = person("Eve", "eve@example.org", ("opt_in",))
    ben = person("Ben", "ben@example.org", ("opt_in", "opt_out"))
    cy = person("Cy", "cy@example.org")
    dee = person("Dee")
    db.session.add(Address(organization_id=org.id, person_id=dee.id, channel="sms", value="+15550000004"))
    fay = person("Fay", "fay@example.org", ("opt_in",))
    db.session.add(
        Address(
            organization_id=org.id,
            person_id=fay.id,
            channel="sms",
            value="+15550000006",
            pending_erasure=True,
        )
    )
    team = Team(organization_id=org.id, name="Eastside Tenants", join_code=TEAM_CODE)
    forum = Event(organization_id=org.id, title="Rent forum", starts_at=NOON_NEW_YORK + timedelta(days=3))
    db.session.add_all([team, forum])
    db.session.flush()
    db.session.add_all([TeamMember(team_id=team.id, person_id=p.id) for p in (ana, ben, dee)])
    db.session.add_all(
        [
            Rsvp(event_id=forum.id, person_id=ana.id, status="yes"),
            Rsvp(event_id=forum.id, person_id=eve.id, status="no"),
            Rsvp(event_id=forum.id, person_id=cy.id, status="yes"),
        ]
    )
    db.session.commit()
    return {"event": forum.id}
