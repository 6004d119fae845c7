"""The volunteers pages: organizers find volunteers by name, number, team, stage, activity and
language, and open one to see their friends, conversations, messages, teams and consent. A
friend's contact details never appear: Kindred keeps none."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert

from gateway import clock
from gateway.community import organization
from gateway.extensions import db
from gateway.models import Person
from tests.console.conftest import SignedIn
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import Phone, Worker

SAM = "+12125550101"
ANA = "+12125550102"


@pytest.fixture
def two_volunteers(client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker) -> tuple[Phone, Phone]:
    """Sam, on a team, who listed Ruth and Maria and talked with Ruth; Ana, who joined in Spanish."""
    sam = Phone(client, twilio_api, worker, SAM)
    for text in ("hi", "yes", "Sam", "my grandma Ruth", "medicare, her church"):
        sam.send(text)
    sam.send("talked sunday, she's worried about prices but open to coming to the forum")
    sam.send("ADD Maria 917-555-0143 neighbor")
    sam.send("TEAM NEW Block Walkers")
    ana = Phone(client, twilio_api, worker, ANA)
    for text in ("hola", "sí", "Ana"):
        ana.send(text)
    return sam, ana


def names(browser: FlaskClient, query: str = "") -> list[str]:
    page = browser.get(f"/console/volunteers{query}").get_data(as_text=True)
    return re.findall(r'<a href="/console/volunteers/\d+">([^<]+)</a>', page)


def test_filters_find_the_right_volunteers(two_volunteers: tuple[Phone, Phone], signed_in: SignedIn) -> None:
    viewer = signed_in("viewer")
    assert names(viewer) == ["Ana", "Sam"]  # newest first
    assert names(viewer, "?q=sa") == ["Sam"]
    assert names(viewer, "?q=0102") == ["Ana"]  # the end of her number
    assert names(viewer, "?language=es") == ["Ana"]
    assert names(viewer, "?stage=open") == ["Sam"]  # has a friend who is open
    assert names(viewer, "?stage=joined") == []
    assert names(viewer, "?active=week") == ["Ana", "Sam"]
    assert names(viewer, "?active=quiet") == []
    assert names(viewer, "?team=none") == ["Ana"]
    team = re.search(
        r'<option value="(\d+)">Block Walkers</option>',
        viewer.get("/console/volunteers").get_data(as_text=True),
    )
    assert team is not None
    assert names(viewer, f"?team={team.group(1)}") == ["Sam"]
    # Nonsense is ignored, never an error.
    assert names(viewer, "?team=abc&stage=nope&active=x&language=zz&page=-3&q=%25") == []
    assert names(viewer, "?team=abc&stage=nope&active=x&language=zz&page=-3") == ["Ana", "Sam"]


def test_a_volunteer_page_shows_friends_and_what_was_learned_but_no_friend_contact(
    two_volunteers: tuple[Phone, Phone], signed_in: SignedIn
) -> None:
    organizer = signed_in("organizer")
    listing = organizer.get("/console/volunteers").get_data(as_text=True)
    link = re.search(r'<a href="(/console/volunteers/\d+)">Sam</a>', listing)
    assert link is not None
    page = organizer.get(link.group(1)).get_data(as_text=True)

    friends = re.findall(r"<tr>\s*<td>(\w+)</td>\s*<td>(\w+)</td>\s*<td><span[^>]*>(\w+)</span>", page)
    assert friends == [("Ruth", "family", "open"), ("Maria", "neighbor", "listed")]
    assert "worried about prices" in page
    assert "Block Walkers" in page
    assert "Opted in" in page  # the consent history
    assert SAM in page  # an organizer sees the volunteer's own number, to call them
    # Maria's number was masked when stored and kept only as a digest: it is nowhere.
    assert "0143" not in page and "917" not in page


def test_a_viewer_sees_numbers_masked(two_volunteers: tuple[Phone, Phone], signed_in: SignedIn) -> None:
    viewer = signed_in("viewer")
    listing = viewer.get("/console/volunteers").get_data(as_text=True)
    assert SAM not in listing and "+1******0101" in listing
    link = re.search(r'<a href="(/console/volunteers/\d+)">Sam</a>', listing)
    assert link is not None
    assert SAM not in viewer.get(link.group(1)).get_data(as_text=True)


def test_volunteers_come_in_pages(console: Flask, signed_in: SignedIn) -> None:
    with console.app_context():
        org = organization.default()
        joined = clock.now() - timedelta(days=30)
        db.session.execute(
            insert(Person),
            [
                {
                    "organization_id": org.id,
                    "name": f"Volunteer {n:02}",
                    "volunteer_since": joined + timedelta(minutes=n),
                }
                for n in range(60)
            ],
        )
        db.session.commit()
    viewer = signed_in("viewer")
    first = viewer.get("/console/volunteers").get_data(as_text=True)
    assert "60 volunteers, page 1 of 2" in first
    assert names(viewer)[0] == "Volunteer 59" and len(names(viewer)) == 50
    assert names(viewer, "?page=2") == [f"Volunteer {n:02}" for n in range(9, -1, -1)]
    assert names(viewer, "?page=9") == []


def test_someone_who_is_not_a_volunteer_has_no_page(console: Flask, signed_in: SignedIn) -> None:
    with console.app_context():
        org = organization.default()
        texted_once = Person(organization_id=org.id, name="Not yet")
        db.session.add(texted_once)
        db.session.commit()
        person_id = texted_once.id
    viewer = signed_in("viewer")
    assert viewer.get(f"/console/volunteers/{person_id}").status_code == 404
    assert viewer.get("/console/volunteers/987654").status_code == 404


def test_a_viewer_cannot_find_a_whole_number_digit_by_digit(
    two_volunteers: tuple[Phone, Phone], signed_in: SignedIn
) -> None:
    viewer, organizer = signed_in("viewer"), signed_in("organizer")
    assert names(viewer, "?q=0101") == ["Sam"]
    # A viewer's longer search counts only its last four digits: it cannot confirm a guess.
    assert names(viewer, "?q=99990101") == ["Sam"]
    assert names(organizer, "?q=99990101") == []
    assert names(organizer, "?q=2125550101") == ["Sam"]


def test_odd_filters_and_ids_are_never_an_error(
    two_volunteers: tuple[Phone, Phone], signed_in: SignedIn
) -> None:
    viewer = signed_in("viewer")
    for query in (
        "?page=\u00b2",
        "?team=\u00b2",
        "?team=99999999999999999999999",
        "?q=" + "x" * 5000,
        "?q=%00",
    ):
        assert viewer.get(f"/console/volunteers{query}").status_code == 200, query[:20]
    assert viewer.get("/console/volunteers/99999999999999999999").status_code == 404


def test_abuse_on_a_volunteer_page_is_hidden_until_asked_for(
    two_volunteers: tuple[Phone, Phone], signed_in: SignedIn
) -> None:
    sam, _ = two_volunteers
    sam.send("you people are a bunch of b1tches")
    organizer = signed_in("organizer")
    link = re.search(
        r'<a href="(/console/volunteers/\d+)">Sam</a>',
        organizer.get("/console/volunteers").get_data(as_text=True),
    )
    assert link is not None
    page = organizer.get(link.group(1)).get_data(as_text=True)
    assert "b1tches" not in page and "Hidden: it may contain slurs or abuse." in page
    assert "b1tches" in organizer.get(link.group(1) + "?confirm=1").get_data(as_text=True)
