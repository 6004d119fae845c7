"""/console/events: organizers create and edit events on the organization's clock, see RSVPs and
who brought a friend; a full event says so to a late YES; a new time moves reminders not sent
yet; team leads propose events by text and organizers approve (listed to that team only) or
decline them, and the lead hears which once, in the reply to their next text."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway import jobs
from gateway.extensions import db
from gateway.models import AuditEntry, Event, Message, Person, Rsvp
from tests.console.conftest import SignedIn
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import Phone, SettableClock, Worker, csrf_token

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
MONDAY = datetime(2026, 11, 30, 11, 0, tzinfo=NEW_YORK)


class People:
    """Volunteers' phones, each opted in with a first name."""

    def __init__(self, client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker):
        self.client, self.twilio_api, self.worker = client, twilio_api, worker

    def phone(self, number: str) -> Phone:
        return Phone(self.client, self.twilio_api, self.worker, number)

    def volunteer(self, number: str, name: str) -> Phone:
        phone = self.phone(number)
        for text in ("hi", "yes", name):
            phone.send(text)
        return phone


@pytest.fixture
def people(
    console, client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker, clock: SettableClock
) -> People:
    clock.set(MONDAY)
    return People(client, twilio_api, worker)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace("&#39;", "'")


def create_event(browser: FlaskClient, **fields: str):
    data = {"csrf_token": csrf_token(browser, "/console/events"), "location": "", "capacity": ""} | fields
    return browser.post("/console/events", data=data)


def edit_event(browser: FlaskClient, event_path: str, **fields: str):
    page = browser.get(event_path).get_data(as_text=True)
    current = {
        name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)[1]  # type: ignore[index]
        for name in ("title", "starts_at", "location", "capacity")
    }
    data = {"csrf_token": csrf_token(browser, event_path)} | current | fields
    return browser.post(event_path, data=data)


def review(browser: FlaskClient, title: str, decision: str):
    page = browser.get("/console/events").get_data(as_text=True)
    match = re.search(rf'action="(/console/events/\d+/review)"[\s\S]*?Approve {re.escape(title)}<', page)
    assert match, f"no proposal {title} waiting"
    data = {"csrf_token": csrf_token(browser, "/console/events"), "decision": decision}
    return browser.post(match[1], data=data, follow_redirects=True)


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_an_organizer_creates_and_edits_an_event_on_the_organizations_clock(
    signed_in: SignedIn, clock: SettableClock
) -> None:
    clock.set(datetime(2026, 10, 20, 12, 0, tzinfo=NEW_YORK))  # daylight time; the event is after it ends
    organizer = signed_in("organizer")
    response = create_event(
        organizer,
        title="Community Forum",
        starts_at="2026-11-05T18:30",
        location="Eastside Library",
        capacity="40",
    )
    assert response.status_code == 302
    event_path = response.headers["Location"]
    page = text_of(organizer.get(event_path).get_data(as_text=True))
    assert "Event listed: Community Forum." in page
    assert "Thu Nov 05 2026, 06:30 PM EST" in page and "0 of 40 places" in page
    with organizer.application.app_context():
        event = db.session.scalars(select(Event)).one()
        assert event.starts_at == datetime(2026, 11, 5, 23, 30, tzinfo=ZoneInfo("UTC"))
        assert (event.status, event.team_id, event.capacity) == ("listed", None, 40)

    listing = text_of(organizer.get("/console/events").get_data(as_text=True))
    assert "Community Forum Thu Nov 05 2026, 06:30 PM EST Eastside Library Everyone 0 0 40" in listing

    response = edit_event(organizer, event_path, starts_at="2026-10-31 10:00", capacity="")
    assert response.status_code == 302
    page = text_of(organizer.get(event_path).get_data(as_text=True))
    assert "Event saved." in page and "Sat Oct 31 2026, 10:00 AM EDT" in page
    with organizer.application.app_context():
        event = db.session.scalars(select(Event)).one()
        assert event.starts_at == datetime(2026, 10, 31, 14, 0, tzinfo=ZoneInfo("UTC"))
        assert event.capacity is None
        assert actions()[-2:] == ["event_created", "event_edited"]
        edited = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event_edited")).one()
        assert edited.detail == {"event_id": event.id, "changed": ["starts_at", "capacity"]}


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"starts_at": "2026-11-30T10:00"}, "That time has already passed."),
        ({"starts_at": "9999-12-31T23:30"}, "more than five years away"),
        ({"starts_at": "next week"}, "Type the time as year-month-day hours:minutes"),
        ({"starts_at": ""}, "Give the event a date and time."),
        ({"capacity": "two"}, "Places is a whole number from 1 to 100,000"),
        ({"capacity": "-3"}, "Places is a whole number"),
        ({"title": ""}, "Give the event a title"),
    ],
)
def test_a_bad_event_is_refused_with_a_clear_message(
    signed_in: SignedIn, clock: SettableClock, fields: dict[str, str], says: str
) -> None:
    clock.set(MONDAY)
    organizer = signed_in("organizer")
    response = create_event(organizer, **({"title": "Forum", "starts_at": "2026-12-03T18:30"} | fields))
    assert response.status_code == 400
    assert says in text_of(response.get_data(as_text=True))
    with organizer.application.app_context():
        assert db.session.scalars(select(Event)).all() == []


