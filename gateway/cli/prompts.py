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
from gateway.community import audit, ideas, organization
from gateway.community.prompts import LANGUAGES, PromptError, find, preview, set_active, upsert
from gateway.extensions import db
from gateway.models import Idea, Person, Prompt


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
        credited = db.session.get(Person, p.credited_person_id) if p.credited_person_id else None
        credit = f" (idea from {credited.name or 'a volunteer'})" if credited else ""
        click.echo(f"{p.key} [{p.language}]{state}{credit} {targets or 'anyone'}\n    {p.body}")


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
    _set_active(key, False)


@prompts_group.command("enable")
@click.argument("key")
@with_appcontext
def enable_prompt(key: str) -> None:
    """Suggest the disabled prompt KEY again."""
    _set_active(key, True)


def _set_active(key: str, active: bool) -> None:
    org = organization.default()
    prompt = find(org, key)
    if prompt is None:
        raise click.ClickException(f"no prompt {key!r}")
    set_active(org, prompt, active, None, actor=actor(), ip=host())
    db.session.commit()
    click.echo(f"{'enabled' if active else 'disabled'} {key}")


@prompts_group.command("ideas")
@with_appcontext
def list_ideas() -> None:
    """List the conversation ideas volunteers texted in (IDEA ...) that wait for review."""
    waiting = ideas.queue(organization.default())
    for idea, person in waiting:
        who = person.name or "a volunteer without a name yet"
        sent = f"{idea.created_at:%Y-%m-%d}"
        click.echo(f"{idea.id} [{idea.language}] from {who} (volunteer {person.id}), {sent}")
        click.echo(f"    {idea.body}")
    if not waiting:
        click.echo("no ideas waiting for review")


@prompts_group.command("adopt")
@click.argument("idea_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--key", required=True, help="The new prompt's key.")
@click.option("--body", help="The prompt, with placeholders; default: the idea as texted.")
@click.option("--stage", "stages", multiple=True, help="Only for friends at this ladder stage.")
@click.option("--interest", "interests", multiple=True, help="Only for friends who care about this.")
@click.option("--relationship", "relationships", multiple=True, help="Only for this relationship.")
@click.option("--language", type=click.Choice(sorted(LANGUAGES)), help="Default: the idea's language.")
@with_appcontext
def adopt_idea(
    idea_id: int,
    key: str,
    body: str | None,
    stages: tuple[str, ...],
    interests: tuple[str, ...],
    relationships: tuple[str, ...],
    language: str | None,
) -> None:
    """Add idea IDEA_ID to the library as prompt KEY, credited to its volunteer, who is told
    with the reply to their next text."""
    org = organization.default()
    idea = _idea(idea_id)
    item = {
        "key": key,
        "body": body if body is not None else idea.body,
        "stages": stages,
        "interests": interests,
        "relationships": relationships,
        "language": language or idea.language,
    }
    try:
        prompt = ideas.adopt(org, idea, item, None, actor=actor(), ip=host())
    except (PromptError, ideas.IdeaError) as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"adopted idea {idea_id} as {prompt.key}")
    _show_preview(prompt)


@prompts_group.command("dismiss")
@click.argument("idea_id", type=click.IntRange(1, 2**31 - 1))
@with_appcontext
def dismiss_idea(idea_id: int) -> None:
    """Take idea IDEA_ID off the review queue without adopting it."""
    try:
        ideas.dismiss(organization.default(), _idea(idea_id), None, actor=actor(), ip=host())
    except ideas.IdeaError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"dismissed idea {idea_id}")


def _idea(idea_id: int) -> Idea:
    idea = ideas.find(organization.default(), idea_id, lock=True)
    if idea is None:
        raise click.ClickException(f"no idea {idea_id}")
    return idea


@prompts_group.command("preview")
@click.argument("key")
@click.option("--friend", default="Maria", show_default=True)
@click.option("--interest", default="")
@click.option(
    "--relationship", type=click.Choice(ev.RELATIONSHIPS), help="Default: the prompt's first, or neighbor."
)
@with_appcontext
def preview_prompt(key: str, friend: str, interest: str, relationship: str | None) -> None:
    """Show the prompt KEY as a volunteer would read it."""
    prompt = find(organization.default(), key)
    if prompt is None:
        raise click.ClickException(f"no prompt {key!r}")
    _show_preview(prompt, friend, interest, relationship or "")


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
    org = organization.default()
    try:
        added, updated = upsert(org, items)
    except PromptError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    keys = [str(item["key"]).strip() for item in items][:50]
    audit.record(org, "prompts_saved", actor=actor(), ip=host(), added=added, updated=updated, keys=keys)
    db.session.commit()
    click.echo(f"{added} added, {updated} updated")


def _show_preview(prompt: Prompt, friend: str = "Maria", interest: str = "", relationship: str = "") -> None:
    text = preview(prompt, friend, interest, relationship)
    cost = segments.count(text)
    click.echo(
        f"preview ({cost.count} segment{'s' if cost.count != 1 else ''}, {cost.encoding}):\n    {text}"
    )
