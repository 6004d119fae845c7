"""The `kindred` command: db upgrade, export (CSV columns and spreadsheet-safe cells)."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from gateway import migrate
from gateway.community.exports import safe_cell
from gateway.extensions import db
from gateway.models import AuditEntry, Friend, Message
from tests.processes import VENV_BIN
from tests.support import Phone

HEADERS = {
    "consent": ["address", "channel", "status", "changed_at", "source"],
    "volunteers": ["phone", "name", "status", "joined_at"],
    "friends": ["volunteer_phone", "friend_name", "relationship", "interests", "stage", "added_at"],
    "reports": ["volunteer_phone", "friend_name", "outcome", "learned", "reported_at"],
    "messages": ["provider_id", "direction", "address", "status", "reason", "created_at"],
}


def export(app: Flask, kind: str) -> list[dict[str, str]]:
    result = app.test_cli_runner().invoke(args=["export", kind])
    assert result.exit_code == 0, result.output
    reader = csv.DictReader(io.StringIO(result.output))
    assert reader.fieldnames == HEADERS[kind]
    return list(reader)


@pytest.fixture
def volunteer(phone: Phone) -> Phone:
    for text in (
        "hi",
        "yes",
        "Sam",
        "ADD Maria, neighbor, cares about schools and rent",
        "talked to Maria, she's in!",
    ):
        phone.send(text)
    return phone


def test_exports_have_the_documented_columns_and_the_volunteers_data(app: Flask, volunteer: Phone) -> None:
    (consent,) = export(app, "consent")
    assert consent["address"] == volunteer.number and consent["status"] == "opted_in"
    assert consent["source"] == "sms_keyword" and consent["changed_at"]

    (person,) = export(app, "volunteers")
    assert (person["phone"], person["name"], person["status"]) == (
        volunteer.number,
        "Sam",
        "active",
    )

    (friend,) = export(app, "friends")
    assert friend["volunteer_phone"] == volunteer.number
    assert (friend["friend_name"], friend["relationship"], friend["stage"]) == (
        "Maria",
        "neighbor",
        "committed",
    )
    assert friend["interests"] == "schools;housing"

    (report,) = export(app, "reports")
    assert (report["friend_name"], report["outcome"]) == ("Maria", "committed")
    assert report["learned"] == "talked to Maria, she's in!"

    messages = export(app, "messages")
    assert {m["direction"] for m in messages} == {"inbound", "outbound"}
    assert all(m["provider_id"].startswith("SM") for m in messages)
    assert len(messages) == db.session.query(Message).count()


def test_export_escapes_cells_a_spreadsheet_would_run(app: Flask, volunteer: Phone) -> None:
    friend = db.session.scalars(select(Friend)).one()
    friend.name = '=HYPERLINK("http://evil.example")'
    db.session.commit()
    (row,) = export(app, "friends")
    assert row["friend_name"] == '\'=HYPERLINK("http://evil.example")'
    assert row["volunteer_phone"] == volunteer.number  # E.164 stays a plain number


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1 (555) 201", "'+1 (555) 201"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("+15558675309", "+15558675309"),
        ("Maria", "Maria"),
        (None, ""),
    ],
)
def test_safe_cell(value: str | None, cell: str) -> None:
    assert safe_cell(value) == cell


def test_export_rejects_an_unknown_kind(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["export", "phone-list"])
    assert result.exit_code == 2 and "Invalid value" in result.output


def test_db_upgrade_is_idempotent_and_seeds_the_organization(app: Flask) -> None:
    for _ in range(2):
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert f"database at {migrate.heads()[0]}" in result.output


def test_kindred_worker_burst_sends_what_is_queued(app: Flask, phone: Phone) -> None:
    assert phone.post("hi").status_code == 200
    assert phone.replies() == []  # accepted and queued; no worker has run yet
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    (terms,) = phone.replies()
    assert "Reply YES to join" in terms


def test_every_export_is_in_the_audit_log(app: Flask, volunteer: Phone) -> None:
    export(app, "volunteers")
    export(app, "friends")

    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all()
        assert [entry.detail["kind"] for entry in entries] == ["volunteers", "friends"]
        assert all(entry.actor.endswith("(command line)") and entry.ip for entry in entries)


def unconfigured(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `kindred ARGS` as a newcomer might before anything is set up: no variables, no
    instance folder with settings."""
    env = {
        "PATH": f"{VENV_BIN}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "KINDRED_INSTANCE": str(tmp_path / "instance"),
    }
    return subprocess.run(
        [str(VENV_BIN / "kindred"), *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_lists_every_command_before_anything_is_configured(tmp_path: Path) -> None:
    shown = unconfigured(tmp_path, "--help")
    assert shown.returncode == 0
    listed = shown.stdout.split("Commands:")[1].split()
    for command in ("demo", "worker", "db", "rounds", "prompts", "export", "org", "organizer", "seed-demo"):
        assert command in listed
    assert "Traceback" not in shown.stderr


def test_a_command_run_before_anything_is_configured_says_what_is_missing_in_one_line(tmp_path: Path) -> None:
    ran = unconfigured(tmp_path, "worker", "--burst")
    assert ran.returncode == 1
    assert ran.stderr.startswith("kindred: SECRET_KEY is not set") and "Traceback" not in ran.stderr
