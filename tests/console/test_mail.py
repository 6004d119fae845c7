"""Organizer email in the console: an organizer writes to an audience of members (everyone with
an email address, a team, the people going to an event), reads the preview (the email as members
will see it, footer included, and who is excluded and why, with names), confirms it by typing the
count, and the real worker sends one email per email-opted-in member through the real sendgrid
client to the SendGrid double. Nobody without a confirmed email address, nor anyone who
unsubscribed, gets it; a wrong or changed count sends nothing; a viewer cannot send."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from gateway.delivery import consent
from gateway.extensions import db
from gateway.models import Address, AuditEntry, Mailing, Message
from tests.conftest import ORGANIZATION_POSTAL_ADDRESS
from tests.console.conftest import SignedIn
from tests.doubles.sendgrid_api import SendGridApiDouble
from tests.members import TEAM_CODE, members_fixture  # noqa: F401 (a fixture)
from tests.support import Worker, csrf_token

BODY = "Hi friends,\n\nThe **forum** is *Thursday*. <script>alert(1)</script>\n"


def compose(
    browser: FlaskClient, subject: str = "Forum Thursday", body: str = BODY, **choice: str
) -> tuple[int, str]:
    """Write an email on the mail page and ask for its preview; (status, page)."""
    data = {
        "csrf_token": csrf_token(browser, "/console/mail"),
        "subject": subject,
        "body": body,
        **(choice or {"kind": "all"}),
    }
    # As the page's form posts it: multipart, so a long message is not tripled by percent-encoding.
    response = browser.post("/console/mail/preview", data=data, content_type="multipart/form-data")
    return response.status_code, response.get_data(as_text=True)


def will_get(page: str) -> int:
    match = re.search(r'id="will-get">(\d+)<', page)
    assert match, page
    return int(match[1])


def exclusions(page: str) -> dict[str, tuple[int, str]]:
    return {
        key: (int(count), names)
        for key, count, names in re.findall(
            r'data-reason="(\w+)"><td>[^<]+</td><td>(\d+)</td><td>([^<]*)</td>', page
        )
    }


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page) or re.search(
        rf'<textarea name="{name}" hidden>([^<]*)</textarea>', page
    )
    assert match, f"no {name} on the preview"
    return html.unescape(match[1])


def confirm(browser: FlaskClient, page: str, count: int | str) -> tuple[int, str, str]:
    """Type `count` into the preview's confirm form and send it; (status, location, page)."""
    data = {
        "csrf_token": csrf_token(browser, "/console/mail"),
        **{name: hidden(page, name) for name in ("audience", "previewed_at", "expected", "subject", "body")},
        "count": str(count),
    }
    response = browser.post("/console/mail", data=data, content_type="multipart/form-data")
    return response.status_code, response.headers.get("Location", ""), response.get_data(as_text=True)


def mailing_emails() -> list[Message]:
    return list(db.session.scalars(select(Message).where(Message.reason == "mailing").order_by(Message.id)))


def test_the_preview_shows_the_email_as_members_see_it_and_who_is_excluded_and_why(
    members: dict[str, int], signed_in: SignedIn, app: Flask
) -> None:
    status, page = compose(signed_in("organizer"))
    assert status == 200
    assert will_get(page) == 2  # Ana and Eve
    assert exclusions(page) == {
        "erased": (1, "(erased)"),
        "opted_out": (1, "Ben"),
        "no_opt_in": (1, "Cy"),
    }
    assert "Never confirmed their email address" in page
    # The body as members will see it: Markdown rendered, raw HTML shown as text, the footer.
    assert "<strong>forum</strong>" in page and "<em>Thursday</em>" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert ORGANIZATION_POSTAL_ADDRESS in page and ">Unsubscribe</a>" in page
    assert "@example.org" not in page  # names, never addresses
    assert "Send 2 emails" in page
    assert mailing_emails() == [] and db.session.scalar(select(func.count()).select_from(Mailing)) == 0


