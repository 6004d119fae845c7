"""Fixtures for member email: a member who gets the organization's email, and their mail
program, which answers through SendGrid Inbound Parse exactly as Inbound Parse posts.

The payloads under payloads/ are multipart bodies in the shape Inbound Parse documents (its
boundary is xYzZY), written by hand; placeholders stand for what each test decides: {{TO}} the
address the member replied to, {{FROM}} the member's address and {{MESSAGE_ID}} the reply's
Message-ID header.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from gateway.delivery import mail_tokens
from gateway.extensions import db
from gateway.models import Address, Message
from tests.conftest import SENDGRID_INBOUND_SECRET
from tests.console.conftest import console, signed_in  # noqa: F401  (fixtures used here)
from tests.support import SettableClock, email_member

PAYLOADS = Path(__file__).parent / "payloads"
SAM = "sam@example.org"


@pytest.fixture(autouse=True)
def working_hours(clock: SettableClock) -> None:
    """Noon in New York: an email the organization starts waits for the day."""
    clock.set(datetime(2026, 11, 24, 17, 0, tzinfo=UTC))


def basic_auth(password: str = SENDGRID_INBOUND_SECRET, user: str = "sendgrid") -> dict[str, str]:
    """The Authorization header SendGrid sends for credentials written into the URL."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def payload(name: str, **values: str) -> bytes:
    """A recorded-shape Inbound Parse body with its placeholders filled in (lines end in CRLF,
    as on the wire)."""
    body = (PAYLOADS / f"{name}.multipart").read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    for key, value in values.items():
        body = body.replace(b"{{" + key.encode() + b"}}", value.encode())
    return body


@dataclass
class MailProgram:
    """A member's mail program, answering through Inbound Parse."""

    client: FlaskClient
    address: str

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> TestResponse:
        """Post a multipart body to Inbound Parse's endpoint, with its credentials unless told."""
        return self.client.post(
            "/webhooks/sendgrid/inbound",
            data=body,
            content_type="multipart/form-data; boundary=xYzZY",
            headers=basic_auth() if headers is None else headers,
        )

    def reply(
        self,
        name: str,
        to: str,
        message_id: str | None = None,
        headers: dict[str, str] | None = None,
        sender: str | None = None,
    ) -> TestResponse:
        """Post the payload `name` as the member's reply to `to`; returns the webhook's answer."""
        body = payload(
            name,
            TO=to,
            FROM=sender or self.address,
            MESSAGE_ID=f"<{uuid.uuid4().hex}@mail.example.org>" if message_id is None else message_id,
        )
        return self.post(body, headers)


@pytest.fixture
def member(app: Flask) -> Address:
    """Sam, a member who confirmed their email: their email address."""
    return email_member(SAM)


@pytest.fixture
def mail_program(console: Flask) -> MailProgram:  # noqa: F811  (the fixture imported above)
    """Sam's mail program: each of its posts is a request of its own, as on a real server."""
    return MailProgram(console.test_client(), SAM)


def reply_address(member: Address) -> str:
    """The reply-to address of the member's thread, as the organization's email carries it."""
    assert member.person_id is not None
    return mail_tokens.reply_address(member.person_id)


def inbound_emails() -> list[Message]:
    db.session.rollback()  # see what the requests committed
    return list(
        db.session.scalars(
            select(Message)
            .where(Message.channel == "email", Message.direction == "inbound")
            .order_by(Message.id)
        )
    )
