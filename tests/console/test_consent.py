"""Consent records: an organizer looks an address up in any usual format and sees its whole
history with the evidence; an admin records an opt-out by hand, with a reason, which takes back
whatever is still queued; nobody can record an opt-in from the console. Lookups are audited."""

from __future__ import annotations

import json
import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.delivery import consent, outbox
from gateway.extensions import db
from gateway.models import Address, AuditEntry, ConsentEvent, Message
from tests.console.conftest import SignedIn
from tests.doubles.sendgrid_api import EventSigner, SendGridApiDouble
from tests.support import Phone, Worker, csrf_token, email_member

NUMBER = "+15558675309"  # the phone fixture's


def history(browser: FlaskClient, address: str) -> list[list[str]]:
    """The consent history table as a person reads it: one list of cell texts per row."""
    page = browser.get("/console/consent", query_string={"address": address}).get_data(as_text=True)
    rows = re.findall(r"<tr>\s*(<td>.*?)</tr>", page, re.S)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in rows
    ]


def opt_out(browser: FlaskClient, address: str, reason: str, **extra: str) -> tuple[int, str]:
    token = csrf_token(browser, f"/console/consent?address={address}")
    response = browser.post(
        "/console/consent/opt-out",
        data={"csrf_token": token, "address": address, "reason": reason, **extra},
        follow_redirects=True,
    )
    return response.status_code, response.get_data(as_text=True)


def test_an_organizer_sees_a_numbers_whole_history_with_its_evidence(
    phone: Phone, console: Flask, signed_in: SignedIn
) -> None:
    phone.send("hi")
    phone.send("yes")
    phone.send("stop texting me")
    organizer = signed_in("organizer")

    for typed in ("(555) 867-5309", "555.867.5309", "+1 555 867 5309", "15558675309"):
        rows = history(organizer, typed)
        assert [row[1] for row in rows] == ["Opted in", "Opted out"], typed
    opted_in, opted_out = rows
    assert opted_in[2] == "sms" and "They texted it" in opted_in[3]
    assert re.search(r"Their text of .*: yes$", opted_in[4])
    assert re.search(r"Their text of .*: stop texting me$", opted_out[4])
    page = organizer.get("/console/consent?address=5558675309").get_data(as_text=True)
    assert "<strong>Opted out</strong>" in page
    assert "Record opt-out" not in page  # organizers look up; only admins record by hand
    with console.app_context():
        lookups = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "consent_lookup")).all()
        assert len(lookups) == 5 and {e.detail["address"] for e in lookups} == {"+1******5309"}
        assert all(NUMBER not in str(e.detail) for e in lookups)


def test_unknown_and_unreadable_addresses_are_said_so(console: Flask, signed_in: SignedIn) -> None:
    organizer = signed_in("organizer")
    response = organizer.get("/console/consent?address=(555) 000-1111")
    assert response.status_code == 200 and "No record of" in response.get_data(as_text=True)
    response = organizer.get("/console/consent?address=not a number")
    assert response.status_code == 400
    assert "neither a phone number nor an email" in response.get_data(as_text=True)
    assert organizer.get("/console/consent").status_code == 200  # the empty form
    # A NUL is dropped before the address is read: no address has one.
    response = organizer.get("/console/consent?address=sam%00@example.org")
    assert response.status_code == 200 and "No record of" in response.get_data(as_text=True)


def test_an_email_address_is_looked_up_too(console: Flask, signed_in: SignedIn) -> None:
    with console.app_context():
        from gateway.community import organization

        org = organization.default()
        address = Address(organization_id=org.id, channel="email", value="dana@example.org")
        db.session.add(address)
        db.session.flush()
        consent.record(address, "opt_out", "unsubscribe_link", channel="email")
        db.session.commit()
    rows = history(signed_in("organizer"), " Dana@Example.org ")
    assert [(row[1], row[2], row[3]) for row in rows] == [("Opted out", "email", "unsubscribe link")]


def test_a_members_email_ledger_shows_what_sendgrid_reported(
    console: Flask, signed_in: SignedIn, event_signer: EventSigner
) -> None:
    with console.app_context():
        email_member("sam@example.org")
    spam_report = [
        {
            "email": "sam@example.org",
            "timestamp": int(time.time()),
            "event": "spamreport",
            "sg_event_id": "c3BhbXJlcG9ydC0x",
            "sg_message_id": "14c5d75ce93.filterdrecv-1",
        }
    ]
    body = json.dumps(spam_report).encode()
    posted = console.test_client().post(
        "/webhooks/sendgrid/events", data=body, headers=event_signer.headers(body, int(time.time()))
    )
    assert posted.status_code == 204
    organizer = signed_in("organizer")

    rows = history(organizer, "Sam@Example.org")

    assert [row[1:4] for row in rows] == [
        ["Opted in", "email", "They confirmed their email address: test sign-up"],
        ["Opted out", "email", "They reported our email as spam: SendGrid: reported as spam"],
    ]
    page = organizer.get("/console/consent?address=sam@example.org").get_data(as_text=True)
    assert "<strong>Opted out</strong>: nothing is sent to this address." in page
    with console.app_context():
        lookups = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "consent_lookup")).all()
        assert [entry.detail for entry in lookups] == [{"address": "s***@example.org", "found": True}] * 2


