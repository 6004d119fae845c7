"""`kindred org`: organizers set the calling window and caps; the outbox follows them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway import jobs
from gateway.extensions import db
from gateway.models import AuditEntry, FollowUp, Message, Organization
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import Phone, SettableClock, Worker

NEW_YORK = ZoneInfo("America/New_York")


def kindred(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def test_show_has_the_defaults_and_the_sending_number(app: Flask) -> None:
    code, output = kindred(app, "org", "show")
    assert code == 0
    for line in (
        "name: Eastside Neighbors",
        "phone: (500) 555-0006",
        "calling window: 9:00 to 20:00",
        "1 a day and 4 a week",
    ):
        assert line in output


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("--window", "7", "20"), "within 8:00 and 21:00"),
        (("--window", "10", "22"), "within 8:00 and 21:00"),
        (("--window", "12", "12"), "start before it ends"),
        (("--daily-cap", "3", "--weekly-cap", "2"), "weekly cap can't be below"),
        (("--timezone", "Mars/Base"), "not an IANA time zone"),
        (("--daily-cap", "0"), "0 is not in the range"),
    ],
)
def test_unsafe_settings_are_refused(app: Flask, args: tuple[str, ...], complaint: str) -> None:
    assert kindred(app, "db", "upgrade")[0] == 0  # as the release step leaves it
    code, output = kindred(app, "org", "set", *args)
    assert code != 0 and complaint in output
    org = db.session.scalars(select(Organization)).one()
    assert (org.window_start_hour, org.window_end_hour, org.daily_cap, org.weekly_cap) == (9, 20, 1, 4)


def test_a_narrower_window_holds_a_follow_up_until_it_opens(
    app: Flask, client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker, clock: SettableClock
) -> None:
    assert kindred(app, "org", "set", "--window", "11", "19", "--phone", "(555) 010-0000") == (0, "saved\n")
    clock.set(datetime(2026, 11, 23, 9, 0, tzinfo=NEW_YORK))
    phone = Phone(client, twilio_api, worker, "+12125550143")
    for text in ("hi", "yes", "Sam", "my neighbor Carlos"):
        phone.send(text)
    assert "Text JOIN" in phone.reply_to("INVITE") and "to (555) 010-0000" in phone.replies()[-1]
    phone.send("remind me in 1 hour")
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=NEW_YORK))
    jobs.send_follow_up(db.session.scalars(select(FollowUp)).one().id)
    worker.run()
    held = db.session.scalars(select(Message).where(Message.reason == "follow_up")).one()
    assert (held.status, held.next_attempt_at) == ("queued", datetime(2026, 11, 23, 11, 0, tzinfo=NEW_YORK))


def test_settings_changes_are_in_the_audit_log_and_unchanged_ones_are_not(app: Flask) -> None:
    assert kindred(app, "org", "set", "--daily-cap", "2", "--contact", "Call Dana at the office")[0] == 0
    assert kindred(app, "org", "set", "--daily-cap", "2")[0] == 0  # no change: nothing to record

    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "settings_changed")).all()
        assert len(entries) == 1
        assert entries[0].detail == {"daily_cap": 2, "contact": "Call Dana at the office"}
        assert entries[0].actor.endswith("(command line)")
