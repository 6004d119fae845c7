"""`kindred prompts ...`: the prompt library from the organizer's terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from flows import events as ev
from flows import segments
from gateway.cli.actor import actor, host
from gateway.community import audit, organization
from gateway.community.prompts import LANGUAGES, PromptError, find, preview, upsert
from gateway.extensions import db
from gateway.models import Prompt


@click.group("prompts")
def prompts_group() -> None:
    """The prompt library: conversation ideas volunteers get."""


@prompts_group.command("list")
@click.option("--language", type=click.Choice(sorted(LANGUAGES)), help="Only prompts in this language.")
@with_appcontext
def list_prompts(language: str | None) -> None:
    """List the library, with each prompt's targeting."""
    org = organization.default()
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
    prompt = find(organization.default(), key)
    assert prompt is not None
    _show_preview(prompt)


@prompts_group.command("disable")
@click.argument("key")
@with_appcontext
def disable_prompt(key: str) -> None:
    """Stop suggesting the prompt KEY (it stays in the history of what was sent)."""
    prompt = find(organization.default(), key)
    if prompt is None:
        raise click.ClickException(f"no prompt {key!r}")
    prompt.active = False
    audit.record(organization.default(), "prompt_disabled", actor=actor(), ip=host(), key=key)
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
    prompt = find(organization.default(), key)
    if prompt is None:
        raise click.ClickException(f"no prompt {key!r}")
    _show_preview(prompt, friend, interest, relationship)


@prompts_group.command("export")
@with_appcontext
def export_prompts() -> None:
    """Write the library as JSON (the format `import` reads)."""
    org = organization.default()
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
        added, updated = upsert(organization.default(), items)
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
