"""Twilio's webhooks: inbound texts and delivery status callbacks.

Both are signed: Twilio signs the public URL it was configured with, so the signature is
checked against PUBLIC_BASE_URL plus the request path (it works behind a proxy).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from twilio.request_validator import RequestValidator

from gateway.community import organization
from gateway.delivery import outbox
from gateway.delivery import status as delivery_status
from gateway.delivery.addresses import AddressError, parse_phone
from gateway.delivery.transports.twilio_sms import STATUS
from gateway.extensions import db
from gateway.models import Message
from gateway.sms.inbound import InboundSms, receive_sms

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__, url_prefix="/webhooks/twilio")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_MEDIA = 10  # Twilio attaches at most 10 media to a message
MAX_ERROR_CODE = 16  # the width of Message.error_code; Twilio's codes have five digits


@bp.before_request
def verify_signature() -> None:
    """403 unless X-Twilio-Signature is Twilio's signature of this request."""
    token = current_app.config["TWILIO_AUTH_TOKEN"]
    signature = request.headers.get("X-Twilio-Signature", "")
    url = current_app.config["PUBLIC_BASE_URL"] + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    if not token or not signature or not RequestValidator(token).validate(url, request.form, signature):
        abort(403, description="invalid or missing X-Twilio-Signature")


@bp.post("/sms")
def sms() -> Response:
    """An inbound text: store it, answer it, reply with empty TwiML (replies go via the outbox)."""
    form = request.form
    provider_id = _provider_id(form)
    if not provider_id or not form.get("From"):
        abort(400, description="MessageSid and From are required")
    try:
        from_number = parse_phone(form["From"], current_app.config["DEFAULT_REGION"])
    except AddressError:
        abort(400, description="From is not a phone number")
    inbound = InboundSms(
        provider_id=provider_id,
        from_number=from_number,
        body=form.get("Body", ""),
        num_media=_media_count(form.get("NumMedia", "0")),
        to_number=_phone_or_empty(form.get("To", "")),
    )
    receive_sms(organization.default(), inbound)
    return Response(EMPTY_TWIML, mimetype="text/xml")


@bp.post("/status")
def status() -> Response:
    """A delivery status callback: add it to the message's history, once."""
    form = request.form
    provider_id = _provider_id(form)
    twilio_status = form.get("MessageStatus") or form.get("SmsStatus")
    if not provider_id or not twilio_status:
        abort(400, description="MessageSid and MessageStatus are required")
    mapped = STATUS.get(twilio_status.lower())
    if mapped is None:
        abort(400, description="unknown MessageStatus")
    # Locked, so two callbacks for the same message (say failed and delivered) apply in turn.
    message = db.session.scalar(select(Message).where(Message.provider_id == provider_id).with_for_update())
    if message is None:
        message = _unrecorded_send(request.args.get("message", ""), provider_id)
    error_code = form.get("ErrorCode", "")[:MAX_ERROR_CODE] or None
    if message is None:
        delivery_status.remember_early(provider_id, mapped, error_code)
        return Response(status=204)
    if message.direction != "outbound":
        return Response(status=204)
    delivery_status.record(message, mapped, error_code)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # the same callback, processed concurrently: a no-op
        log.info("twilio: status %s of message %s was recorded concurrently", mapped, message.id)
    return Response(status=204)


def _unrecorded_send(message_id: str, provider_id: str) -> Message | None:
    """The message our callback URL names, if its send was never recorded (recording failed
    after the provider took it): reconciled now, from this callback's MessageSid."""
    if not (message_id.isascii() and message_id.isdigit() and len(message_id) < 19):
        return None
    message = db.session.scalar(select(Message).where(Message.id == int(message_id)).with_for_update())
    if message is None or message.direction != "outbound":
        return None
    if message.provider_id is not None:  # the worker recorded it meanwhile
        return message if message.provider_id == provider_id else None
    return message if outbox.reconcile(message, provider_id) != "sending" else None


def _provider_id(form: Mapping[str, str]) -> str | None:
    """The MessageSid, if it looks like one (letters and digits, as short as our column)."""
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    return sid if len(sid) <= 64 and sid.isascii() and sid.isalnum() else None


def _phone_or_empty(raw: str) -> str:
    try:
        return parse_phone(raw, current_app.config["DEFAULT_REGION"])
    except AddressError:
        return ""


def _media_count(raw: str) -> int:
    """NumMedia as a count Twilio could send; anything else counts as no media."""
    raw = raw.strip()
    return min(int(raw), MAX_MEDIA) if raw.isascii() and raw.isdigit() else 0
