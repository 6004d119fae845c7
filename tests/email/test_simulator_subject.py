"""The demo's member mailbox answers an email whose subject was stored on two lines before
subjects were made one line: the answer is one "Re:" line and lands on the member's thread."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import Message, Thread
from tests.gateway.test_simulator_mail import client, mail_app  # noqa: F401  (fixtures used here)
from tests.support import email_member


def test_the_mailbox_answers_an_email_whose_stored_subject_has_a_line_break(
    mail_app: Flask,  # noqa: F811  (the fixture imported above)
    client: FlaskClient,  # noqa: F811
) -> None:
    address = email_member("sam@example.org")
    legacy = Message(
        organization_id=address.organization_id,
        direction="outbound",
        channel="email",
        address_id=address.id,
        subject="Re: Hi\r\nBcc: evil@x.org",  # as an answer's subject was stored before the fix
        body="Hi Sam!",
        status="sent",
        reason="organizer_reply",
    )
    db.session.add(legacy)
    db.session.commit()

    answer = {"email": "sam@example.org", "message": legacy.id, "body": "Thanks, see you there."}
    assert client.post("/simulator/mail/reply", json=answer).status_code == 202

    db.session.rollback()
    reply = db.session.scalar(select(Message).where(Message.direction == "inbound"))
    assert reply is not None and reply.subject == "Re: Hi Bcc: evil@x.org"
    assert reply.body == "Thanks, see you there."
    assert db.session.scalar(select(Thread.person_id)) == address.person_id
