"""Message bodies are encrypted at rest and read back by the app; the keys come from SECRET_KEY
with a purpose label, a retired secret in SECRET_KEY_PREVIOUS keeps old bodies readable, old
digests recognised and links in mail already sent working, and the migration encrypts the
bodies stored before it (and decrypts them on the way down)."""

from __future__ import annotations

import hashlib
import hmac
import logging

import pytest
from flask import Flask
from sqlalchemy import select, text

from gateway import migrate
from gateway.delivery import mail_tokens
from gateway.extensions import db
from gateway.models import Address, Message
from gateway.models.base import ENCRYPTED_PREFIX, UNREADABLE
from tests.conftest import SECRET_KEY
from tests.support import Phone

NEW_SECRET = "a-brand-new-secret-key-with-plenty-of-entropy-4f9a1c"


def _raw_bodies() -> list[str]:
    db.session.commit()
    with db.engine.connect() as connection:
        return [body for (body,) in connection.execute(text("SELECT body FROM message ORDER BY id"))]


def test_bodies_are_stored_encrypted_and_read_back_in_the_clear(phone: Phone) -> None:
    phone.send("hi")
    phone.send("yes")
    phone.send("Samantha Quigley")
    raw = _raw_bodies()
    assert raw and all(body.startswith(ENCRYPTED_PREFIX) for body in raw if body)
    assert not [body for body in raw if "Samantha" in body or "Welcome" in body or body == "yes"]
    bodies = list(db.session.scalars(select(Message.body).order_by(Message.id)))
    assert "Samantha Quigley" in bodies and any(body.startswith("Welcome!") for body in bodies)


def test_a_rotated_secret_keeps_old_bodies_readable_only_with_the_previous_key(
    app: Flask, phone: Phone, caplog: pytest.LogCaptureFixture
) -> None:
    phone.send("hi")
    app.config.update(SECRET_KEY=NEW_SECRET, SECRET_KEY_PREVIOUS=SECRET_KEY)
    db.session.expire_all()
    assert db.session.scalars(select(Message.body).order_by(Message.id)).first() == "hi"
    phone.send("yes")  # written under the new key
    app.config.update(SECRET_KEY_PREVIOUS="")
    db.session.expire_all()
    with caplog.at_level(logging.ERROR):
        bodies = list(db.session.scalars(select(Message.body).order_by(Message.id)))
    assert bodies[0] == UNREADABLE and "yes" in bodies
    assert "SECRET_KEY_PREVIOUS" in caplog.text


def test_an_address_erased_under_the_old_digest_scheme_keeps_its_opt_out(phone: Phone) -> None:
    phone.send("hi")
    phone.send("yes")
    phone.send("DELETE")
    phone.send("yes")
    address = db.session.scalars(select(Address)).one()
    # As erased before digests used the purpose-derived key: HMAC keyed with the secret itself.
    legacy = hmac.new(SECRET_KEY.encode(), phone.number.encode(), hashlib.sha256).hexdigest()
    address.value = "hmac:" + legacy
    db.session.commit()
    assert phone.send("hi") == []  # recognised: the opt-out stands
    assert phone.reply_to("START").startswith("Welcome back")
    assert db.session.scalars(select(Address)).one().value == phone.number


def test_an_unsubscribe_link_sent_before_a_rotation_works_while_the_old_secret_is_honoured(
    app: Flask,
) -> None:
    token = mail_tokens.make(mail_tokens.UNSUBSCRIBE, 42)
    app.config.update(SECRET_KEY=NEW_SECRET, SECRET_KEY_PREVIOUS=SECRET_KEY)
    assert mail_tokens.read(mail_tokens.UNSUBSCRIBE, token) == 42
    assert mail_tokens.read(mail_tokens.UNSUBSCRIBE, mail_tokens.make(mail_tokens.UNSUBSCRIBE, 7)) == 7
    app.config.update(SECRET_KEY_PREVIOUS="")
    assert mail_tokens.read(mail_tokens.UNSUBSCRIBE, token) is None


def test_the_migration_encrypts_stored_bodies_and_its_downgrade_decrypts_them(empty_app: Flask) -> None:
    with empty_app.app_context():
        migrate.upgrade("0013_organizer_two_factor")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO organization (slug, name, contact, frequency, interests, timezone, phone,"
                    " window_start_hour, window_end_hour, daily_cap, weekly_cap, created_at)"
                    " VALUES ('e', 'E', '', 'w', '[]', 'UTC', '', 9, 20, 1, 4, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO address (organization_id, channel, value, pending_erasure, created_at)"
                    " VALUES (1, 'sms', '+15550001111', FALSE, CURRENT_TIMESTAMP)"
                )
            )
            for body in ("talked to Ruth, she's in", ""):
                connection.execute(
                    text(
                        "INSERT INTO message (organization_id, direction, channel, address_id, body, subject,"
                        " num_media, status, reason, needs_attention, attempts, created_at, updated_at)"
                        " VALUES (1, 'inbound', 'sms', 1, :body, '', 0, 'received', '', FALSE, 0,"
                        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"body": body},
                )
        migrate.upgrade("head")
        raw = _raw_bodies()
        assert raw[0].startswith(ENCRYPTED_PREFIX) and "Ruth" not in raw[0] and raw[1] == ""
        assert list(db.session.scalars(select(Message.body).order_by(Message.id))) == [
            "talked to Ruth, she's in",
            "",
        ]
        db.session.remove()
        migrate.downgrade("0013_organizer_two_factor")
        assert _raw_bodies() == ["talked to Ruth, she's in", ""]
        db.session.remove()
