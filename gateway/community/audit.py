"""The audit log: what organizers did (logins, failed logins, exports, replies, settings, roles,
deletions), who, when and from which address. Entries are only ever added."""

from __future__ import annotations

from typing import Any

from gateway.extensions import db
from gateway.models import AuditEntry, Organization, Organizer


def record(
    org: Organization,
    action: str,
    organizer: Organizer | None = None,
    ip: str = "",
    actor: str = "",
    **detail: Any,
) -> AuditEntry:
    """Add an entry (the caller commits). `actor` names who acted when no organizer is known
    (the email a failed login gave)."""
    entry = AuditEntry(
        organization_id=org.id,
        organizer_id=organizer.id if organizer else None,
        actor=(organizer.email if organizer else actor)[:320],
        action=action,
        detail=detail,
        ip=ip[:64],
    )
    db.session.add(entry)
    return entry
