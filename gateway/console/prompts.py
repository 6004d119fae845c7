"""The prompt library (/console/prompts): conversation ideas volunteers get, with targeting and a
live preview of what a volunteer would read and what it costs in SMS segments; and the review
queue of ideas volunteers texted in (IDEA ...), which organizers adopt into the library,
credited to the volunteer, or dismiss. Viewers read; organizers change. Every change is audited
by key, never with a prompt's or an idea's text. The page's other tab, the coaching tips, is
gateway/console/tips.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField

from flows import abuse, segments
from flows import events as ev
from flows.prompts import MAX_SEGMENTS
from gateway.access import current_organization, needs
from gateway.community import audit, ideas
from gateway.community import prompts as library
from gateway.console import bp
from gateway.console.forms import ConsoleForm, no_nul
from gateway.extensions import db
from gateway.models import Idea, Organization, Person, Prompt

SAMPLE_VOLUNTEER = "Sam"
SAMPLE_FRIEND = "Maria"


class PromptForm(ConsoleForm):
    key = StringField("Key", filters=[no_nul])
    body = TextAreaField("The idea", filters=[no_nul])
    language = SelectField("Language", choices=sorted(library.LANGUAGES), validate_choice=False)
    stages = SelectMultipleField("Ladder stages", choices=list(ev.STAGES), validate_choice=False)
    relationships = SelectMultipleField(
        "Relationships", choices=list(ev.RELATIONSHIPS), validate_choice=False
    )
    interests = StringField("Interests", filters=[no_nul])

    def item(self, key: str | None = None) -> dict[str, Any]:
        """What the organizer typed, as the library's validate() reads it."""
        return {
            "key": key if key is not None else (self.key.data or "").strip(),
            "body": self.body.data or "",
            "language": self.language.data or "en",
            "stages": self.stages.data or [],
            "relationships": self.relationships.data or [],
            "interests": [i for i in (self.interests.data or "").split(",") if i.strip()],
        }


@dataclass(frozen=True)
class Preview:
    """The prompt as a volunteer would read it and its cost, or why it cannot be used."""

    text: str = ""
    segments: segments.Segments | None = None
    problem: str = ""

    @property
    def too_long(self) -> bool:
        return self.segments is not None and self.segments.count > MAX_SEGMENTS


def preview_of(item: dict[str, Any]) -> Preview:
    """The preview of a prompt as typed; a problem (a bad placeholder named) if it is invalid."""
    try:
        record = library.validate({**item, "key": item.get("key") or "preview"})
    except library.PromptError as exc:
        return Preview(problem=without_key(str(exc), item.get("key") or "preview"))
    text = library.preview(record, SAMPLE_FRIEND, volunteer=SAMPLE_VOLUNTEER)
    return Preview(text, segments.count(text))


@bp.get("/prompts")
@needs("viewer")
def prompts_page() -> ResponseReturnValue:
    org = current_organization()
    rows = list(
        db.session.scalars(
            select(Prompt).where(Prompt.organization_id == org.id).order_by(Prompt.language, Prompt.key)
        )
    )
    credited = _people({p.credited_person_id for p in rows if p.credited_person_id})
    return render_template(
        "console/prompts.html",
        active=[p for p in rows if p.active],
        retired=[p for p in rows if not p.active],
        credited=credited,
        queue=ideas.queue(org),
        flagged=abuse.flagged,
        form=_form_for_new(),
    )


@bp.post("/prompts")
@needs("organizer")
def create_prompt() -> ResponseReturnValue:
    org = current_organization()
    form = PromptForm()
    if not form.validate_on_submit():
        return _edit_page(None, form, Preview(problem=expired(form)), 400)
    item = form.item()
    if request.form.get("action") == "preview":
        return _edit_page(None, form, preview_of(item))
    try:
        prompt = library.create(org, item)
    except library.PromptError as exc:
        db.session.rollback()
        return _edit_page(None, form, Preview(problem=without_key(str(exc), item["key"])), 400)
    audit.record(org, "prompt_created", current_user.organizer, ip=client_ip(), key=prompt.key)
    db.session.commit()
    flash(f"Added {prompt.key}. Volunteers it fits can get it from now on.", "info")
    return redirect(url_for("console.prompt_page", id=prompt.id), 303)


