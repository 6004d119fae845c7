"""The organization's prompt library: validating, storing and previewing conversation ideas.

Prompts are validated before they are stored (known placeholders, stages, relationships,
languages), so a typo shows up at the organizer's terminal instead of in a volunteer's text.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import timedelta
from importlib import resources
from typing import Any, overload

from sqlalchemy import select

from flows import events as ev
from flows import prompts as flow_prompts
from gateway import clock
from gateway.community import audit
from gateway.extensions import db
from gateway.models import Organization, Organizer, Prompt

# In the order an organizer is offered them; {event} is the next event, and an idea naming it
# is suggested only while one is coming up.
PLACEHOLDERS = ("friend", "interest", "relationship", "volunteer", "event")
LANGUAGES = frozenset({"en", "es"})
FIELDS = ("key", "body", "language", "stages", "interests", "relationships")
KEY_MAX = 64
BODY_MAX = 600  # an idea fills two segments at most; this leaves room to cut one down
SAMPLE_EVENT = "Community Forum"  # what a preview names for {event}, a week out


class PromptError(ValueError):
    """A prompt an organizer wrote cannot be used as it is."""


def validate(item: Mapping[str, Any]) -> dict[str, Any]:
    """A clean prompt record from an organizer's input, or PromptError saying what is wrong."""
    key = str(item.get("key", "")).strip()
    body = str(item.get("body", "")).strip()
    problem = key_problem(key)
    if problem:
        raise PromptError(problem)
    if not body:
        raise PromptError(f"{key}: the body is empty")
    if len(body) > BODY_MAX:
        raise PromptError(f"{key}: the body is {len(body)} characters; keep it under {BODY_MAX}")
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(body) if name is not None}
    except ValueError as exc:
        raise PromptError(f"{key}: unbalanced braces in the body ({exc})") from exc
    unknown = names - set(PLACEHOLDERS)
    if unknown:
        raise PromptError(f"{key}: {_unknown_placeholders(unknown)}")
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


def key_problem(key: str) -> str | None:
    """What is wrong with `key` as the key of a library entry (a prompt or a tip); None if
    nothing is."""
    if not key or len(key) > KEY_MAX or not all(c.isalnum() or c in "-_" for c in key):
        return f"key {key!r}: use 1-{KEY_MAX} letters, digits, - or _"
    return None


def _unknown_placeholders(names: set[str]) -> str:
    """ "{frend} is not a placeholder; use {friend}, {interest}, {relationship}, {volunteer} or
    {event}"."""
    shown = [f"{{{name}}}" for name in sorted(names)]
    known = [f"{{{name}}}" for name in PLACEHOLDERS]
    if len(shown) == 1:
        subject = f"{shown[0]} is not a placeholder"
    else:
        subject = f"{_either(shown, 'and')} are not placeholders"
    return f"{subject}; use {_either(known, 'or')}"


def _either(words: list[str], conjunction: str) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


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
            prompt.updated_at = clock.now()
            updated += 1
    db.session.flush()
    return added, updated


def preview(
    prompt: Prompt | Mapping[str, Any],
    friend: str = "Maria",
    interest: str = "",
    relationship: str = "",
    volunteer: str | None = None,
) -> str:
    """The prompt (stored, or a validated record not yet stored) as a volunteer would read it,
    for a sample friend who fits its targeting: at its first stage, of its first relationship
    (else `relationship`, else a neighbor), caring about `interest` or its interests, with a
    sample event a week out for {event}."""
    record = prompt if isinstance(prompt, Mapping) else {f: getattr(prompt, f) for f in FIELDS}
    stages = list(record.get("stages") or ())
    relationships = list(record.get("relationships") or ())
    view = ev.Friend(
        0,
        friend,
        relationship or (relationships[0] if relationships else "neighbor"),
        (interest,) if interest else tuple(record.get("interests") or ()),
        stage=stages[0] if stages else "listed",
    )
    language = str(record.get("language") or "en")
    library = (ev.Prompt(0, str(record["body"]), language=language),)
    now = clock.now()
    event = ev.EventView(0, SAMPLE_EVENT, now + timedelta(days=7))
    ctx = ev.Context(
        ev.Organization("", ""), now=now, prompts=library, language=language, name=volunteer, events=(event,)
    )
    return flow_prompts.suggest(view, ctx).text


def create(org: Organization, item: Mapping[str, Any], credited_person_id: int | None = None) -> Prompt:
    """A new prompt (the caller commits), or PromptError if it is invalid or its key is taken."""
    record = validate(item)
    if find(org, record["key"]) is not None:
        raise PromptError(f"{record['key']}: there is already a prompt with this key; choose another")
    prompt = Prompt(organization_id=org.id, credited_person_id=credited_person_id, **record)
    db.session.add(prompt)
    db.session.flush()
    return prompt


def edit(prompt: Prompt, item: Mapping[str, Any]) -> None:
    """Change a prompt's body, targeting and language (its key stays); PromptError if invalid."""
    record = validate({**item, "key": prompt.key})
    for field, value in record.items():
        setattr(prompt, field, value)
    prompt.updated_at = clock.now()


def set_active(
    org: Organization,
    prompt: Prompt,
    active: bool,
    organizer: Organizer | None,
    actor: str = "",
    ip: str = "",
) -> None:
    """Retire a prompt (no longer suggested; what was sent with it stays) or restore it, audited
    (the caller commits); nothing happens if it already is so."""
    if prompt.active == active:
        return
    prompt.active = active
    prompt.updated_at = clock.now()
    action = "prompt_restored" if active else "prompt_retired"
    audit.record(org, action, organizer, ip=ip, actor=actor, key=prompt.key)


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


class Library(Sequence[ev.Prompt]):
    """The organization's active prompts (:func:`library`), read the first time a flow looks
    at them: most texts (a first "hi", STOP, a report) never do, and reading a few hundred
    prompts would be most of such a turn's work."""

    def __init__(self, org_id: int) -> None:
        self._org_id = org_id
        self._prompts: tuple[ev.Prompt, ...] | None = None

    def _read(self) -> tuple[ev.Prompt, ...]:
        if self._prompts is None:
            self._prompts = library(self._org_id)
        return self._prompts

    @overload
    def __getitem__(self, index: int) -> ev.Prompt: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[ev.Prompt]: ...
    def __getitem__(self, index: int | slice) -> ev.Prompt | Sequence[ev.Prompt]:
        return self._read()[index]

    def __len__(self) -> int:
        return len(self._read())

    def __iter__(self) -> Iterator[ev.Prompt]:
        return iter(self._read())


def shipped(name: str) -> list[dict[str, Any]]:
    """A starter library shipped with Kindred (``gateway/data/<name>.json``)."""
    return json.loads(resources.files("gateway").joinpath(f"data/{name}.json").read_text("utf-8"))


def default_prompts() -> list[dict[str, Any]]:
    """The starter prompt library shipped with Kindred."""
    return shipped("prompts")


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
