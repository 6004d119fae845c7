"""/simulator: play a volunteer's phone in the browser (with SMS_TRANSPORT=simulator) and a
member's mailbox (/simulator/mail, with EMAIL_TRANSPORT=simulator), only signed in to the console
as an organizer or admin.

Texts typed here take the same path as texts from Twilio, from the stored inbound message to
the outbox; the simulator transports "deliver" the replies to these pages.
"""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import or_, select

from gateway import clock
from gateway.access import check_access, current_organization, needs
from gateway.community.inbox import reply_subject
from gateway.delivery import mail_content
from gateway.delivery.addresses import AddressError, normalize_contact, parse_phone
from gateway.delivery.transports import OutboundEmail
from gateway.delivery.transports.simulator import SIMULATOR_NUMBER
from gateway.email.inbound import receive_email
from gateway.email.message import from_mime
from gateway.extensions import begin_reading, db
from gateway.models import Address, Message
from gateway.sms.inbound import InboundSms, receive_sms

bp = Blueprint("simulator", __name__, url_prefix="/simulator")
bp.before_request(check_access)  # behind the console's login: it texts as any number
MAX_BODY = 1600


@bp.get("")
@needs("organizer")
def page() -> ResponseReturnValue:
    _phone_on()
    org = current_organization()
    db.session.commit()
    return render_template("simulator.html", organization=org)


@bp.post("/send")
@needs("organizer")
def send() -> ResponseReturnValue:
    """Text Kindred as the phone number given: JSON {"phone": ..., "body": ...}."""
    _phone_on()
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("body"), str):
        abort(400, description='send JSON {"phone": "...", "body": "..."}')
    phone = _phone(payload.get("phone"))
    body = payload["body"][:MAX_BODY]
    inbound = InboundSms("SIM" + uuid.uuid4().hex, phone, body, to_number=SIMULATOR_NUMBER)
    receive_sms(current_organization(), inbound)
    return jsonify(ok=True), 202


@bp.post("/thread")
@needs("organizer")
def thread() -> ResponseReturnValue:
    """The conversation as the phone shows it, oldest first: what it sent, and what reached it
    (a reply still queued, deferred or suppressed never arrived). JSON {"phone": ...}; a POST,
    so the number never lands in an access log."""
    _phone_on()
    payload = request.get_json(silent=True)
    phone = _phone(payload.get("phone") if isinstance(payload, dict) else None)
    begin_reading()  # the page asks every second; it must not queue behind texts
    rows = db.session.scalars(
        select(Message)
        .join(Address, Message.address_id == Address.id)
        .where(
            Address.organization_id == current_organization().id,
            Address.channel == "sms",
            Address.value == phone,
            or_(Message.direction == "inbound", Message.status.in_(("sent", "delivered"))),
        )
        .order_by(Message.id)
    )
    return jsonify(
        messages=[
            {
                "id": m.id,
                "direction": m.direction,
                "body": m.body,
                "status": m.status,
                "at": m.created_at.isoformat(),
            }
            for m in rows
        ]
    )


def _phone(raw: object) -> str:
    try:
        return parse_phone(str(raw or ""), current_app.config["DEFAULT_REGION"])
    except AddressError:
        abort(400, description="phone must be a phone number, like +15555550123")


def _phone_on() -> None:
    if current_app.config["SMS_TRANSPORT"] != "simulator":
        abort(404, description="the phone needs SMS_TRANSPORT=simulator")


def _mailbox_on() -> None:
    if current_app.config["EMAIL_TRANSPORT"] != "simulator":
        abort(404, description="the mailbox needs EMAIL_TRANSPORT=simulator")


@bp.get("/mail")
@needs("organizer")
def mailbox() -> ResponseReturnValue:
    """The member's mailbox: the email Kindred delivered to an address, and their replies."""
    _mailbox_on()
    org = current_organization()
    db.session.commit()
    return render_template("simulator_mail.html", organization=org)


@bp.post("/mail/messages")
@needs("organizer")
def mail_messages() -> ResponseReturnValue:
    """The mailbox of the email address given, oldest first, each email as the member's mail
    program shows it. JSON {"email": ...}; a POST, so the address never lands in an access log."""
    _mailbox_on()
    payload = request.get_json(silent=True)
    email = _email(payload.get("email") if isinstance(payload, dict) else None)
    begin_reading()
    rows = db.session.scalars(
        select(Message)
        .join(Address, Message.address_id == Address.id)
        .where(
            Address.organization_id == current_organization().id,
            Address.channel == "email",
            Address.value == email,
            or_(Message.direction == "inbound", Message.status.in_(("sent", "delivered"))),
        )
        .order_by(Message.id)
    ).all()
    return jsonify(messages=[_as_mail(m) for m in rows])


@bp.post("/mail/reply")
@needs("organizer")
def mail_reply() -> ResponseReturnValue:
    """Answer an email as the member: JSON {"email": ..., "message": <id>, "body": ...}. The
    answer is written as a mail program writes one (Re: subject, In-Reply-To, the email quoted
    below) and takes the path of Inbound Parse's raw form from there: read, stored once,
    routed by the reply-to token, quoted history stripped."""
    _mailbox_on()
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("body"), str):
        abort(400, description='send JSON {"email": "...", "message": ID, "body": "..."}')
    email = _email(payload.get("email"))
    message_id = payload.get("message")
    an_id = isinstance(message_id, int) and not isinstance(message_id, bool) and 0 < message_id < 2**31
    original = db.session.get(Message, message_id) if an_id else None
    if (
        original is None
        or original.organization_id != current_organization().id
        or original.channel != "email"
        or original.direction != "outbound"
        or original.address.value != email
    ):
        abort(404, description="no email to that address has this id")
    mail = mail_content.compose(original)
    raw = _reply_mime(email, mail, payload["body"][:MAX_BODY])
    receive_email(current_organization(), from_mime(raw, envelope_to=[mail.reply_to]))
    return jsonify(ok=True), 202


def _reply_mime(sender: str, original: OutboundEmail, body: str) -> bytes:
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = original.reply_to
    reply["Subject"] = reply_subject(original.subject)
    reply["Date"] = format_datetime(clock.now())
    reply["Message-ID"] = make_msgid(domain="mailbox.simulator.test")
    if "Message-ID" in original.headers:
        reply["In-Reply-To"] = original.headers["Message-ID"]
        reply["References"] = original.headers["Message-ID"]
    quoted = "\n".join("> " + line for line in original.text.splitlines())
    written = format_datetime(clock.now()).rsplit(" ", 1)[0]
    reply.set_content(
        f"{body}\n\nOn {written}, {original.from_name} <{original.from_email}> wrote:\n{quoted}\n"
    )
    return bytes(reply)


def _as_mail(message: Message) -> dict[str, object]:
    if message.direction == "inbound":
        return {
            "id": message.id,
            "direction": "inbound",
            "subject": message.subject,
            "text": message.body,
            "html": "",
            "at": message.created_at.isoformat(),
        }
    email = mail_content.compose(message)
    return {
        "id": message.id,
        "direction": "outbound",
        "from": f"{email.from_name} <{email.from_email}>",
        "reply_to": email.reply_to,
        "subject": email.subject,
        "text": email.text,
        "html": email.html,
        "unsubscribe": email.headers["List-Unsubscribe"],
        "at": message.created_at.isoformat(),
    }


def _email(raw: object) -> str:
    value = normalize_contact(str(raw or ""))
    if value is None or "@" not in value:
        abort(400, description="email must be an email address, like sam@example.org")
    return value