@bp.get("/prompts/new")
@needs("organizer")
def new_prompt() -> ResponseReturnValue:
    return _edit_page(None, _form_for_new(), Preview())


@bp.post("/prompts/preview")
@needs("organizer")
def preview_prompt() -> ResponseReturnValue:
    """The live preview's fragment, for htmx as the organizer types."""
    form = PromptForm()
    if not form.validate_on_submit():
        return render_template("console/prompt_preview.html", preview=Preview(problem=expired(form))), 400
    return render_template("console/prompt_preview.html", preview=preview_of(form.item()))


@bp.get("/prompts/<id:id>")
@needs("viewer")
def prompt_page(id: int) -> ResponseReturnValue:
    prompt = _prompt(current_organization(), id)
    form = PromptForm(
        formdata=None,
        key=prompt.key,
        body=prompt.body,
        language=prompt.language,
        stages=list(prompt.stages or ()),
        relationships=list(prompt.relationships or ()),
        interests=", ".join(prompt.interests or ()),
    )
    return _edit_page(prompt, form, preview_of(form.item(prompt.key)))


@bp.post("/prompts/<id:id>")
@needs("viewer", post="organizer")
def edit_prompt(id: int) -> ResponseReturnValue:
    org = current_organization()
    prompt = _prompt(org, id, lock=True)
    form = PromptForm()
    if not form.validate_on_submit():
        return _edit_page(prompt, form, Preview(problem=expired(form)), 400)
    item = form.item(prompt.key)
    if request.form.get("action") == "preview":
        return _edit_page(prompt, form, preview_of(item))
    try:
        library.edit(prompt, item)
    except library.PromptError as exc:
        db.session.rollback()
        return _edit_page(prompt, form, Preview(problem=without_key(str(exc), prompt.key)), 400)
    audit.record(org, "prompt_edited", current_user.organizer, ip=client_ip(), key=prompt.key)
    db.session.commit()
    flash(f"Saved {prompt.key}.", "info")
    return redirect(url_for("console.prompt_page", id=prompt.id), 303)


@bp.post("/prompts/<id:id>/retire")
@needs("organizer")
def retire_prompt(id: int) -> ResponseReturnValue:
    return _set_active(id, False)


@bp.post("/prompts/<id:id>/restore")
@needs("organizer")
def restore_prompt(id: int) -> ResponseReturnValue:
    return _set_active(id, True)


@bp.get("/prompts/ideas/<id:id>")
@needs("viewer")
def idea_page(id: int) -> ResponseReturnValue:
    org = current_organization()
    idea = _idea(org, id)
    person = db.session.get(Person, idea.person_id)
    if abuse.flagged(idea.body) and request.args.get("confirm") != "1":
        return render_template("console/idea_warning.html", idea=idea, person=person)
    form = PromptForm(formdata=None, key=f"idea-{idea.id}", body=idea.body, language=idea.language)
    return _idea_page(idea, person, form, preview_of(form.item()))


@bp.post("/prompts/ideas/<id:id>/adopt")
@needs("organizer")
def adopt_idea(id: int) -> ResponseReturnValue:
    org = current_organization()
    idea = _idea(org, id, lock=True)
    person = db.session.get(Person, idea.person_id)
    form = PromptForm()
    if not form.validate_on_submit():
        return _idea_page(idea, person, form, Preview(problem=expired(form)), 400)
    item = form.item()
    if request.form.get("action") == "preview":
        return _idea_page(idea, person, form, preview_of(item))
    try:
        prompt = ideas.adopt(org, idea, item, current_user.organizer, ip=client_ip())
    except (library.PromptError, ideas.IdeaError) as exc:
        db.session.rollback()
        status = 409 if isinstance(exc, ideas.IdeaError) else 400
        return _idea_page(idea, person, form, Preview(problem=without_key(str(exc), item["key"])), status)
    db.session.commit()
    flash(f"Adopted as {prompt.key}. The volunteer is told with the reply to their next text.", "info")
    return redirect(url_for("console.prompt_page", id=prompt.id), 303)