def test_a_mailing_reaches_each_opted_in_member_once_and_nobody_else(
    members: dict[str, int],
    signed_in: SignedIn,
    worker: Worker,
    sendgrid_api: SendGridApiDouble,
    app: Flask,
) -> None:
    organizer = signed_in("organizer")
    _, page = compose(organizer)

    # A wrong count sends nothing at all, and the preview says what to type.
    status, _, wrong = confirm(organizer, page, 3)
    assert status == 400 and "type the number the preview counted (2, not 3)" in wrong
    assert 'id="will-get">2<' in wrong
    worker.run()
    assert sendgrid_api.sent == [] and db.session.scalar(select(func.count()).select_from(Mailing)) == 0

    status, location, _ = confirm(organizer, page, 2)
    assert status == 303 and re.search(r"/console/mail/\d+$", location)
    worker.run()
    assert sorted(mail.to for mail in sendgrid_api.sent) == ["ana@example.org", "eve@example.org"]
    for mail in sendgrid_api.sent:
        assert mail.subject == "Forum Thursday"
        assert "<strong>forum</strong>" in mail.html and ORGANIZATION_POSTAL_ADDRESS in mail.text
        assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    listing = organizer.get("/console/mail").get_data(as_text=True)
    row = re.search(r'<tr id="mailing-\d+" data-status="(\w+)">(.*?)</tr>', listing, re.S)
    assert row and row[1] == "done"
    counts = dict(re.findall(r'data-count="([\w-]+)">(\d+)<', row[2]))
    assert counts == {"planned": "2", "sent": "2", "delivered": "0", "waiting": "0", "not-sent": "0"}
    assert "Forum Thursday" in row[2]

    mailing_page = organizer.get(location).get_data(as_text=True)
    assert '<span id="mailing-status">done</span>' in mailing_page and 'id="sent">2<' in mailing_page
    assert (
        "<strong>forum</strong>" in mailing_page and "never confirmed their email address 1" in mailing_page
    )
    mailing = db.session.scalar(select(Mailing))
    assert mailing is not None and (mailing.planned, mailing.audience, mailing.status) == (2, "all", "done")
    assert mailing.excluded == {"erased": 1, "opted_out": 1, "no_opt_in": 1}
    assert all(m.mailing_id == mailing.id and m.status == "sent" for m in mailing_emails())
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "mailing_sent"))
    assert entry is not None and (entry.detail["count"], entry.detail["audience"]) == (2, "all")
    assert "forum" not in str(entry.detail).lower() and "@" not in str(entry.detail)

    # Ana and Eve had today's email the organization started: a second one finds them over the cap.
    _, again = compose(organizer, subject="One more thing")
    assert will_get(again) == 0 and exclusions(again)["over_cap"] == (2, "Ana, Eve")
    assert "Nobody would get this email" in again and 'name="count"' not in again


def test_the_confirm_form_sent_twice_sends_one_mailing(
    members: dict[str, int], signed_in: SignedIn, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    organizer = signed_in("organizer")
    _, page = compose(organizer)
    first = confirm(organizer, page, 2)
    second = confirm(organizer, page, 2)
    assert first[0] == second[0] == 303 and first[1] == second[1]
    worker.run()
    assert len(sendgrid_api.sent) == 2
    assert db.session.scalar(select(func.count()).select_from(Mailing)) == 1


def test_another_email_previewed_in_another_tab_is_not_taken_for_a_double_send(
    members: dict[str, int], signed_in: SignedIn, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    organizer = signed_in("organizer")
    _, first = compose(organizer, subject="Forum Thursday")
    _, second = compose(organizer, subject="Bring a neighbor")
    assert confirm(organizer, second, 2)[0] == 303
    worker.run()
    # The first email is its own: checked again, and now over the daily cap for both.
    status, _, page = confirm(organizer, first, 2)
    assert status == 409 and "the count changed since the preview, from 2 to 0" in page
    worker.run()
    assert {mail.subject for mail in sendgrid_api.sent} == {"Bring a neighbor"}


def test_a_count_that_changed_since_the_preview_sends_nothing_and_says_so(
    members: dict[str, int], signed_in: SignedIn, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    organizer = signed_in("organizer")
    _, page = compose(organizer)
    eve = db.session.scalar(select(Address).where(Address.value == "eve@example.org"))
    assert eve is not None
    consent.opt_out(eve, "email_one_click")  # Eve unsubscribes while the organizer reads the preview
    db.session.commit()
    status, _, changed = confirm(organizer, page, 2)
    assert status == 409
    assert "Not sent: the count changed since the preview, from 2 to 1" in changed
    assert will_get(changed) == 1 and exclusions(changed)["opted_out"] == (2, "Eve, Ben")
    worker.run()
    assert sendgrid_api.sent == [] and db.session.scalar(select(func.count()).select_from(Mailing)) == 0


def test_team_and_event_audiences(
    members: dict[str, int], signed_in: SignedIn, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    organizer = signed_in("organizer")
    _, team = compose(organizer, kind="team", team=TEAM_CODE.lower())
    assert will_get(team) == 1  # Ana
    assert exclusions(team) == {"no_email": (1, "Dee"), "opted_out": (1, "Ben")}

    _, event = compose(organizer, kind="event", event=str(members["event"]))
    assert will_get(event) == 1  # Ana; Eve is not going
    assert exclusions(event) == {"no_opt_in": (1, "Cy")}
    status, _, _ = confirm(organizer, event, 1)
    assert status == 303
    worker.run()
    assert [mail.to for mail in sendgrid_api.sent] == ["ana@example.org"]
    assert db.session.scalar(select(Mailing.audience)) == f"event:{members['event']}"


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"kind": "team", "team": "NOPE1"}, "No team has the join code"),
        ({"kind": "event", "event": "99999"}, "No event has the id"),
        ({"kind": "event", "event": "٣"}, "No event has the id"),
        ({"kind": "everyone"}, "Choose an audience"),
        ({"kind": "all", "subject": "  "}, "Write a subject"),
        ({"kind": "all", "subject": "x" * 201}, "at most 200"),
        ({"kind": "all", "body": " \n "}, "Write the message"),
        ({"kind": "all", "body": "é" * 50_001}, "at most 100,000"),
    ],
)
def test_a_draft_or_audience_that_cannot_be_sent_is_a_clear_error_and_keeps_what_was_written(
    members: dict[str, int], signed_in: SignedIn, fields: dict[str, str], problem: str
) -> None:
    choice = dict(fields)  # the parameters are shared by the SQLite and PostgreSQL runs
    subject = choice.pop("subject", "Forum Thursday")
    status, page = compose(signed_in("organizer"), subject=subject, body=choice.pop("body", BODY), **choice)
    assert status == 400 and problem in page
    if subject.strip() and len(subject) <= 200:
        assert f'value="{subject}"' in page  # the compose form keeps what was written