def test_a_yes_to_a_full_event_is_told_it_is_full(people: People, signed_in: SignedIn) -> None:
    organizer = signed_in("organizer")
    create_event(organizer, title="Phone bank", starts_at="2026-12-03T18:30", capacity="1")
    sam = people.volunteer("+12125550101", "Sam")
    ana = people.volunteer("+12125550102", "Ana")
    assert sam.reply_to("RSVP 1").startswith("You're in for Phone bank")
    assert ana.reply_to("RSVP 1") == "Sorry, Phone bank is full. Reply EVENTS for what else is coming up."
    assert sam.reply_to("RSVP 1").startswith("You're already down for Phone bank")  # a seat kept
    page = text_of(organizer.get("/console/events").get_data(as_text=True))
    assert "Everyone 1 0 1 full" in page
    with organizer.application.app_context():
        assert db.session.scalar(select(Rsvp.person_id).where(Rsvp.status == "yes")) is not None
        assert len(db.session.scalars(select(Rsvp)).all()) == 1


def test_the_event_page_lists_rsvps_and_who_brought_a_friend(people: People, signed_in: SignedIn) -> None:
    organizer = signed_in("organizer")
    event_path = create_event(organizer, title="Community Forum", starts_at="2026-12-03T18:30").headers[
        "Location"
    ]
    sam = people.volunteer("+12125550101", "Sam")
    code = re.search(r"JOIN (\w+)", sam.reply_to("INVITE Bob"))[1]  # type: ignore[index]
    bob = people.phone("+12125550199")
    bob.send(f"join {code}")
    for text in ("yes", "Bob"):
        bob.send(text)
    ana = people.volunteer("+12125550102", "Ana")
    for phone in (sam, bob, ana):
        phone.send("RSVP 1")
    ana.send("RSVP NO 1")

    page = text_of(organizer.get(event_path).get_data(as_text=True))
    assert "Going (2) Bob · +12125550199 Sam · +12125550101" in page
    assert "Not going (1) Ana · +12125550102" in page
    assert "Sam brought Bob" in page
    viewer_page = text_of(signed_in("viewer").get(event_path).get_data(as_text=True))
    assert "+12125550101" not in viewer_page and "Sam brought Bob" in viewer_page
    assert "0101" in viewer_page  # masked, the last digits kept as on /console/volunteers

    bob.send("RSVP NO 1")  # a friend who is no longer coming was not brought
    assert "Nobody yet." in text_of(organizer.get(event_path).get_data(as_text=True))


