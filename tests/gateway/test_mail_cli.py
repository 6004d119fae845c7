"""`kindred mail`: the command line previews an organizer email (who gets it, who is excluded and
why) and sends it only when `--confirm` names the count it would reach now; the real worker then
sends one email per email-opted-in member through the SendGrid double, and the audit log names
the command line as who sent it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from gateway.extensions import db
from gateway.models import Address, AuditEntry, Mailing, Person
from tests.doubles.sendgrid_api import SendGridApiDouble
from tests.members import TEAM_CODE, members_fixture  # noqa: F401 (a fixture)
from tests.support import Worker

BODY = "Hi all,\n\nThe **rent forum** is Thursday at 6:30. Bring a neighbor!\n"


@pytest.fixture
def body_file(tmp_path: Path) -> Path:
    path = tmp_path / "forum.md"
    path.write_text(BODY, encoding="utf-8")
    return path


def mail(app: Flask, *args: str, input: str | None = None) -> Result:
    return app.test_cli_runner().invoke(args=["mail", *args], input=input)


def test_preview_prints_the_count_and_exclusions_and_send_needs_that_count(
    members: dict[str, int], app: Flask, body_file: Path, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    draft = ["--subject", "Rent forum Thursday", "--body-file", str(body_file)]
    preview = mail(app, "preview", "--audience", "all", *draft)
    assert preview.exit_code == 0, preview.output
    assert preview.output.splitlines() == [
        "2 will get this email",
        "erased 1",
        "opted_out 1",
        "no_opt_in 1",
    ]

    wrong = mail(app, "send", "--audience", "all", *draft, "--confirm", "3")
    assert wrong.exit_code == 1
    assert "2 would get this email now, not 3: nothing was sent" in wrong.output
    worker.run()
    assert sendgrid_api.sent == [] and db.session.scalar(select(func.count()).select_from(Mailing)) == 0

    sent = mail(app, "send", "--audience", "all", *draft, "--confirm", "2")
    assert sent.exit_code == 0 and "2 queued for all" in sent.output
    worker.run()
    assert sorted(m.to for m in sendgrid_api.sent) == ["ana@example.org", "eve@example.org"]
    assert all("<strong>rent forum</strong>" in m.html for m in sendgrid_api.sent)
    listing = mail(app, "list")
    assert "\tall\tdone\tplanned 2, sent 2," in listing.output
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "mailing_sent"))
    assert entry is not None and "(command line)" in entry.actor and entry.detail["count"] == 2

    # Sent today: a second email now finds both over the daily cap.
    again = mail(app, "preview", "--audience", "all", *draft)
    assert again.output.splitlines()[:2] == ["0 will get this email", "erased 1"]
    assert "over_cap 2" in again.output


def test_the_body_can_come_from_standard_input_and_audiences_narrow_it(
    members: dict[str, int], app: Flask, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    draft = ["--subject", "Team news", "--body-file", "-"]
    team = mail(app, "preview", "--audience", f"team:{TEAM_CODE}", *draft, input=BODY)
    assert team.output.splitlines() == ["1 will get this email", "no_email 1", "opted_out 1"]
    event = f"event:{members['event']}"
    sent = mail(app, "send", "--audience", event, *draft, "--confirm", "1", input=BODY)
    assert sent.exit_code == 0, sent.output
    worker.run()
    assert [(m.to, m.subject) for m in sendgrid_api.sent] == [("ana@example.org", "Team news")]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--audience", "team:NOPE1"], "no team has the join code"),
        (["--audience", "event:x"], "no event has the id"),
        (["--audience", "event:9999999999"], "no event has the id"),  # past PostgreSQL's integer
        (["--audience", "stage:open"], "choose an audience: all, team:CODE or event:ID"),
        (["--audience", "all", "--subject", ""], "write a subject"),
    ],
)
def test_what_cannot_be_sent_is_a_clear_error_and_sends_nothing(
    members: dict[str, int], app: Flask, body_file: Path, args: list[str], problem: str
) -> None:
    options = ["--subject", "Hello", "--body-file", str(body_file), *args]
    for command in (["preview"], ["send", "--confirm", "2"]):
        result = mail(app, *command, *options)
        assert result.exit_code == 2 and problem in result.output, result.output
    assert db.session.scalar(select(func.count()).select_from(Mailing)) == 0


def test_a_body_file_that_is_not_utf8_is_refused(members: dict[str, int], app: Flask, tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.md"
    latin1.write_bytes("Reunión el jueves".encode("latin-1"))
    result = mail(app, "preview", "--audience", "all", "--subject", "Hola", "--body-file", str(latin1))
    assert result.exit_code == 2 and "not UTF-8" in result.output


def test_with_email_turned_off_nothing_is_sent(
    members: dict[str, int], app: Flask, body_file: Path, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    app.config["EMAIL_TRANSPORT"] = "none"
    draft = ["--audience", "all", "--subject", "Hi", "--body-file", str(body_file)]
    assert "email is turned off here" in mail(app, "preview", *draft).output
    result = mail(app, "send", *draft, "--confirm", "2")
    assert result.exit_code == 1 and "nothing was sent" in result.output
    worker.run()
    assert sendgrid_api.sent == [] and db.session.scalar(select(func.count()).select_from(Mailing)) == 0


def test_a_member_with_two_addresses_is_mailed_at_the_one_they_confirmed(
    members: dict[str, int], app: Flask, body_file: Path, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    ana = db.session.scalar(select(Person).where(Person.name == "Ana"))
    assert ana is not None
    # A newer address of Ana's, never confirmed (a new sign-up, say): the confirmed one is used.
    db.session.add(
        Address(
            organization_id=ana.organization_id, person_id=ana.id, channel="email", value="ana@work.example"
        )
    )
    db.session.commit()
    draft = ["--subject", "Rent forum Thursday", "--body-file", str(body_file)]
    assert mail(app, "preview", "--audience", "all", *draft).output.splitlines()[0] == "2 will get this email"
    assert mail(app, "send", "--audience", "all", *draft, "--confirm", "2").exit_code == 0
    worker.run()
    assert sorted(m.to for m in sendgrid_api.sent) == ["ana@example.org", "eve@example.org"]
