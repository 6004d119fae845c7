"""The organization's prompt library: validating, storing and previewing conversation ideas.

Prompts are validated before they are stored (known placeholders, stages, relationships,
languages), so a typo shows up at the organizer's terminal instead of in a volunteer's text.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

from sqlalchemy import select

from flows import events as ev
from flows import prompts as flow_prompts
from gateway import clock
from gateway.extensions import db
from gateway.models import Organization, Prompt

PLACEHOLDERS = frozenset({"friend", "volunteer", "interest", "relationship"})
LANGUAGES = frozenset({"en", "es"})


class PromptError(ValueError):
    """A prompt an organizer wrote cannot be used as it is."""


def validate(item: Mapping[str, Any]) -> dict[str, Any]:
    """A clean prompt record from an organizer's input, or PromptError saying what is wrong."""
    key = str(item.get("key", "")).strip()
    body = str(item.get("body", "")).strip()
    if not key or len(key) > 64 or not all(c.isalnum() or c in "-_" for c in key):
        raise PromptError(f"key {key!r}: use 1-64 letters, digits, - or _")
    if not body:
        raise PromptError(f"{key}: the body is empty")
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(body) if name is not None}
    except ValueError as exc:
        raise PromptError(f"{key}: unbalanced braces in the body ({exc})") from exc
    unknown = names - PLACEHOLDERS
    if unknown:
        raise PromptError(f"{key}: unknown placeholder(s) {sorted(unknown)}; use {sorted(PLACEHOLDERS)}")
    record = {"key": key, "body": body, "language": str(item.get("language", "en"))}
    if record["language"] not in LANGUAGES:
        raise PromptError(f"{key}: language must be one of {sorted(LANGUAGES)}")
    for field, allowed in (("stages", ev.STAGES), ("relationships", ev.RELATIONSHIPS), ("interests", None)):
        values = [str(v).strip().lower() for v in item.get(field, []) or [] if str(v).strip()]
        bad = [v for v in values if allowed is not None and v not in allowed]
        if bad:
            raise PromptError(f"{key}: unknown {field} {bad}; use {list(allowed or [])}")
        record[field] = values
    return record


def upsert(org: Organization, items: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
    """Add or update prompts by key (the caller commits); returns (added, updated). Nothing is
    stored unless every item is valid."""
    records = [validate(item) for item in items]
    existing = {p.key: p for p in db.session.scalars(select(Prompt).where(Prompt.organization_id == org.id))}
    added = updated = 0
    for record in records:
        prompt = existing.get(record["key"])
        if prompt is None:
            db.session.add(Prompt(organization_id=org.id, **record))
            added += 1
        else:
            for field, value in record.items():
                setattr(prompt, field, value)
            prompt.active = True
            updated += 1
    db.session.flush()
    return added, updated


def preview(prompt: Prompt, friend: str = "Maria", interest: str = "", relationship: str = "neighbor") -> str:
    """The prompt as a volunteer would read it, for a sample friend."""
    view = ev.Friend(0, friend, relationship, (interest,) if interest else tuple(prompt.interests or ()))
    library = (ev.Prompt(prompt.id, prompt.body, language=prompt.language),)
    ctx = ev.Context(ev.Organization("", ""), now=clock.now(), prompts=library, language=prompt.language)
    return flow_prompts.suggest(view, ctx).text


def library(org_id: int) -> tuple[ev.Prompt, ...]:
    """The organization's active prompts, as the flows choose among them."""
    rows = db.session.scalars(
        select(Prompt).where(Prompt.organization_id == org_id, Prompt.active.is_(True)).order_by(Prompt.id)
    )
    return tuple(
        ev.Prompt(
            id=p.id,
            body=p.body,
            stages=tuple(p.stages or ()),
            interests=tuple(p.interests or ()),
            relationships=tuple(p.relationships or ()),
            language=p.language,
        )
        for p in rows
    )


def default_prompts() -> list[dict[str, Any]]:
    """The starter prompt library shipped with Kindred."""
    return json.loads(resources.files("gateway").joinpath("data/prompts.json").read_text("utf-8"))


def seed(org: Organization) -> int:
    """Add the starter prompts the organization does not have yet; returns how many."""
    have = set(db.session.scalars(select(Prompt.key).where(Prompt.organization_id == org.id)))
    added = 0
    for item in default_prompts():
        if item["key"] in have:
            continue
        db.session.add(
            Prompt(
                organization_id=org.id,
                key=item["key"],
                body=item["body"],
                stages=item.get("stages", []),
                interests=item.get("interests", []),
                relationships=item.get("relationships", []),
                language=item.get("language", "en"),
            )
        )
        added += 1
    db.session.flush()
    return added


def find(org: Organization, key: str) -> Prompt | None:
    """The organization's prompt `key`, if it has one."""
    return db.session.scalar(select(Prompt).where(Prompt.key == key, Prompt.organization_id == org.id))