@bp.post("/prompts/ideas/<id:id>/dismiss")
@needs("organizer")
def dismiss_idea(id: int) -> ResponseReturnValue:
    org = current_organization()
    idea = _idea(org, id, lock=True)
    form = ConsoleForm()
    if not form.validate_on_submit():
        flash(expired(form), "error")
        return redirect(url_for("console.idea_page", id=idea.id, confirm=1), 303)
    try:
        ideas.dismiss(org, idea, current_user.organizer, ip=client_ip())
    except ideas.IdeaError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("console.prompts_page"), 303)
    db.session.commit()
    flash("Dismissed. It is off the queue.", "info")
    return redirect(url_for("console.prompts_page"), 303)


def _set_active(id: int, active: bool) -> ResponseReturnValue:
    org = current_organization()
    prompt = _prompt(org, id, lock=True)
    form = ConsoleForm()
    if not form.validate_on_submit():
        flash(expired(form), "error")
        return redirect(url_for("console.prompt_page", id=prompt.id), 303)
    library.set_active(org, prompt, active, current_user.organizer, ip=client_ip())
    db.session.commit()
    if active:
        flash(f"Restored {prompt.key}: volunteers it fits can get it again.", "info")
    else:
        flash(f"Retired {prompt.key}: no volunteer gets it now. What was sent with it stays.", "info")
    return redirect(url_for("console.prompt_page", id=prompt.id), 303)


def _edit_page(
    prompt: Prompt | None, form: PromptForm, preview: Preview, status: int = 200
) -> ResponseReturnValue:
    credited_id = prompt.credited_person_id if prompt else None
    credited = db.session.get(Person, credited_id) if credited_id else None
    page = render_template(
        "console/prompt.html", prompt=prompt, form=form, preview=preview, credited=credited
    )
    return page, status


def _idea_page(
    idea: Idea, person: Person | None, form: PromptForm, preview: Preview, status: int = 200
) -> ResponseReturnValue:
    adopted = db.session.get(Prompt, idea.prompt_id) if idea.prompt_id else None
    page = render_template(
        "console/idea.html", idea=idea, person=person, form=form, preview=preview, adopted=adopted
    )
    return page, status


def _form_for_new() -> PromptForm:
    return PromptForm(formdata=None, language="en")


def _prompt(org: Organization, id: int, lock: bool = False) -> Prompt:
    query = select(Prompt).where(Prompt.id == id, Prompt.organization_id == org.id)
    prompt = db.session.scalar(query.with_for_update() if lock else query)
    if prompt is None:
        abort(404, description="no such prompt")
    return prompt


def _idea(org: Organization, id: int, lock: bool = False) -> Idea:
    idea = ideas.find(org, id, lock=lock)
    if idea is None:
        abort(404, description="no such idea")
    return idea


def _people(ids: set[int]) -> dict[int, Person]:
    if not ids:
        return {}
    return {p.id: p for p in db.session.scalars(select(Person).where(Person.id.in_(ids)))}


def without_key(message: str, key: str) -> str:
    """A library error without the "key: " it starts with: the form shows the key already."""
    return message.removeprefix(f"{key}: ")


def expired(form: ConsoleForm) -> str:
    """Why a library form (a prompt's or a tip's) was refused before its fields were read."""
    if "csrf_token" in form.errors:
        return "The form had expired; nothing was changed. Try again."
    return "Check the form and try again."


def client_ip() -> str:
    """The address the request came from, for the audit log."""
    return request.remote_addr or ""
