"""/simulator: play a volunteer's phone in the browser (only with SMS_TRANSPORT=simulator, and
only signed in to the console as an organizer or admin).

Texts typed here take the same path as texts from Twilio, from the stored inbound message to
the outbox; the simulator transport "delivers" the replies to this page.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import or_, select

from gateway.access import check_access, needs
from gateway.community import organization
from gateway.delivery.addresses import AddressError, parse_phone
from gateway.delivery.transports.simulator import SIMULATOR_NUMBER
from gateway.extensions import begin_reading, db
from gateway.models import Address, Message
from gateway.sms.inbound import InboundSms, receive_sms

bp = Blueprint("simulator", __name__, url_prefix="/simulator")
bp.before_request(check_access)  # behind the console's login: it texts as any number
MAX_BODY = 1600


@bp.get("")
@needs("organizer")
def page() -> ResponseReturnValue:
    org = organization.default()
    db.session.commit()
    return render_template("simulator.html", organization=org)


@bp.post("/send")
@needs("organizer")
def send() -> ResponseReturnValue:
    """Text Kindred as the phone number given: JSON {"phone": ..., "body": ...}."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("body"), str):
        abort(400, description='send JSON {"phone": "...", "body": "..."}')
    phone = _phone(payload.get("phone"))
    body = payload["body"][:MAX_BODY]
    inbound = InboundSms("SIM" + uuid.uuid4().hex, phone, body, to_number=SIMULATOR_NUMBER)
    receive_sms(organization.default(), inbound)
    return jsonify(ok=True), 202


@bp.post("/thread")
@needs("organizer")
def thread() -> ResponseReturnValue:
    """The conversation as the phone shows it, oldest first: what it sent, and what reached it
    (a reply still queued, deferred or suppressed never arrived). JSON {"phone": ...}; a POST,
    so the number never lands in an access log."""
    payload = request.get_json(silent=True)
    phone = _phone(payload.get("phone") if isinstance(payload, dict) else None)
    begin_reading()  # the page asks every second; it must not queue behind texts
    rows = db.session.scalars(
        select(Message)
        .join(Address, Message.address_id == Address.id)
        .where(
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
