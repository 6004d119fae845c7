"""The organization's prompt library, for organizers: `kindred prompts ...`.

Prompts are validated before they are stored (known placeholders, stages, relationships,
languages), so a typo shows up at the organizer's terminal instead of in a volunteer's text.
"""

from __future__ import annotations

import json
import string
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from flows import events as ev
from flows import prompts as flow_prompts
from flows import segments
from gateway import clock, seed
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


@click.group("prompts")
def prompts_group() -> None:
    """The prompt library: conversation ideas volunteers get."""


@prompts_group.command("list")
@click.option("--language", type=click.Choice(sorted(LANGUAGES)), help="Only prompts in this language.")
@with_appcontext
def list_prompts(language: str | None) -> None:
    """List the library, with each prompt's targeting."""
    org = seed.default_organization()
    query = select(Prompt).where(Prompt.organization_id == org.id).order_by(Prompt.language, Prompt.key)
    for p in db.session.scalars(query):
        if language and p.language != language:
            continue
        targets = "; ".join(
            f"{f}={','.join(v)}" for f in ("stages", "interests", "relationships") if (v := getattr(p, f))
        )
        state = "" if p.active else " (disabled)"
        click.echo(f"{p.key} [{p.language}]{state} {targets or 'anyone'}\n    {p.body}")


@prompts_group.command("add")
@click.argument("key")
@click.argument("body")
@click.option("--stage", "stages", multiple=True, help="Only for friends at this ladder stage.")
@click.option("--interest", "interests", multiple=True, help="Only for friends who care about this.")
@click.option("--relationship", "relationships", multiple=True, help="Only for this relationship.")
@click.option("--language", default="en", show_default=True)
@with_appcontext
def add_prompt(
    key: str,
    body: str,
    stages: tuple[str, ...],
    interests: tuple[str, ...],
    relationships: tuple[str, ...],
    language: str,
) -> None:
    """Add (or replace) the prompt KEY with BODY, e.g. "ask {friend} about {interest}"."""
    item = {
        "key": key,
        "body": body,
        "stages": stages,
        "interests": interests,
        "relationships": relationships,
        "language": language,
    }
    _store([item])
    prompt = db.session.scalar(
        select(Prompt).where(Prompt.key == key, Prompt.organization_id == seed.default_organization().id)
    )
    assert prompt is not None
    _show_preview(prompt)


@prompts_group.command("disable")
@click.argument("key")
@with_appcontext
def disable_prompt(key: str) -> None:
    """Stop suggesting the prompt KEY (it stays in the history of what was sent)."""
    prompt = db.session.scalar(
        select(Prompt).where(Prompt.key == key, Prompt.organization_id == seed.default_organization().id)
    )
    if prompt is None:
        raise click.ClickException(f"no prompt {key!r}")
    prompt.active = False
    db.session.commit()
    click.echo(f"disabled {key}")


@prompts_group.command("preview")
@click.argument("key")
@click.option("--friend", default="Maria", show_default=True)
@click.option("--interest", default="")
@click.option("--relationship", default="neighbor", show_default=True, type=click.Choice(ev.RELATIONSHIPS))
@with_appcontext
def preview_prompt(key: str, friend: str, interest: str, relationship: str) -> None:
    """Show the prompt KEY as a volunteer would read it."""
    prompt = db.session.scalar(
        select(Prompt).where(Prompt.key == key, Prompt.organization_id == seed.default_organization().id)
    )
    if prompt is None:
        raise click.ClickException(f"no prompt {key!r}")
    _show_preview(prompt, friend, interest, relationship)


@prompts_group.command("export")
@with_appcontext
def export_prompts() -> None:
    """Write the library as JSON (the format `import` reads)."""
    org = seed.default_organization()
    rows = db.session.scalars(
        select(Prompt).where(Prompt.organization_id == org.id, Prompt.active.is_(True)).order_by(Prompt.key)
    )
    fields = ("key", "body", "language", "stages", "interests", "relationships")
    json.dump([{f: getattr(p, f) for f in fields} for p in rows], sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


@prompts_group.command("import")
@click.argument("source", type=click.File("r", encoding="utf-8"))
@with_appcontext
def import_prompts(source: Any) -> None:
    """Add or update prompts from a JSON list (as `export` writes); all or nothing."""
    try:
        items = json.load(source)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"not JSON: {exc}") from exc
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise click.ClickException("expected a JSON list of prompt objects")
    _store(items)


def _store(items: list[Mapping[str, Any]]) -> None:
    try:
        added, updated = upsert(seed.default_organization(), items)
    except PromptError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"{added} added, {updated} updated")


def _show_preview(
    prompt: Prompt, friend: str = "Maria", interest: str = "", relationship: str = "neighbor"
) -> None:
    text = preview(prompt, friend, interest, relationship)
    cost = segments.count(text)
    click.echo(
        f"preview ({cost.count} segment{'s' if cost.count != 1 else ''}, {cost.encoding}):\n    {text}"
    )