def test_a_new_time_moves_the_reminders_not_sent_yet(
    people: People, signed_in: SignedIn, clock: SettableClock
) -> None:
    organizer = signed_in("organizer")
    event_path = create_event(organizer, title="Park cleanup", starts_at="2026-12-05T10:00").headers[
        "Location"
    ]
    sam = people.volunteer("+12125550101", "Sam")
    lee = people.volunteer("+12135550106", "Lee")  # Los Angeles
    sam.send("RSVP 1")
    lee.send("RSVP 1")

    # A day before, 7:01 a.m. in Los Angeles: Sam's reminder goes, Lee's waits for 9 a.m.
    clock.set(datetime(2026, 12, 4, 10, 1, tzinfo=NEW_YORK))
    jobs.sweep_outbox()
    sam.worker.run()
    assert sam.replies()[-1] == "Hi Sam! Reminder: Park cleanup is tomorrow at 10 AM. See you there!"
    with organizer.application.app_context():
        held = db.session.scalars(
            select(Message).where(Message.reason == "reminder", Message.status == "queued")
        ).one()
        held_id = held.id

    assert edit_event(organizer, event_path, starts_at="2026-12-06T14:00").status_code == 302
    clock.set(datetime(2026, 12, 4, 9, 5, tzinfo=LOS_ANGELES))
    jobs.sweep_outbox()
    sam.worker.run()
    with organizer.application.app_context():
        held = db.session.get(Message, held_id)
        assert (held.status, held.error_code) == ("suppressed", "event_moved")
    assert not any("Reminder" in body for body in lee.replies())

    clock.set(datetime(2026, 12, 5, 14, 1, tzinfo=NEW_YORK))  # a day before the new time
    jobs.sweep_outbox()
    sam.worker.run()
    assert (
        lee.replies()[-1] == "Hi Lee! Reminder: Park cleanup is tomorrow at 2 PM. See you there!"
    )  # on the event's clock
    assert sum("Reminder" in body for body in sam.replies()) == 1  # Sam's was sent already: not again


def start_team(phone: Phone, name: str) -> str:
    reply = phone.reply_to(f"TEAM NEW {name}")
    match = re.search(r"Its join code is (\w+):", reply)
    assert match, reply
    return match[1]


def make_lead(browser: FlaskClient, team: str, name: str):
    teams = browser.get("/console/teams").get_data(as_text=True)
    team_path = re.search(rf'<a href="(/console/teams/\d+)">{re.escape(team)}</a>', teams)[1]  # type: ignore[index]
    page = browser.get(team_path).get_data(as_text=True)
    person = re.search(rf'name="person" value="(\d+)">\s*<input type="hidden" name="lead" value="1">\s*'
                       rf'<button type="submit" class="link">Make {name} a lead', page)  # fmt: skip
    assert person, f"no button to make {name} a lead"
    data = {"csrf_token": csrf_token(browser, team_path), "person": person[1], "lead": "1"}
    return browser.post(f"{team_path}/lead", data=data, follow_redirects=True)


@pytest.fixture
def teams(people: People) -> tuple[Phone, Phone, Phone]:
    """Sam started Block Walkers and Ana joined it; Luis is on another team."""
    sam = people.volunteer("+12125550101", "Sam")
    ana = people.volunteer("+12125550102", "Ana")
    luis = people.volunteer("+12125550103", "Luis")
    ana.send(f"TEAM JOIN {start_team(sam, 'Block Walkers')}")
    start_team(luis, "Tenants United")
    return sam, ana, luis


PROPOSAL = "EVENT NEW Potluck, Sat 3pm, Sam's house"


def test_a_lead_proposes_by_text_and_an_approved_event_is_listed_to_that_team_only(
    teams: tuple[Phone, Phone, Phone], signed_in: SignedIn
) -> None:
    sam, ana, luis = teams
    assert sam.reply_to(PROPOSAL).startswith(
        "Only team leads can propose events, and Block Walkers has none yet."
    )
    organizer = signed_in("organizer")
    assert "Made a lead." in text_of(make_lead(organizer, "Block Walkers", "Sam").get_data(as_text=True))

    # Told once, on the reply to the next text, whatever it is.
    assert sam.reply_to("FRIENDS").endswith(
        "(News: you're now a lead of Block Walkers. Text EVENT NEW with a title, time and place to propose a "
        "team event.)"
    )
    assert "News" not in sam.reply_to("FRIENDS")

    assert sam.reply_to("EVENT NEW Potluck, soonish, my place").startswith(
        "To propose a team event, text EVENT NEW with its title, time and place, like:"
    )
    assert sam.reply_to(PROPOSAL) == (
        "Thanks! I sent Potluck, Sat Dec 5, 3 PM, Sam's house to the organizers. "
        "Once they approve it, it's listed to Block Walkers."
    )
    assert ana.reply_to(PROPOSAL).startswith("Only team leads can propose events. Ask Sam, your team's lead")
    with organizer.application.app_context():
        proposal = db.session.scalars(select(Event)).one()  # the refused ones left nothing
        assert proposal.status == "proposed" and proposal.proposal_message_id is not None
        assert db.session.get(Message, proposal.proposal_message_id).body == PROPOSAL
    assert ana.reply_to("EVENTS").startswith("No events are scheduled")  # not before approval

    page = text_of(review(organizer, "Potluck", "approve").get_data(as_text=True))
    assert "Approved: Potluck is listed to Block Walkers." in page
    assert (
        "No proposals waiting." in page
        and "Potluck Sat Dec 05 2026, 03:00 PM EST Sam's house Block Walkers" in page
    )
    assert "Potluck" in ana.reply_to("EVENTS")
    assert luis.reply_to("EVENTS").startswith("No events are scheduled")  # another team's
    assert ana.reply_to("RSVP 1").startswith("You're in for Potluck")

    assert sam.reply_to("EVENTS").endswith("(News: Potluck was approved and is listed to your team.)")
    assert "News" not in sam.reply_to("EVENTS")
    with organizer.application.app_context():
        assert actions()[-2:] == ["lead_made", "event_approved"]
        approved = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event_approved")).one()
        assert set(approved.detail) == {"event_id", "team_id"}


