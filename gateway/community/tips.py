"""The organization's coaching tips for hard conversations: validating, storing and seeding them,
and which one a volunteer who texts TIPS (CONSEJOS) gets next.

A tip is one short, practical text ("Listen first ..."), in English or Spanish (keys of the
Spanish starter tips end "-es", as in the prompt library). Organizers add, edit, retire and
restore tips in the console; a tip that would cost more than two SMS segments is refused, so a
volunteer never gets a long lecture. Changes are audited by key, never with a tip's text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from flows import events as ev
from flows import segments
from flows import tips as tip_flow
from gateway import clock
from gateway.community import audit
from gateway.community.prompts import LANGUAGES, key_problem, shipped
from gateway.extensions import db
from gateway.models import Organization, Organizer, Person, Tip, TipUse


class TipError(ValueError):
    """A tip an organizer wrote cannot be used as it is."""


def validate(item: Mapping[str, Any]) -> dict[str, str]:
    """A clean tip record (key, body, language) from an organizer's input, or TipError saying
    what is wrong."""
    key = str(item.get("key", "")).strip()
    body = " ".join(str(item.get("body", "")).split())
    language = str(item.get("language") or "en")
    problem = key_problem(key)
    if problem:
        raise TipError(problem)
    if not body:
        raise TipError(f"{key}: the tip is empty; write one short piece of advice")
    cost = segments.count(segments.gsm_friendly(body)).count
    if cost > tip_flow.MAX_SEGMENTS:
        raise TipError(
            f"{key}: the tip takes {cost} SMS segments; keep it to {tip_flow.MAX_SEGMENTS}"
            " (about 300 plain characters, or 130 with accents or emoji)"
        )
    if language not in LANGUAGES:
        raise TipError(f"{key}: language must be one of {sorted(LANGUAGES)}")
    return {"key": key, "body": body, "language": language}


def create(org: Organization, item: Mapping[str, Any]) -> Tip:
    """A new tip (the caller audits and commits), or TipError if it is invalid or its key is
    taken."""
    record = validate(item)
    if find(org, record["key"]) is not None:
        raise TipError(f"{record['key']}: there is already a tip with this key; choose another")
    tip = Tip(organization_id=org.id, **record)
    db.session.add(tip)
    db.session.flush()
    return tip


def edit(tip: Tip, item: Mapping[str, Any]) -> None:
    """Change a tip's text and language (its key stays); TipError if invalid."""
    record = validate({**item, "key": tip.key})
    tip.body = record["body"]
    tip.language = record["language"]
    tip.updated_at = clock.now()


def set_active(
    org: Organization, tip: Tip, active: bool, organizer: Organizer | None, actor: str = "", ip: str = ""
) -> None:
    """Retire a tip (no volunteer gets it now) or restore it, audited (the caller commits);
    nothing happens if it already is so."""
    if tip.active == active:
        return
    tip.active = active
    tip.updated_at = clock.now()
    audit.record(org, "tip_restored" if active else "tip_retired", organizer, ip=ip, actor=actor, key=tip.key)


def find(org: Organization, key: str) -> Tip | None:
    """The organization's tip `key`, if it has one."""
    return db.session.scalar(select(Tip).where(Tip.organization_id == org.id, Tip.key == key))


def for_volunteer(org_id: int, person_id: int) -> tuple[ev.TipView, ...]:
    """The organization's active tips, in both languages, as the TIPS flow chooses among them:
    those the volunteer was sent fewest times first (never sent, first of all), then in the
    library's order."""
    sent = (
        select(TipUse.tip_id, func.count().label("times"))
        .where(TipUse.person_id == person_id)
        .group_by(TipUse.tip_id)
        .subquery()
    )
    times = func.coalesce(sent.c.times, 0)
    rows = db.session.execute(
        select(Tip.id, Tip.body, Tip.language, times)
        .outerjoin(sent, sent.c.tip_id == Tip.id)
        .where(Tip.organization_id == org_id, Tip.active.is_(True))
        .order_by(times, Tip.id)
    )
    return tuple(ev.TipView(id, body, language, count) for id, body, language, count in rows)


def mark_sent(person: Person, tip_id: int, now: datetime) -> None:
    """Record that `person` was sent tip `tip_id`, so the next TIPS sends another. A tip of
    another organization is not recorded."""
    if db.session.scalar(
        select(Tip.id).where(Tip.id == tip_id, Tip.organization_id == person.organization_id)
    ):
        db.session.add(TipUse(person_id=person.id, tip_id=tip_id, at=now))


def default_tips() -> list[dict[str, Any]]:
    """The starter tips shipped with Kindred."""
    return shipped("tips")


def seed(org: Organization) -> int:
    """Add the starter tips the organization does not have yet; returns how many."""
    have = set(db.session.scalars(select(Tip.key).where(Tip.organization_id == org.id)))
    added = [
        Tip(organization_id=org.id, key=item["key"], body=item["body"], language=item.get("language", "en"))
        for item in default_tips()
        if item["key"] not in have
    ]
    db.session.add_all(added)
    db.session.flush()
    return len(added)
