"""Delivery statuses a provider reports for messages we sent, including the ones that arrive
before we have recorded the send (the provider can call back faster than our commit)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from gateway import consent, outbox
from gateway.extensions import db
from gateway.models import EarlyStatus, Message
from gateway.transports.twilio_sms import error_is_opt_out

# An early status whose send is never recorded (another app on the same account) is dropped
# after this long.
KEEP_EARLY = timedelta(days=2)


def record(message: Message, status: str, error_code: str | None) -> None:
    """Add a reported status to the message's history, once; an opt-out error records the
    opt-out (the caller commits)."""
    changed = outbox.record_status(message, status, error_code, source="provider")
    if changed and error_is_opt_out(error_code):
        consent.opt_out(message.address, source="provider_error", detail=f"twilio {error_code}")


def remember_early(provider_id: str, status: str, error_code: str | None) -> None:
    """Keep a status for a message id we don't know yet (commits). A repeat is a no-op."""
    try:
        with db.session.begin_nested():
            db.session.add(EarlyStatus(provider_id=provider_id, status=status, error_code=error_code))
    except IntegrityError:
        pass
    db.session.commit()


def apply_early(message: Message) -> int:
    """Apply the statuses that arrived before this send was recorded (the caller commits)."""
    early = db.session.scalars(
        select(EarlyStatus).where(EarlyStatus.provider_id == message.provider_id).order_by(EarlyStatus.id)
    ).all()
    for status in early:
        record(message, status.status, status.error_code)
        db.session.delete(status)
    return len(early)


def forget_stale(now: datetime) -> int:
    """Drop early statuses no send ever claimed (the sweeper calls this)."""
    return db.session.execute(delete(EarlyStatus).where(EarlyStatus.received_at < now - KEEP_EARLY)).rowcount
