"""Exports from the console: the same CSV as `kindred export`, streamed, for admins only, and in
the audit log before any row leaves."""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask
from sqlalchemy import select

from gateway.community import exports, organization
from gateway.delivery import consent
from gateway.extensions import db
from gateway.models import AuditEntry, ConversationReport
from tests.console.conftest import SignedIn
from tests.support import Phone, email_member


@pytest.fixture
def volunteer(phone: Phone) -> Phone:
    """A volunteer who joined, listed a friend with interests, reported on them, then a second
    phone that opted out: every export has rows."""
    for text in ("hi", "yes", "Sam", "my grandma Ruth", "medicare, her church"):
        phone.send(text)
    phone.send("talked sunday, she's worried about =prices but open to coming to the forum")
    return phone


@pytest.mark.parametrize("kind", sorted(exports.EXPORTS))
def test_a_download_is_the_commands_csv(
    console: Flask, volunteer: Phone, signed_in: SignedIn, kind: str
) -> None:
    admin = signed_in("admin")
    response = admin.get(f"/console/exports/download?kind={kind}")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv" and f"kindred-{kind}-" in response.headers["Content-Disposition"]
    downloaded = response.get_data(as_text=True)
    command = console.test_cli_runner().invoke(args=["export", kind]).stdout_bytes.decode()
    assert downloaded == command
    assert len(downloaded.splitlines()) >= 2  # the header and the volunteer's rows


def test_rows_come_in_chunks_and_all_of_them_arrive(console: Flask, volunteer: Phone) -> None:
    with console.app_context():
        (first,) = db.session.scalars(select(ConversationReport)).all()
        for n in range(4):
            db.session.add(
                ConversationReport(
                    organization_id=first.organization_id, volunteer_id=first.volunteer_id,
                    friend_id=first.friend_id, outcome="open", learned=f"visit {n}",
                )
            )  # fmt: skip
        db.session.commit()
        chunks = list(exports.csv_chunks(organization.default(), "reports", rows_per_chunk=2))
    assert chunks[0].splitlines()[0] == ",".join(exports.EXPORTS["reports"][0])
    assert len(chunks) == 4  # header + first row at once, then two at a time: 1, 2, 2
    assert sum(len(chunk.splitlines()) for chunk in chunks) == 1 + 5


def test_every_download_is_audited_with_who_and_which(
    console: Flask, volunteer: Phone, signed_in: SignedIn
) -> None:
    admin = signed_in("admin")
    page = admin.get("/console/exports").get_data(as_text=True)
    for kind in exports.EXPORTS:
        assert f'href="/console/exports/download?kind={kind}"' in page
    admin.get("/console/exports/download?kind=volunteers").get_data()
    admin.get("/console/exports/download?kind=reports").get_data()
    assert admin.get("/console/exports/download?kind=phone-list").status_code == 404
    with console.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all()
        assert [(e.actor.split("-")[0], e.detail) for e in entries] == [
            ("admin", {"kind": "volunteers"}),
            ("admin", {"kind": "reports"}),
        ]


@pytest.mark.parametrize("role", ["viewer", "organizer"])
def test_exports_hold_phone_numbers_so_only_admins_download_them(
    console: Flask, volunteer: Phone, signed_in: SignedIn, role: str
) -> None:
    browser = signed_in(role)
    assert browser.get("/console/exports").status_code == 403
    response = browser.get("/console/exports/download?kind=volunteers")
    assert response.status_code == 403 and volunteer.number not in response.get_data(as_text=True)
    with console.app_context():
        assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all() == []


def test_the_consent_export_says_where_each_email_address_stands_beside_the_phones(
    console: Flask, volunteer: Phone, signed_in: SignedIn
) -> None:
    with console.app_context():
        email_member("sam@example.org")
        dana = email_member("dana@example.org")
        consent.opt_out(dana, "sendgrid_bounce", "SendGrid: bounced 5.1.1")
        email_member("lee@example.org", opted_in=False)
        db.session.commit()

    download = signed_in("admin").get("/console/exports/download?kind=consent").get_data(as_text=True)

    rows = {row["address"]: row for row in csv.DictReader(io.StringIO(download))}
    assert {address: (row["channel"], row["status"], row["source"]) for address, row in rows.items()} == {
        volunteer.number: ("sms", "opted_in", "sms_keyword"),
        "sam@example.org": ("email", "opted_in", "email_confirmed"),
        "dana@example.org": ("email", "opted_out", "sendgrid_bounce"),
        "lee@example.org": ("email", "unknown", ""),
    }
    assert rows["dana@example.org"]["changed_at"] >= rows["sam@example.org"]["changed_at"] > ""


def test_members_who_only_gave_an_email_are_not_listed_as_volunteers(
    console: Flask, volunteer: Phone, signed_in: SignedIn
) -> None:
    with console.app_context():
        email_member("sam@example.org")

    download = signed_in("admin").get("/console/exports/download?kind=volunteers").get_data(as_text=True)

    rows = list(csv.DictReader(io.StringIO(download)))
    assert [(row["phone"], row["status"]) for row in rows] == [(volunteer.number, "active")]