def test_a_subject_on_two_lines_is_sent_on_one(
    members: dict[str, int], signed_in: SignedIn, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    organizer = signed_in("organizer")
    _, page = compose(organizer, subject="Forum\r\nBcc: everyone@example.com")
    assert "Forum Bcc: everyone@example.com" in page
    assert confirm(organizer, page, 2)[0] == 303
    worker.run()
    assert {mail.subject for mail in sendgrid_api.sent} == {"Forum Bcc: everyone@example.com"}


def test_edit_from_the_preview_brings_back_the_email_as_written(
    members: dict[str, int], signed_in: SignedIn
) -> None:
    organizer = signed_in("organizer")
    _, page = compose(organizer, kind="team", team=TEAM_CODE)
    data = {
        "csrf_token": csrf_token(organizer, "/console/mail"),
        **{name: hidden(page, name) for name in ("audience", "previewed_at", "expected", "subject", "body")},
        "edit": "1",
    }
    edit = organizer.post("/console/mail/preview", data=data).get_data(as_text=True)
    assert 'value="Forum Thursday"' in edit and "The **forum** is *Thursday*." in edit
    assert 'value="team" checked' in edit and f'value="{TEAM_CODE}" selected' in edit


def test_a_viewer_sees_the_mailings_but_cannot_preview_or_send(
    members: dict[str, int], signed_in: SignedIn, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    organizer = signed_in("organizer")
    _, page = compose(organizer)
    _, location, _ = confirm(organizer, page, 2)
    viewer = signed_in("viewer")
    listing = viewer.get("/console/mail").get_data(as_text=True)
    assert location.removeprefix("http://localhost") in listing and "Write an email" not in listing
    assert "Forum Thursday" in viewer.get(location).get_data(as_text=True)
    token = csrf_token(viewer, "/console/mail")
    data = {"kind": "all", "subject": "Hi", "body": "Hello", "csrf_token": token}
    assert viewer.post("/console/mail/preview", data=data).status_code == 403
    fields = {
        name: hidden(page, name) for name in ("audience", "previewed_at", "expected", "subject", "body")
    }
    assert viewer.post("/console/mail", data={**fields, "count": "2", "csrf_token": token}).status_code == 403
    worker.run()
    assert len(sendgrid_api.sent) == 2  # the organizer's one mailing, nothing from the viewer


def test_with_email_turned_off_the_page_says_so_and_nothing_can_be_sent(
    members: dict[str, int], signed_in: SignedIn, app: Flask, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    organizer = signed_in("organizer")
    _, page = compose(organizer)
    app.config["EMAIL_TRANSPORT"] = "none"
    listing = organizer.get("/console/mail").get_data(as_text=True)
    assert "Email is turned off here" in listing and "Write an email" not in listing
    status, _, refused = confirm(organizer, page, 2)
    assert status == 409 and "nothing was sent" in refused
    assert compose(organizer)[0] == 409
    worker.run()
    assert sendgrid_api.sent == [] and db.session.scalar(select(func.count()).select_from(Mailing)) == 0