def test_an_admin_opts_an_email_address_out_by_hand_and_the_queued_mailing_is_taken_back(
    console: Flask, signed_in: SignedIn, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    with console.app_context():
        outbox.queue_email(email_member("sam@example.org"), "Forum Thursday", "Come.", "mailing")
        db.session.commit()

    status, page = opt_out(signed_in("admin"), "sam@example.org", "Wrote to the office to stop the emails")

    assert status == 200 and "Opt-out recorded. 1 queued message was taken back." in page
    worker.run()
    assert sendgrid_api.sent == []
    with console.app_context():
        (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "consent_opt_out"))
        assert entry.detail == {"address": "s***@example.org", "channel": "email", "withdrawn": 1}


def test_an_admin_records_an_opt_out_by_hand_and_what_was_queued_is_taken_back(
    phone: Phone, console: Flask, signed_in: SignedIn
) -> None:
    phone.send("hi")
    phone.send("yes")
    sent = len(phone.replies())
    assert phone.post("Sam").status_code == 200
    phone.worker.answer()  # its reply is queued; the worker has not sent it
    admin = signed_in("admin")

    status, page = opt_out(admin, "(555) 867-5309", "Called the office and asked us to stop")

    assert status == 200 and "Opt-out recorded. 1 queued message was taken back." in page
    phone.worker.run()
    assert len(phone.replies()) == sent  # the reply never went
    with console.app_context():
        event = db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id.desc())).first()
        assert event is not None
        assert (event.kind, event.source, event.detail) == (
            "opt_out", "organizer", "Called the office and asked us to stop",
        )  # fmt: skip
        queued = db.session.scalars(
            select(Message).where(Message.direction == "outbound").order_by(Message.id)
        ).all()[-1]
        assert (queued.status, queued.history[-1].error_code) == ("suppressed", "opted_out")
        (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "consent_opt_out"))
        assert entry.detail == {"address": "+1******5309", "channel": "sms", "withdrawn": 1}
    assert phone.send("hello again") == []  # nothing but HELP and START is answered now
    status, page = opt_out(admin, NUMBER, "Again")
    assert "already opted out" in page


@pytest.mark.parametrize("reason", ["", "   ", "x" * 201])
def test_a_hand_opt_out_needs_a_reason(
    phone: Phone, console: Flask, signed_in: SignedIn, reason: str
) -> None:
    phone.send("hi")
    phone.send("yes")
    status, page = opt_out(signed_in("admin"), NUMBER, reason)
    assert status == 400 and "needs a reason" in page
    with console.app_context():
        assert db.session.scalars(select(ConsentEvent.kind).order_by(ConsentEvent.id)).all() == ["opt_in"]


def test_nobody_can_record_an_opt_in_from_the_console(
    phone: Phone, console: Flask, signed_in: SignedIn
) -> None:
    phone.send("hi")
    phone.send("yes")
    phone.send("STOP")
    admin = signed_in("admin")
    token = csrf_token(admin, f"/console/consent?address={NUMBER}")
    attempts = [
        ("/console/consent", {"address": NUMBER, "kind": "opt_in"}),
        (
            "/console/consent/opt-out",
            {"address": NUMBER, "kind": "opt_in", "reason": "They said yes on the phone"},
        ),
        ("/console/consent/opt-in", {"address": NUMBER, "reason": "They said yes on the phone"}),
    ]
    for path, data in attempts:
        assert admin.post(path, data={"csrf_token": token, **data}).status_code in (302, 404, 405)
    with console.app_context():
        kinds = db.session.scalars(select(ConsentEvent.kind).order_by(ConsentEvent.id)).all()
        assert kinds == ["opt_in", "opt_out"]  # only what the person texted
        assert not [
            rule.rule
            for rule in console.url_map.iter_rules()
            if "opt_in" in rule.rule or "opt-in" in rule.rule
        ]
    assert phone.send("hello") == []


@pytest.mark.parametrize("role", ["viewer", "organizer"])
def test_who_may_look_up_and_who_may_record(
    phone: Phone, console: Flask, signed_in: SignedIn, role: str
) -> None:
    phone.send("hi")
    phone.send("yes")
    browser = signed_in(role)
    # Viewers may not look up: a lookup tells whether a number is in the system at all.
    assert browser.get(f"/console/consent?address={NUMBER}").status_code == (403 if role == "viewer" else 200)
    token = csrf_token(browser, "/console/")
    response = browser.post(
        "/console/consent/opt-out", data={"csrf_token": token, "address": NUMBER, "reason": "x"}
    )
    assert response.status_code == 403
    with console.app_context():
        assert db.session.scalars(select(ConsentEvent.kind)).all() == ["opt_in"]
