"""What we learned: the phrases that recur in report notes and the interests of the people
volunteers talked with, week by week or month by month, each opening the reports behind it."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from gateway import clock
from gateway.community import organization
from gateway.extensions import db
from gateway.models import ConversationReport, Friend, Person
from tests.console.conftest import SignedIn

NOTES = [
    # (weeks ago, volunteer, their language, friend, friend's interests, outcome, note)
    (
        0,
        "Sam",
        "en",
        "Ruth",
        ["healthcare"],
        "open",
        "Ruth is worried about rent prices and the bus schedule",
    ),
    (
        0,
        "Sam",
        "en",
        "Maria",
        ["schools"],
        "committed",
        "Maria says rent prices pushed her sister out of town",
    ),
    (1, "Lee", "en", "Omar", ["rent"], "undecided", "Omar hates how rent prices keep climbing every year"),
    (3, "Lee", "en", "Ana", [], "open", "Ana wants a safer bus stop near the school"),
    (
        3,
        "Lee",
        "en",
        "Joe",
        ["transit"],
        "not_interested",
        "Joe thinks the bus stop is fine, rent prices too",
    ),
    (5, "Rosa", "es", "Luis", ["vivienda"], "open", "Luis dice que la renta subió mucho este año"),
    (
        5,
        "Rosa",
        "es",
        "Carmen",
        ["vivienda"],
        "committed",
        "Carmen también dice que la renta subió y quiere venir",
    ),
    (5, "Rosa", "es", "Pedro", [], "open", "Pedro se preocupa por la renta y por su trabajo"),
    (2, "Kim", "en", "Dee", [], "undecided", "Talked to Dee, undecided. Her landlord never fixes the heat"),
    (2, "Kim", "en", "Al", [], "undecided", "Talked with Al, still undecided about the landlord"),
    (20, "Sam", "en", "Old", [], "open", "rent prices long ago, before the range"),
]


def add_reports(app: Flask, notes: list[tuple]) -> None:  # type: ignore[type-arg]
    now = clock.now()
    with app.app_context():
        org = organization.default()
        people: dict[str, Person] = {}
        for weeks, volunteer, language, friend, interests, outcome, note in notes:
            if volunteer not in people:
                people[volunteer] = Person(
                    organization_id=org.id, name=volunteer, language=language, volunteer_since=now
                )
                db.session.add(people[volunteer])
                db.session.flush()
            person = people[volunteer]
            listed = Friend(organization_id=org.id, volunteer_id=person.id, name=friend, interests=interests)
            db.session.add(listed)
            db.session.flush()
            db.session.add(
                ConversationReport(
                    organization_id=org.id, volunteer_id=person.id, friend_id=listed.id, outcome=outcome,
                    learned=note, reported_at=now - timedelta(weeks=weeks, hours=1),
                )
            )  # fmt: skip
        db.session.commit()


def grid(page: str, caption: str) -> dict[str, list[int]]:
    """A grid's table as a person reads it: row name -> counts per period (oldest first)."""
    section = page.split(caption, 1)[1].split("</section>", 1)[0]
    rows = re.findall(r'<tr><th scope="row"><a href="[^"]*">([^<]+)</a></th>(.*?)</tr>', section)
    return {name: [int(n) for n in re.findall(r"<td>(\d+)</td>", cells)][:-1] for name, cells in rows}


def test_recurring_phrases_and_interests_show_by_week_with_the_reports_behind_them(
    console: Flask, signed_in: SignedIn
) -> None:
    add_reports(console, NOTES)
    viewer = signed_in("viewer")

    page = viewer.get("/console/learned").get_data(as_text=True)

    phrases = grid(page, "Words and phrases that recur")
    assert phrases["rent prices"][-4:] == [1, 0, 1, 2]  # three weeks ago, last week, this week
    assert sum(phrases["renta"]) == 3 and phrases["renta"][-6] == 3  # Spanish, five weeks ago
    assert "bus" in phrases or "bus stop" in phrases
    for name in ("ruth", "maria", "omar", "ana", "joe", "luis", "carmen", "pedro", "sam", "rosa"):
        assert not any(name in phrase.split() for phrase in phrases), name  # people are not phrases
    assert sum(phrases["landlord"]) == 2
    for stop in ("the", "and", "la", "que", "y", "por", "talked", "undecided"):  # and report words
        assert stop not in phrases
    assert "long ago" not in page  # the report from before the range is not counted
    interests = grid(page, "What the people they talked with care about")
    assert sum(interests["vivienda"]) == 2 and sum(interests["healthcare"]) == 1
    assert "<svg" in page and "<title>rent prices, " in page  # the picture, with the same figures

    behind = viewer.get("/console/learned?phrase=rent+prices").get_data(as_text=True)
    section = behind.split('id="behind"', 1)[1]
    assert "4 reports in the last 12 weeks" in section
    rows = re.findall(
        r"<tr><td>[\d-]+</td><td><a [^>]*>(\w+)</a></td><td>(\w+)</td><td>([\w ]+)</td><td>([^<]+)</td>",
        section,
    )
    assert sorted((volunteer, friend, outcome) for volunteer, friend, outcome, _ in rows) == [
        ("Lee", "Joe", "not interested"),
        ("Lee", "Omar", "undecided"),
        ("Sam", "Maria", "committed"),
        ("Sam", "Ruth", "open"),
    ]
    about = viewer.get("/console/learned?interest=vivienda").get_data(as_text=True)
    assert (
        "Luis dice que la renta" in about
        and "Carmen también" in about
        and "Pedro" not in about.split('id="behind"')[1]
    )


def test_by_month_and_a_new_report_shows_at_once(console: Flask, signed_in: SignedIn) -> None:
    add_reports(console, NOTES)
    viewer = signed_in("viewer")
    before = grid(viewer.get("/console/learned?period=month").get_data(as_text=True), "Words and phrases")
    assert sum(before["rent prices"]) == 5 and len(before["rent prices"]) == 12  # 20 weeks ago too

    add_reports(console, [(0, "Kim", "en", "Bo", [], "open", "Bo pays too much in rent prices now")])
    after = grid(viewer.get("/console/learned?period=month").get_data(as_text=True), "Words and phrases")
    assert sum(after["rent prices"]) == 6  # the figures are cached, but never past a new report


def test_with_no_reports_the_page_says_what_will_show(console: Flask, signed_in: SignedIn) -> None:
    browser: FlaskClient = signed_in("viewer")
    response = browser.get("/console/learned?period=fortnight&phrase=%00")
    assert response.status_code == 200
    assert "No phrase recurs yet" in response.get_data(as_text=True)
