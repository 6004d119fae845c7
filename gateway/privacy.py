"""Erasure: after a volunteer's DELETE, only a keyed digest of their number is kept, which is
all it takes to honour their opt-out if they ever write again."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import exists, select

from gateway.addresses import digest
from gateway.extensions import db
from gateway.models import Address, Message

ERASED_PREFIX = "hmac:"


def erased_value(value: str) -> str:
    """What an erased address's value becomes: the keyed digest of the number or email."""
    return ERASED_PREFIX + digest(value, current_app.config["SECRET_KEY"])


def complete_erasure(address: Address) -> bool:
    """Replace the address with its digest once nothing is left to send to it (the DELETE
    confirmation goes first); returns whether it was erased. The caller commits."""
    if not address.pending_erasure or address.value.startswith(ERASED_PREFIX):
        return False
    pending = db.session.scalar(
        select(exists().where(Message.address_id == address.id, Message.status.in_(("queued", "sending"))))
    )
    if pending:
        return False
    address.value = erased_value(address.value)
    address.pending_erasure = False
    return True


def complete_pending_erasures() -> int:
    """Finish every erasure whose messages are done (the sweeper calls this)."""
    done = 0
    for address in db.session.scalars(select(Address).where(Address.pending_erasure.is_(True))):
        done += complete_erasure(address)
    return done
