"""/simulator/mail: the member's mailbox of the demo (EMAIL_TRANSPORT=simulator). Email the
organization sends shows as the member's mail program would show it (footer, unsubscribe, the
reply address), and an answer written there is read as a mail program's reply through Inbound
Parse's raw path: stored once, routed by its token to the member's thread, quoted history left out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway import create_app
from gateway.delivery import outbox
from gateway.extensions import db, redis_client
from gateway.models import Message, Thread
from tests.conftest import INBOUND_EMAIL_DOMAIN, ORGANIZATION_POSTAL_ADDRESS, app_config
from tests.doubles.servers import RedisServer
from tests.support import Browser, SettableClock, Worker, csrf_token, email_member, organizer, sign_in


@pytest.fixture
def mail_app(
    database_url: str, redis_server: RedisServer, tmp_path: Path, clock: SettableClock
) -> Iterator[Flask]:
    clock.set(datetime(2026, 11, 24, 17, 0, tzinfo=UTC))  # noon in New York: mailings go at once
    config = {
        **app_config(database_url, redis_server.url, "", tmp_path),
        "SMS_TRANSPORT": "simulator",
        "EMAIL_TRANSPORT": "simulator",
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",  # the simulator serves only a machine of one's own
        "INBOUND_EMAIL_DOMAIN": INBOUND_EMAIL_DOMAIN,
        "ORGANIZATION_POSTAL_ADDRESS": ORGANIZATION_POSTAL_ADDRESS,
        "CLOCK": clock,
    }
    app = create_app(config)
    app.test_client_class = Browser
    with app.app_context():
        redis_client().flushdb()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(mail_app: Flask) -> FlaskClient:
    client = mail_app.test_client()
    assert sign_in(client, organizer("organizer")).status_code == 302
    client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_token(client, "/simulator/mail")
    return client


def mailbox(client: FlaskClient, email: str) -> list[dict[str, str]]:
    response = client.post("/simulator/mail/messages", json={"email": email})
    assert response.status_code == 200
    return response.get_json()["messages"]


def test_a_member_reads_a_mailing_and_the_answer_lands_on_their_thread_without_the_quote(
    mail_app: Flask, client: FlaskClient
) -> None:
    assert client.get("/simulator/mail").status_code == 200
    address = email_member("sam@example.org")
    outbox.queue_email(address, "Forum Thursday", "Hi Sam, the forum is **Thursday** at 6.", "mailing")
    db.session.commit()
    Worker(mail_app).run()

    [mail] = mailbox(client, "SAM@example.org")
    assert mail["subject"] == "Forum Thursday" and "<strong>Thursday</strong>" in mail["html"]
    assert ORGANIZATION_POSTAL_ADDRESS in mail["text"] and "/email/unsubscribe/" in mail["text"]
    assert mail["reply_to"].startswith("reply+") and mail["reply_to"].endswith("@" + INBOUND_EMAIL_DOMAIN)
    assert mailbox(client, "ruth@example.org") == []

    answer = {"email": "sam@example.org", "message": mail["id"], "body": "Count me in, I'll bring Ruth."}
    assert client.post("/simulator/mail/reply", json=answer).status_code == 202

    db.session.rollback()
    reply = db.session.scalars(select(Message).where(Message.direction == "inbound")).one()
    assert (reply.channel, reply.subject) == ("email", "Re: Forum Thursday")
    assert reply.body == "Count me in, I'll bring Ruth."  # the quoted mailing is left out
    thread = db.session.scalars(select(Thread)).one()
    assert (thread.person_id, thread.channel, thread.status) == (address.person_id, "email", "open")
    assert mailbox(client, "sam@example.org")[-1]["direction"] == "inbound"


@pytest.mark.parametrize(
    ("payload", "status"),
    [(None, 400), ({}, 400), ({"email": "nope", "message": 1, "body": "hi"}, 400),
     ({"email": "sam@example.org", "body": "hi"}, 404),
     ({"email": "sam@example.org", "message": True, "body": "hi"}, 404),
     ({"email": "sam@example.org", "message": 10**30, "body": "hi"}, 404)],
)  # fmt: skip
def test_bad_mailbox_input_is_a_4xx(client: FlaskClient, payload: object, status: int) -> None:
    """Malformed JSON is a 400; a message id that names no email of this member is a 404."""
    response = client.post("/simulator/mail/reply", json=payload)
    assert response.status_code == status


def test_a_member_cannot_answer_an_email_sent_to_someone_else(mail_app: Flask, client: FlaskClient) -> None:
    sam = email_member("sam@example.org")
    message = outbox.queue_email(sam, "News", "Hello", "mailing")
    db.session.commit()
    Worker(mail_app).run()
    answer = {"email": "ruth@example.org", "message": message.id, "body": "hi"}
    assert client.post("/simulator/mail/reply", json=answer).status_code == 404


def test_the_mailbox_is_off_with_real_email(app: Flask) -> None:
    app.test_client_class = Browser
    browser = app.test_client()
    sign_in(browser, organizer("admin"))
    assert browser.get("/simulator/mail").status_code == 404
