"""The dashboard shows the relational work: conversations reported, where friends stand on the
ladder, and what volunteers learned, never messages sent."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask

from gateway import clock
from gateway.community import organization
from gateway.extensions import db
from gateway.models import Address, ConversationReport, Friend, Message, Person
from tests.console.conftest import SignedIn
from tests.support import Phone


def test_a_reported_conversation_shows_on_the_dashboard(phone: Phone, signed_in: SignedIn) -> None:
    for text in ("hi", "yes", "Sam", "my grandma Ruth", "medicare, her church"):
        phone.send(text)
    phone.send("talked sunday, she's worried about prices but open to coming to the forum")

    page = signed_in("viewer").get("/console/").get_data(as_text=True)

    figures = dict(
        (label, int(n)) for n, label in re.findall(r'"figure">(\d+)</div><div class="label">([^<]+)<', page)
    )
    assert figures == {
        "conversations reported this week": 1,
        "conversations reported in all": 1,
        "volunteers who joined": 1,
        "volunteers active this week": 1,
        "joined through an invite in the last 4 weeks": 0,
        "opt-outs this week": 0,
    }
    rows = dict(re.findall(r"<tr><td>([\w ]+)</td><td>(\d+)</td>", page))
    ladder = {stage: rows[stage] for stage in ("listed", "talked", "open", "committed", "joined")}
    assert ladder == {"listed": "0", "talked": "0", "open": "1", "committed": "0", "joined": "0"}
    assert (rows["healthcare"], rows["church"]) == ("1", "1")  # what Ruth cares about
    assert re.search(r"<title>Week of [\d-]+: 1 open</title>", page)  # this week's bar in the chart
    assert "worried about prices" in page
    assert "messages sent" not in page.lower()


def test_retention_counts_who_still_texts_weeks_after_joining(console: Flask, signed_in: SignedIn) -> None:
    now = clock.now()
    joined = now - timedelta(weeks=13)
    with console.app_context():
        org = organization.default()
        for name, active in (
            ("Stays", now - timedelta(days=2)),  # past 12 weeks and still here
            ("Also stays", joined + timedelta(weeks=12, days=1)),
            ("Left at five weeks", joined + timedelta(weeks=5)),
            ("Never texted again", None),
        ):
            db.session.add(
                Person(organization_id=org.id, name=name, volunteer_since=joined, last_active_at=active)
            )
        db.session.add(Person(organization_id=org.id, name="New", volunteer_since=now - timedelta(days=3)))
        db.session.commit()

    page = signed_in("viewer").get("/console/").get_data(as_text=True)

    assert "<strong>75%</strong> still texting 4 weeks after joining" in page
    assert "(3 of the 4 who joined 4+ weeks ago)" in page
    assert "<strong>50%</strong> still texting 12 weeks after joining" in page
    assert "Volunteers active this week: <strong>2</strong> of 5." in page  # the first two


def test_delivery_problems_say_what_happened_without_the_number(console: Flask, signed_in: SignedIn) -> None:
    with console.app_context():
        org = organization.default()
        person = Person(organization_id=org.id, name="Lee", volunteer_since=clock.now())
        db.session.add(person)
        db.session.flush()
        address = Address(organization_id=org.id, person_id=person.id, channel="sms", value="+12125550177")
        db.session.add(address)
        db.session.flush()
        for status, code in (("failed", "30007"), ("suppressed", "opted_out")):
            db.session.add(
                Message(
                    organization_id=org.id, direction="outbound", channel="sms", address_id=address.id,
                    body="Reminder", status=status, reason="reminder", error_code=code,
                )
            )  # fmt: skip
        db.session.commit()

    page = signed_in("viewer").get("/console/").get_data(as_text=True)

    assert "1 text failed and 1 was held back by the consent guard this week" in page
    assert "The carrier filtered it as possible spam. (error 30007)" in page
    assert "Not sent: the recipient had opted out." in page
    assert "+12125550177" not in page and "+1******0177" in page


def test_each_conversation_counts_in_the_week_it_was_reported(console: Flask, signed_in: SignedIn) -> None:
    now = clock.now()
    with console.app_context():
        org = organization.default()
        sam = Person(organization_id=org.id, name="Sam", volunteer_since=now - timedelta(weeks=20))
        db.session.add(sam)
        db.session.flush()
        ruth = Friend(organization_id=org.id, volunteer_id=sam.id, name="Ruth", stage="open")
        db.session.add(ruth)
        db.session.flush()
        for outcome, ago in (
            ("open", timedelta(days=1)),
            ("committed", timedelta(days=8)),
            ("committed", timedelta(days=9)),
            ("not_reached", timedelta(weeks=11, days=6)),  # the oldest week shown
            ("open", timedelta(weeks=13)),  # before the chart
        ):
            db.session.add(
                ConversationReport(
                    organization_id=org.id, volunteer_id=sam.id, friend_id=ruth.id, outcome=outcome,
                    reported_at=now - ago,
                )
            )  # fmt: skip
        db.session.commit()

    page = signed_in("viewer").get("/console/").get_data(as_text=True)

    table = page[page.index("<summary>The same as a table</summary>") :]
    weeks = re.findall(r"<tr><td>[\d-]+</td>((?:<td>\d+</td>)+)</tr>", table)
    counts = [[int(n) for n in re.findall(r"\d+", week)] for week in weeks]
    # Newest week first; columns: committed, open, undecided, not interested, not reached, all.
    assert len(counts) == 12
    assert counts[0] == [0, 1, 0, 0, 0, 1]
    assert counts[1] == [2, 0, 0, 0, 0, 2]
    assert counts[-1] == [0, 0, 0, 0, 1, 1]
    assert sum(week[-1] for week in counts) == 4
    assert '"figure">5</div><div class="label">conversations reported in all' in page
