"""Errors are seen: an unhandled exception in the web app or in a worker's job is logged once,
as one key=value line with its traceback (and the request path), and no phone number, email
or message body reaches the log."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from gateway import logs
from gateway.extensions import db
from tests.support import Phone

SECRET_TEXT = "my friend Dee 415-555-0199 dee@example.org"


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if " level=error " in line]


def test_an_unhandled_error_in_a_request_is_logged_once_with_its_traceback_and_path(
    app: Flask, phone: Phone, capfd: pytest.CaptureFixture[str]
) -> None:
    db.session.execute(text("DROP TABLE early_status"))  # the status webhook's lookup table
    db.session.execute(text("ALTER TABLE message RENAME TO message_gone"))
    db.session.commit()
    capfd.readouterr()

    response = phone.post(SECRET_TEXT)

    assert response.status_code == 500
    assert response.json == {"error": "Internal Server Error", "description": response.json["description"]}
    (line,) = error_lines(capfd.readouterr().err)
    assert "path=/webhooks/twilio/sms" in line and "method=POST" in line
    assert 'exc="Traceback (most recent call last):\\n' in line
    assert "message" in line  # the database's complaint is there...
    for private in (phone.number, phone.number[2:], "415-555-0199", "dee@example.org", "Dee 4"):
        assert private not in line  # ...but no number, email or text


def test_an_unhandled_error_in_a_send_is_logged_once_by_the_worker_process(
    app: Flask, phone: Phone, tmp_path: Path
) -> None:
    assert phone.post(SECRET_TEXT).status_code == 200
    phone.worker.answer()  # stored, its reply queued
    db.session.execute(text("ALTER TABLE message_status_event RENAME TO history_gone"))
    db.session.commit()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))},
        **{
            key: str(app.config[key])
            for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PUBLIC_BASE_URL")
        },
        **{key: str(app.config[key]) for key in ("SMS_TRANSPORT", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")},
        **{key: str(app.config[key]) for key in ("TWILIO_FROM_NUMBER", "TWILIO_API_BASE_URL")},
        "EMAIL_TRANSPORT": "none",
        "KINDRED_INSTANCE": str(tmp_path),
    }
    kindred = Path(sys.executable).parent / "kindred"
    worker = subprocess.run(
        [str(kindred), "worker", "--burst"], env=env, capture_output=True, text=True, timeout=120, check=False
    )

    lines = error_lines(worker.stderr + worker.stdout)
    assert len(lines) == 1, worker.stderr
    assert "could not be sent" in lines[0] and "gateway.delivery.sender" in lines[0]
    assert "Traceback (most recent call last):\\n" in lines[0]
    assert "message_status_event" in lines[0]
    for private in (phone.number, phone.number[2:], "415-555-0199", "dee@example.org"):
        assert private not in worker.stderr + worker.stdout


def test_a_number_or_email_logged_by_mistake_is_masked_in_the_message_and_traceback() -> None:
    """The last guard: code that logs an address whole, or an error that quotes one, still
    writes it masked; the line's time is left as it is."""
    formatter = logs.KeyValueFormatter()
    try:
        raise ValueError(f"no route for {SECRET_TEXT}")
    except ValueError:
        record = logging.LogRecord(
            "gateway.test",
            logging.ERROR,
            __file__,
            1,
            "sent %s to %s",
            ("hi", "+14155550199"),
            sys.exc_info(),
        )
    line = formatter.format(record)
    assert re.match(
        r"at=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00 level=error logger=gateway\.test ", line
    )
    assert 'msg="sent hi to [contact]"' in line and "ValueError: no route for my friend Dee [contact]" in line
    for private in ("4155550199", "415-555-0199", "dee@example.org"):
        assert private not in line