def test_a_declined_proposal_is_never_listed_and_the_lead_hears_it_once(
    teams: tuple[Phone, Phone, Phone], signed_in: SignedIn, clock: SettableClock
) -> None:
    sam, ana, _ = teams
    organizer = signed_in("organizer")
    make_lead(organizer, "Block Walkers", "Sam")
    sam.send("EVENTS")
    sam.send(PROPOSAL)
    assert "Declined: Potluck." in text_of(review(organizer, "Potluck", "decline").get_data(as_text=True))
    assert sam.reply_to("EVENTS").endswith("(News: the organizers didn't approve Potluck this time.)")
    assert ana.reply_to("EVENTS").startswith("No events are scheduled")
    with organizer.application.app_context():
        event_id = db.session.scalars(select(Event.id)).one()
    # Reviewed already: a second decision is refused, and nothing reminds anyone of it.
    again = organizer.post(
        f"/console/events/{event_id}/review",
        data={"csrf_token": csrf_token(organizer, "/console/events"), "decision": "approve"},
    )
    assert again.status_code == 409 and "already reviewed" in again.get_data(as_text=True)
    fields = {"title": "Potluck", "starts_at": "2026-12-06T15:00", "location": "", "capacity": ""}
    edited = organizer.post(
        f"/console/events/{event_id}", data={"csrf_token": csrf_token(organizer, "/console/events")} | fields
    )
    assert edited.status_code == 400 and "declined; it can no longer be changed" in edited.get_data(
        as_text=True
    )
    clock.set(datetime(2026, 12, 4, 15, 1, tzinfo=NEW_YORK))
    jobs.sweep_outbox()
    with organizer.application.app_context():
        assert db.session.scalars(select(Message).where(Message.reason == "reminder")).all() == []
        assert actions()[-1] == "event_declined"


def test_a_viewer_reads_events_but_cannot_change_them(people: People, signed_in: SignedIn) -> None:
    organizer = signed_in("organizer")
    event_path = create_event(organizer, title="Community Forum", starts_at="2026-12-03T18:30").headers[
        "Location"
    ]
    viewer = signed_in("viewer")
    listing = viewer.get("/console/events").get_data(as_text=True)
    assert "Community Forum" in listing and "New event" not in listing
    assert "Save event" not in viewer.get(event_path).get_data(as_text=True)
    token = csrf_token(viewer, "/console/events")
    assert create_event(viewer, title="Mine", starts_at="2026-12-03T18:30").status_code == 403
    assert viewer.post(event_path, data={"csrf_token": token, "title": "Renamed"}).status_code == 403
    assert (
        viewer.post(f"{event_path}/review", data={"csrf_token": token, "decision": "approve"}).status_code
        == 403
    )
    with viewer.application.app_context():
        assert db.session.scalars(select(Event.title)).all() == ["Community Forum"]
        assert db.session.scalar(select(Person.id)) is None  # nobody texted


def test_a_proposal_waiting_goes_with_a_lead_who_erases_their_data(
    teams: tuple[Phone, Phone, Phone], signed_in: SignedIn
) -> None:
    sam, _, _ = teams
    organizer = signed_in("organizer")
    make_lead(organizer, "Block Walkers", "Sam")
    sam.send("EVENTS")
    sam.send(PROPOSAL)
    assert "Potluck" in organizer.get("/console/events").get_data(as_text=True)
    sam.send("DELETE")
    sam.send("YES")
    assert "No proposals waiting." in text_of(organizer.get("/console/events").get_data(as_text=True))
    with organizer.application.app_context():
        assert db.session.scalars(select(Event)).all() == []
