"""Settings (admins): the organization's name, contact, number, HELP line, pacing, interests and
names for the ladder stages, checked as `kindred org set` checks them, audited, and seen where
they matter: in HELP replies, in what volunteers are asked, and on every console page."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.community import organization
from gateway.extensions import db
from gateway.models import AuditEntry, Friend, Organization
from tests.console.conftest import SignedIn
from tests.support import Phone, csrf_token


def current_fields(browser: FlaskClient) -> dict[str, str]:
    """The settings form as the page fills it in, as a browser would submit it unchanged."""
    page = browser.get("/console/settings").get_data(as_text=True)
    fields = dict(re.findall(r'<input [^>]*name="([\w_]+)"[^>]*value="([^"]*)"', page))
    fields |= {
        name: value.strip("\n")
        for name, value in re.findall(r'<textarea [^>]*name="([\w_]+)"[^>]*>([^<]*)</textarea>', page)
    }
    for name in re.findall(r'<input [^>]*name="([\w_]+)"', page):
        fields.setdefault(name, "")
    for box in re.findall(r'<input [^>]*type="checkbox"[^>]*>', page):
        if " checked" not in box:  # a browser sends a box only when it is ticked
            fields.pop(re.search(r'name="([\w_]+)"', box).group(1))
    fields["csrf_token"] = csrf_token(browser, "/console/settings")
    return fields


def save(browser: FlaskClient, **changes: str) -> tuple[int, str]:
    response = browser.post(
        "/console/settings", data=current_fields(browser) | changes, follow_redirects=True
    )
    return response.status_code, response.get_data(as_text=True)


def test_an_admin_changes_the_settings_and_they_show_where_they_matter(
    phone: Phone, console: Flask, signed_in: SignedIn
) -> None:
    for text in ("hi", "yes", "Sam", "my grandma Ruth", "medicare, her church"):
        phone.send(text)
    admin = signed_in("admin")

    status, page = save(
        admin,
        name="Eastside Neighbors United",
        help_text="Office hours Mon-Fri 9-5.",
        window_start="10",
        window_end="19",
        daily_cap="2",
        weekly_cap="5",
        interests="rent\nschools\nBus routes\nrent",
        stage_open="Curious",
    )

    assert status == 200 and "Saved." in page
    with console.app_context():
        org = organization.default()
        assert (org.name, org.window_start_hour, org.window_end_hour, org.daily_cap, org.weekly_cap) == (
            "Eastside Neighbors United", 10, 19, 2, 5,
        )  # fmt: skip
        assert org.interests == ["rent", "schools", "bus routes"]
        assert org.stage_labels == {"open": "Curious"}
        ruth = db.session.scalars(select(Friend)).one()
        assert set(ruth.interests) == {"healthcare", "church"}  # friends keep what they were told
        (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "settings_changed"))
        assert entry.actor.startswith("admin-") and entry.detail["window_start_hour"] == 10
        assert set(entry.detail) == {
            "name", "help_text", "window_start_hour", "window_end_hour", "daily_cap", "weekly_cap",
            "interests", "stage_labels",
        }  # fmt: skip
    help_reply = phone.reply_to("HELP")
    assert "Eastside Neighbors United" in help_reply and "Office hours Mon-Fri 9-5." in help_reply
    assert "STOP" in help_reply
    dashboard = signed_in("viewer").get("/console/").get_data(as_text=True)
    assert "<tr><td>Curious</td><td>0</td>" in dashboard  # Ruth is listed; the open stage is named
    assert "<tr><td>open</td>" not in dashboard
    volunteers = admin.get("/console/volunteers").get_data(as_text=True)
    assert '<option value="open">Curious</option>' in volunteers


def test_saving_unchanged_settings_records_nothing(console: Flask, signed_in: SignedIn) -> None:
    admin = signed_in("admin")
    status, page = save(admin)
    assert status == 200 and "Nothing changed." in page
    with console.app_context():
        assert (
            db.session.scalars(select(AuditEntry).where(AuditEntry.action == "settings_changed")).all() == []
        )


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"window_start": "7", "window_end": "20"}, "within 8:00 and 21:00"),
        ({"window_start": "10", "window_end": "22"}, "within 8:00 and 21:00"),
        ({"window_start": "12", "window_end": "12"}, "start before it ends"),
        ({"daily_cap": "3", "weekly_cap": "2"}, "weekly cap can&#39;t be below the daily cap"),
        ({"daily_cap": "0"}, "must be from 1 to 10"),
        ({"timezone": "Mars/Base"}, "is not an IANA time zone"),
        ({"timezone": "America"}, "is not an IANA time zone"),  # a folder of zones, not one
        ({"window_start": "nine"}, "Not a valid integer value"),
        ({"name": ""}, "This field is required"),
        ({"help_text": "x" * 161}, "160 characters or fewer"),
        ({"interests": "\n"}, "name at least one interest"),
    ],
)
def test_unsafe_or_broken_settings_are_refused_with_a_reason_and_nothing_changes(
    console: Flask, signed_in: SignedIn, changes: dict[str, str], complaint: str
) -> None:
    admin = signed_in("admin")
    status, page = save(admin, **({"name": "Changed too"} | changes))
    assert status == 400 and complaint in page and "Not saved" in page
    with console.app_context():
        org = db.session.scalars(select(Organization)).one()
        assert org.name != "Changed too"
        assert (org.window_start_hour, org.window_end_hour, org.daily_cap, org.weekly_cap) == (9, 20, 1, 4)


@pytest.mark.parametrize("role", ["viewer", "organizer"])
def test_only_admins_see_or_change_the_settings(console: Flask, signed_in: SignedIn, role: str) -> None:
    browser = signed_in(role)
    assert browser.get("/console/settings").status_code == 403
    token = csrf_token(browser, "/console/")
    assert (
        browser.post("/console/settings", data={"csrf_token": token, "name": "Taken over"}).status_code == 403
    )
    assert 'href="/console/settings"' not in browser.get("/console/").get_data(as_text=True)
    with console.app_context():
        assert db.session.scalars(select(Organization)).one().name != "Taken over"
