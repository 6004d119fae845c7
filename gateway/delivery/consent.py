"""The consent ledger: append-only opt-in and opt-out events per address and channel."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ScalarSelect, Select, func, select

from flows.events import Consent
from gateway.extensions import db
from gateway.models import Address, ConsentEvent

# Where the kind of an address's latest consent event (None: it has none) leaves it.
KINDS = {None: Consent.UNKNOWN, "opt_in": Consent.OPTED_IN, "opt_out": Consent.OPTED_OUT}


def status(address: Address, channel: str | None = None) -> Consent:
    """Where the latest consent event on this address and channel (the address's own, unless
    named) leaves it."""
    return KINDS[db.session.scalar(select(latest_kind(address.id, channel or address.channel)))]


def latest_kind(address_id: Any, channel: Any) -> ScalarSelect[str | None]:
    """The kind of the latest consent event on `channel` of the address `address_id` (each a
    value, or an expression of a query it is part of), as a subquery; NULL when there is none."""
    return (
        select(ConsentEvent.kind)
        .where(ConsentEvent.address_id == address_id, ConsentEvent.channel == channel)
        .order_by(ConsentEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def latest_kinds(address_ids: Select[Any], channel: str) -> dict[int, str]:
    """The kind of the latest consent event (opt_in or opt_out) on `channel` of each address
    in `address_ids` (a query of ids), read at once; an address with none is left out."""
    latest = (
        select(func.max(ConsentEvent.id))
        .where(ConsentEvent.address_id.in_(address_ids), ConsentEvent.channel == channel)
        .group_by(ConsentEvent.address_id)
    )
    return dict(
        db.session.execute(
            select(ConsentEvent.address_id, ConsentEvent.kind).where(ConsentEvent.id.in_(latest))
        ).all()
    )


def opt_out(address: Address, source: str, detail: str = "", evidence_message_id: int | None = None) -> bool:
    """Record an opt-out unless one already stands; returns whether one was recorded. Providers
    report an opt-out again and again (every refused send); the ledger keeps the first."""
    if status(address) is Consent.OPTED_OUT:
        return False
    record(address, "opt_out", source, detail, evidence_message_id)
    return True


def record(
    address: Address,
    kind: str,
    source: str,
    detail: str = "",
    evidence_message_id: int | None = None,
    channel: str | None = None,
) -> ConsentEvent:
    """Append a consent event, on the address's own channel unless named (the caller commits)."""
    if kind not in ("opt_in", "opt_out"):
        raise ValueError(f"unknown consent kind {kind!r}")
    event = ConsentEvent(
        organization_id=address.organization_id,
        address_id=address.id,
        channel=channel or address.channel,
        kind=kind,
        source=source,
        detail=detail[:200],
        evidence_message_id=evidence_message_id,
    )
    db.session.add(event)
    db.session.flush()
    return event
