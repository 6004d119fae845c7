"""SendGrid's signed Event Webhook: delivery, engagement and unsubscribe events, in batches.

Every post is verified with the SDK's EventWebhook helper: an ECDSA signature, by the key
SENDGRID_EVENT_PUBLIC_KEY, over the timestamp header and the raw body. A post signed too long
ago (or too far ahead) is refused, so a captured post cannot be replayed later. The batch is
processed in one transaction and answered 204; SendGrid retries anything else for three days,
and events already processed are no-ops.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric import ec
from flask import Blueprint, Flask, Response, abort, current_app, request
from sendgrid.helpers.eventwebhook import EventWebhook, EventWebhookHeader

from gateway import clock
from gateway.config import ConfigError
from gateway.delivery import email_events
from gateway.extensions import db

log = logging.getLogger(__name__)
bp = Blueprint("sendgrid_events", __name__, url_prefix="/webhooks/sendgrid")

# SendGrid posts a batch every 30 seconds or at 768 KB, whichever comes first.
MAX_BODY = 2 * 1024 * 1024
MAX_AGE = timedelta(minutes=10)
MAX_AHEAD = timedelta(minutes=5)  # clocks differ a little, never by more than this
_KEY = "kindred.sendgrid_event_key"


def init_app(app: Flask) -> None:
    """Read the verification key once, and take the events endpoint. A key that is set but is
    not an EC public key stops the process at start (every post would be refused)."""
    raw = app.config["SENDGRID_EVENT_PUBLIC_KEY"]
    app.extensions[_KEY] = public_key(raw) if raw else None
    app.register_blueprint(bp)


def public_key(raw: str) -> ec.EllipticCurvePublicKey:
    """The key as SendGrid's settings page shows it (base64, with or without PEM armour)."""
    body = "".join(line for line in raw.strip().splitlines() if not line.startswith("-----"))
    try:
        key = EventWebhook().convert_public_key_to_ecdsa("".join(body.split()))
    except (ValueError, TypeError) as exc:
        raise ConfigError("SENDGRID_EVENT_PUBLIC_KEY is not a public key (copy it from SendGrid)") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ConfigError("SENDGRID_EVENT_PUBLIC_KEY must be SendGrid's ECDSA key")
    return key


@bp.before_request
def verify_signature() -> None:
    """403 unless the post is SendGrid's, signed recently; 413 past MAX_BODY."""
    request.max_content_length = MAX_BODY
    key = current_app.extensions.get(_KEY)
    signature = request.headers.get(EventWebhookHeader.SIGNATURE, "")
    timestamp = request.headers.get(EventWebhookHeader.TIMESTAMP, "")
    if key is None:
        log.warning("sendgrid: an event post was refused: SENDGRID_EVENT_PUBLIC_KEY is not set")
        abort(403, description="this deployment has no key to verify SendGrid's events with")
    if not signature or not timestamp:
        abort(403, description="a signed post needs X-Twilio-Email-Event-Webhook-Signature and -Timestamp")
    if not _recent(timestamp):
        abort(403, description="the signature's timestamp is too old or in the future")
    try:
        valid = EventWebhook().verify_signature(request.get_data(as_text=True), signature, timestamp, key)
    except (ValueError, TypeError):  # not base64, or not a signature at all
        valid = False
    if not valid:
        abort(403, description="invalid X-Twilio-Email-Event-Webhook-Signature")


def _recent(timestamp: str) -> bool:
    """Whether the signature's timestamp (Unix seconds) is within MAX_AGE before now or
    MAX_AHEAD after it (compared as numbers: a timestamp past year 9999 is no date)."""
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    now = clock.now().timestamp()
    return now - MAX_AGE.total_seconds() <= int(timestamp) <= now + MAX_AHEAD.total_seconds()


@bp.post("/events")
def events() -> Response:
    """A batch of events: each processed once, in one transaction."""
    try:
        batch = json.loads(request.get_data(as_text=True))
    except (ValueError, RecursionError):
        abort(400, description="the body is not JSON")
    if not isinstance(batch, list):
        abort(400, description="the body must be a JSON array of events")
    tally = email_events.apply(batch)
    db.session.commit()
    log.info(
        "sendgrid: %s events: %s steps recorded, %s opt-outs, %s seen before, %s for no message "
        "of ours, %s unreadable",
        len(batch),
        tally.applied,
        tally.opt_outs,
        tally.duplicates,
        tally.unmatched,
        tally.unreadable,
    )
    return Response(status=204)
