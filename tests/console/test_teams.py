"""/console/teams: every team with its members, leads, newcomers this month, its activity in the
last 30 days and next event; a team's members (numbers masked for viewers) and activity; an
organizer makes a member a lead (audited), a viewer cannot."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select, update

from gateway.extensions import db
from gateway.models import AuditEntry, ConversationReport, Person, TeamMember
from tests.console import test_events
from tests.console.conftest import SignedIn
from tests.console.test_events import NEW_YORK, PROPOSAL, People, make_lead, review, start_team, text_of
from tests.support import SettableClock, csrf_token

people = test_events.people  # the fixture: volunteers' phones, on Monday in New York


def team_row(page: str, team: str) -> str:
    row = re.search(rf"<tr>\s*<td><a href=\"/console/teams/\d+\">{re.escape(team)}</a>[\s\S]*?</tr>", page)
    assert row, f"no row for {team}"
    return text_of(row[0])


def test_the_teams_page_counts_members_leads_newcomers_and_activity(
    people: People, signed_in: SignedIn, clock: SettableClock
) -> None:
    sam = people.volunteer("+12125550101", "Sam")
    ana = people.volunteer("+12125550102", "Ana")
    luis = people.volunteer("+12125550103", "Luis")
    rosa = people.volunteer("+12125550104", "Rosa")
    code = start_team(sam, "Block Walkers")
    for phone in (ana, rosa):
        phone.send(f"TEAM JOIN {code}")
    start_team(luis, "Tenants United")
    with sam.client.application.app_context():  # Rosa joined last month
        rosa_id = select(Person.id).where(Person.name == "Rosa").scalar_subquery()
        db.session.execute(
            update(TeamMember)
            .where(TeamMember.person_id == rosa_id)
            .values(joined_at=datetime(2026, 10, 20, tzinfo=NEW_YORK))
        )
        db.session.commit()
    sam.send("UPDATE we knocked 40 doors!")
    ana.send("UPDATE 12 more on Elm St")
    for text in ("my grandma Ruth", "skip", "talked to Ruth, she's open to coming to the forum"):
        ana.send(text)
    with sam.client.application.app_context():
        assert len(db.session.scalars(select(ConversationReport)).all()) == 1
    organizer = signed_in("organizer")
    make_lead(organizer, "Block Walkers", "Sam")
    sam.send("FRIENDS")
    sam.send(PROPOSAL)
    review(organizer, "Potluck", "approve")

    page = organizer.get("/console/teams").get_data(as_text=True)
    assert team_row(page, "Block Walkers") == "Block Walkers 3 Sam 2 2 1 Potluck, 2026-12-05"
    assert team_row(page, "Tenants United") == "Tenants United 1 — 1 0 0 —"

    # Thirty-one days on, the updates and the conversation are out of the window.
    clock.set(datetime(2026, 12, 31, 12, 0, tzinfo=NEW_YORK))
    page = organizer.get("/console/teams").get_data(as_text=True)
    assert team_row(page, "Block Walkers") == "Block Walkers 3 Sam 0 0 0 —"


def test_a_team_page_lists_members_and_an_organizer_changes_leads(
    people: People, signed_in: SignedIn
) -> None:
    sam = people.volunteer("+12125550101", "Sam")
    ana = people.volunteer("+12125550102", "Ana")
    ana.send(f"TEAM JOIN {start_team(sam, 'Block Walkers')}")
    ana.send("MUTE")
    organizer = signed_in("organizer")
    page = text_of(make_lead(organizer, "Block Walkers", "Ana").get_data(as_text=True))
    assert "Made a lead. They'll hear it in the reply to their next text." in page
    assert "Ana +12125550102 2026-11-30 muted Lead Remove as lead 0 0" in page
    assert "Sam +12125550101 2026-11-30 on Make Sam a lead" in page

    team_path = re.search(r'<a href="(/console/teams/\d+)">Block Walkers</a>', organizer.get("/console/teams").get_data(as_text=True))[1]  # type: ignore[index]  # fmt: skip
    person = re.search(r'name="person" value="(\d+)">\s*<input type="hidden" name="lead" value="0">', organizer.get(team_path).get_data(as_text=True))[1]  # type: ignore[index]  # fmt: skip
    token = csrf_token(organizer, team_path)
    removed = organizer.post(f"{team_path}/lead", data={"csrf_token": token, "person": person, "lead": "0"})
    assert removed.status_code == 302
    assert "News" not in ana.reply_to("FRIENDS")  # no longer a lead before hearing it: nothing to tell
    assert ana.reply_to("EVENT NEW Potluck, Sat 3pm, Ana's house").startswith("Only team leads can propose")

    for bad in (
        {"person": "999", "lead": "1"},
        {"person": "x", "lead": "1"},
        {"person": person, "lead": "maybe"},
    ):
        response = organizer.post(f"{team_path}/lead", data={"csrf_token": token} | bad)
        assert response.status_code == 400
    with organizer.application.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("lead_%"))).all()
        assert [(e.action, set(e.detail)) for e in entries] == [
            ("lead_made", {"team_id", "person_id"}),
            ("lead_removed", {"team_id", "person_id"}),
        ]

    viewer = signed_in("viewer")
    page = text_of(viewer.get(team_path).get_data(as_text=True))
    assert "+12125550101" not in page and "0101" in page and "Make Sam a lead" not in page
    refused = viewer.post(f"{team_path}/lead", data={"csrf_token": csrf_token(viewer, team_path), "person": person, "lead": "1"})  # fmt: skip
    assert refused.status_code == 403
    with viewer.application.app_context():
        assert db.session.scalars(select(TeamMember.lead)).all() == [False, False]
    assert organizer.get("/console/teams/999").status_code == 404
