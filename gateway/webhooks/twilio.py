"""Twilio's webhooks: inbound texts and delivery status callbacks.

Both are signed: Twilio signs the public URL it was configured with, so the signature is
checked against PUBLIC_BASE_URL plus the request path (it works behind a proxy). A signed
request must also name our account (AccountSid), and a text must be to one of our numbers and
not from one: Kindred never answers itself. Every field is bounded in length and shape before
it is used.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Mapping

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from twilio.request_validator import RequestValidator

from gateway.community import organization
from gateway.delivery import outbox
from gateway.delivery import status as delivery_status
from gateway.delivery.addresses import AddressError, parse_phone
from gateway.delivery.transports.twilio_sms import STATUS
from gateway.extensions import db, outage_passes
from gateway.models import Message
from gateway.models.base import row_id
from gateway.sms.inbound import InboundSms, receive_sms

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__, url_prefix="/webhooks/twilio")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_MEDIA = 10  # Twilio attaches at most 10 media to a message
MAX_ERROR_CODE = 16  # the width of Message.error_code; Twilio's codes have five digits
MAX_BODY = 1600  # Twilio's limit on a text; anything longer is cut, never refused
MAX_PHONE = 32  # From and To: an E.164 number has 16 characters, written out a few more
# How long a text waits for the database to come back before it is refused (503), within the
# 15 s Twilio waits for an answer: a PostgreSQL restart takes a few seconds. A try begun just
# before this runs on: one that cannot connect gives up after 5 s (gateway.postgres).
DATABASE_PATIENCE = 8.0


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
    account = current_app.config["TWILIO_ACCOUNT_SID"]
    if not account or not hmac.compare_digest(request.form.get("AccountSid", "").encode(), account.encode()):
        log.warning("twilio: a signed %s request for another account was refused", request.path)
        abort(403, description="AccountSid is not this deployment's Twilio account")


@bp.post("/sms")
def sms() -> Response:
    """An inbound text: store it and reply with empty TwiML at once; the worker answers it
    (its replies go via the outbox)."""
    form = request.form
    provider_id = _provider_id(form)
    if not provider_id or not form.get("From"):
        abort(400, description="MessageSid and From are required")
    from_number = _phone_or_empty(form["From"])
    if not from_number:
        abort(400, description="From is not a phone number")
    to_number = _phone_or_empty(form.get("To", ""))
    _waiting_for_the_database(lambda: _take(provider_id, from_number, to_number, form))
    return Response(EMPTY_TWIML, mimetype="text/xml")


def _waiting_for_the_database(take: Callable[[], None]) -> None:
    """Take a text, waiting up to DATABASE_PATIENCE for a database that is away (restarting,
    say) before giving up with the 503 that Twilio counts as not delivered: Twilio does not post
    it again later, so a text refused for a short outage would be lost to Kindred."""
    deadline = time.monotonic() + DATABASE_PATIENCE
    pause = 0.25
    while True:
        try:
            return take()
        except DBAPIError as exc:
            db.session.rollback()
            if not outage_passes(exc) or time.monotonic() + pause > deadline:
                raise
            if pause == 0.25:
                log.warning("twilio: the database is away; a text waits up to %g s for it", DATABASE_PATIENCE)
        time.sleep(pause)
        pause = min(pause * 2, 2.0)


def _take(provider_id: str, from_number: str, to_number: str, form: Mapping[str, str]) -> None:
    """Store a text to one of our numbers, if it is not from one."""
    org, ours = organization.routing(to_number)
    # A Messaging Service sends from a pool of numbers Kindred is not told: with one and no
    # TWILIO_FROM_NUMBER, a text to any number is taken (the signature and AccountSid still
    # say it reached our account).
    config = current_app.config
    pooled = config["TWILIO_MESSAGING_SERVICE_SID"] and not config["TWILIO_FROM_NUMBER"]
    if org is None or not (to_number in ours or pooled):
        log.warning("twilio: a text to a number that is not ours was refused (message %s)", provider_id)
        abort(403, description="To is not a number of this deployment")
    if from_number in ours:
        # Another of our numbers (or a loop through a forwarding service): answering it would
        # text ourselves, and each answer would be answered again.
        log.warning("twilio: a text from one of our own numbers was not taken (message %s)", provider_id)
        return
    inbound = InboundSms(
        provider_id=provider_id,
        from_number=from_number,
        body=form.get("Body", "")[:MAX_BODY],
        num_media=_media_count(form.get("NumMedia", "0")),
        to_number=to_number,
    )
    receive_sms(org, inbound)


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
    error_code = _error_code(form.get("ErrorCode", ""))
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
    id_ = row_id(message_id)
    if id_ is None:
        return None
    message = db.session.scalar(select(Message).where(Message.id == id_).with_for_update())
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
    """From or To in E.164, or "" if it is no phone number (or far too long to be one)."""
    if len(raw) > MAX_PHONE:
        return ""
    try:
        return parse_phone(raw, current_app.config["DEFAULT_REGION"])
    except AddressError:
        return ""


def _media_count(raw: str) -> int:
    """NumMedia as a count Twilio could send; anything else counts as no media (a thousand
    digits would be no count, and past 4,300 more than int() reads)."""
    raw = raw.strip()
    return min(int(raw), MAX_MEDIA) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else 0


def _error_code(raw: str) -> str | None:
    """ErrorCode as Twilio sends it (digits), cut to the column's width; anything else (letters,
    a NUL PostgreSQL cannot store) is no code."""
    raw = raw.strip()[:MAX_ERROR_CODE]
    return raw if raw.isascii() and raw.isdigit() else None
