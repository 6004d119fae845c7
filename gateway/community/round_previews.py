"""Round previews planned by the worker, not in a web request: planning a big organization's
round takes longer than a request may.

Asking for a preview stores a waiting record in Redis under a random id (with a TTL) and notes
the planning job for after the commit (gateway.jobs runs it). The job plans the round and stores
the result under the same id: the counts, each exclusion reason with its count, the deferred
first and last times and the samples. The console's preview page reads it back, and the confirm
form names the id: the count typed is checked against it before a round starts.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from redis.exceptions import RedisError

from gateway import clock
from gateway.community import rounds
from gateway.delivery import handoff
from gateway.extensions import db, redis_client
from gateway.models import Organization, Organizer

log = logging.getLogger(__name__)
TTL = timedelta(hours=1)  # how long a preview can be read and confirmed
WORKER_LATE = timedelta(minutes=1)  # waiting longer than this, the page asks whether a worker runs
_KEY = "kindred:round-preview:{}"
WAITING, COUNTING, DONE, FAILED = "waiting", "counting", "done", "failed"


class StoreError(RuntimeError):
    """Redis could not store or read a preview."""


@dataclass(frozen=True)
class Sample:
    """One of a preview's sample texts, as stored."""

    volunteer: str
    friend_name: str
    send_at: datetime | None
    body: str


@dataclass
class Stored:
    """A preview as stored: who asked, for which audience, when, how far the job got and, once
    it is done, what the round would do (a rounds.Preview with stored samples)."""

    id: str
    organization_id: int
    organizer_id: int | None
    audience: str
    requested_at: datetime
    state: str = WAITING
    result: rounds.Preview | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def waited(self, now: datetime) -> timedelta:
        return now - self.requested_at


def _key(preview_id: str) -> str:
    return _KEY.format(preview_id)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _dump(stored: Stored) -> str:
    data: dict[str, Any] = {
        "organization_id": stored.organization_id,
        "organizer_id": stored.organizer_id,
        "audience": stored.audience,
        "requested_at": stored.requested_at.isoformat(),
        "state": stored.state,
    }
    result = stored.result
    if result is not None:
        data["result"] = {
            "now": result.now.isoformat(),
            "count": result.count,
            "excluded": result.excluded,
            "deferred": result.deferred,
            "first_deferred": result.first_deferred.isoformat() if result.first_deferred else None,
            "last_deferred": result.last_deferred.isoformat() if result.last_deferred else None,
            "samples": [
                {
                    "volunteer": s.volunteer,
                    "friend": s.friend_name,
                    "send_at": s.send_at.isoformat() if s.send_at else None,
                    "body": s.body,
                }
                for s in result.samples
            ],
        }
    return json.dumps(data)


def _load(preview_id: str, raw: str | bytes) -> Stored:
    data = json.loads(raw)
    kind, _, value = str(data["audience"]).partition(":")
    stored = Stored(
        id=preview_id,
        organization_id=int(data["organization_id"]),
        organizer_id=data.get("organizer_id"),
        audience=str(data["audience"]),
        requested_at=datetime.fromisoformat(data["requested_at"]),
        state=str(data["state"]),
    )
    result = data.get("result")
    if result is not None:
        stored.result = rounds.Preview(
            rounds.Audience(kind, value),
            datetime.fromisoformat(result["now"]),
            count=int(result["count"]),
            excluded={str(k): int(v) for k, v in result["excluded"].items()},
            deferred=int(result["deferred"]),
            first_deferred=_when(result["first_deferred"]),
            last_deferred=_when(result["last_deferred"]),
            samples=[
                Sample(s["volunteer"], s["friend"], _when(s["send_at"]), s["body"]) for s in result["samples"]
            ],
        )
    return stored


def _save(stored: Stored) -> None:
    try:
        redis_client().set(_key(stored.id), _dump(stored), ex=int(TTL.total_seconds()))
    except (RedisError, OSError) as exc:
        raise StoreError("could not store the preview") from exc


def ask(org: Organization, audience: rounds.Audience, organizer: Organizer | None) -> Stored:
    """Store a waiting preview of `audience` and note its planning job for after the commit
    (the caller commits). Raises StoreError if Redis cannot store it."""
    stored = Stored(
        id=secrets.token_urlsafe(16),
        organization_id=org.id,
        organizer_id=organizer.id if organizer else None,
        audience=str(audience),
        requested_at=clock.now(),
    )
    _save(stored)
    handoff.after_commit(handoff.ROUND_PREVIEW, stored.id)
    return stored


def find(org: Organization, preview_id: str) -> Stored | None:
    """The organization's stored preview with this id, or None (unknown, expired, another
    organization's, or unreadable)."""
    if not preview_id or len(preview_id) > 64:
        return None
    try:
        raw = redis_client().get(_key(preview_id))
    except (RedisError, OSError) as exc:
        raise StoreError("could not read the preview") from exc
    if raw is None:
        return None
    try:
        stored = _load(preview_id, raw)
    except (ValueError, KeyError, TypeError):
        log.warning("round preview %s is unreadable", preview_id[:8])
        return None
    return stored if stored.organization_id == org.id else None


def plan(preview_id: str) -> str:
    """The planning job: plan the stored preview's round and store what it would do. Returns
    what became of it (for the worker's log)."""
    raw = redis_client().get(_key(preview_id))  # a Redis failure fails the job, for RQ to show
    if raw is None:
        return "expired"
    stored = _load(preview_id, raw)
    if stored.state == DONE:
        return "done already"
    org = db.session.get(Organization, stored.organization_id)
    if org is None:
        return "no organization"
    stored.state = COUNTING
    _save(stored)
    try:
        audience = rounds.parse_audience(org, stored.audience)
    except rounds.AudienceError as exc:
        stored.state, stored.extra = FAILED, {"error": str(exc)}
        _save(stored)
        return "failed"
    result = rounds.preview(org, audience)
    result.samples = [
        Sample(p.volunteer, p.friend.name, p.send_at, p.body)
        for p in result.samples
        if isinstance(p, rounds.Planned)
    ]
    stored.state, stored.result = DONE, result
    _save(stored)
    db.session.rollback()  # a preview writes nothing
    return "done"
