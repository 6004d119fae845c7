"""The coaching tips (/console/prompts/tips), a tab of the prompt library: the short pieces of
advice for hard conversations a volunteer gets one at a time by texting TIPS (CONSEJOS), by
language, in use and retired. Viewers read; organizers add, edit, retire and restore them, each
shown as a volunteer would read it with what it costs in SMS segments. Every change is audited
by key, never with a tip's text."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField

from flows import events as ev
from flows import segments
from flows import tips as tip_flow
from gateway.access import current_organization, needs
from gateway.community import audit
from gateway.community import tips as library
from gateway.community.prompts import LANGUAGES
from gateway.console import bp
from gateway.console.forms import ConsoleForm, no_nul
from gateway.console.prompts import Preview, client_ip, expired, without_key
from gateway.extensions import db
from gateway.models import Organization, Tip


class TipForm(ConsoleForm):
    key = StringField("Key", filters=[no_nul])
    body = TextAreaField("The tip", filters=[no_nul])
    language = SelectField("Language", choices=sorted(LANGUAGES), validate_choice=False)

    def item(self, key: str | None = None) -> dict[str, Any]:
        """What the organizer typed, as the library's validate() reads it."""
        return {
            "key": key if key is not None else (self.key.data or "").strip(),
            "body": self.body.data or "",
            "language": self.language.data or "en",
        }


def preview_of(item: dict[str, Any]) -> Preview:
    """The tip as a volunteer would read it and its cost; the problem if it cannot be used."""
    key = item.get("key") or "preview"
    try:
        record = library.validate({**item, "key": key})
    except library.TipError as exc:
        return Preview(problem=without_key(str(exc), key))
    text = _as_read(record["body"], record["language"])
    return Preview(text, segments.count(text))


def _as_read(body: str, language: str) -> str:
    """A tip as a volunteer reads it the first time they get it."""
    return tip_flow.text(ev.TipView(0, body, language), language)


@bp.get("/prompts/tips")
@needs("viewer")
def tips_page() -> ResponseReturnValue:
    return _list_page(TipForm(formdata=None, language="en"), Preview())


@bp.post("/prompts/tips")
@needs("organizer")
def create_tip() -> ResponseReturnValue:
    org = current_organization()
    form = TipForm()
    if not form.validate_on_submit():
        return _list_page(form, Preview(problem=expired(form)), 400)
    item = form.item()
    if request.form.get("action") == "preview":
        return _list_page(form, preview_of(item))
    try:
        tip = library.create(org, item)
    except library.TipError as exc:
        db.session.rollback()
        return _list_page(form, Preview(problem=without_key(str(exc), item["key"])), 400)
    audit.record(org, "tip_created", current_user.organizer, ip=client_ip(), key=tip.key)
    db.session.commit()
    flash(f"Added {tip.key}. Volunteers who text TIPS can get it from now on.", "info")
    return redirect(url_for("console.tip_page", id=tip.id), 303)


@bp.get("/prompts/tips/<id:id>")
@needs("viewer")
def tip_page(id: int) -> ResponseReturnValue:
    tip = _tip(current_organization(), id)
    form = TipForm(formdata=None, key=tip.key, body=tip.body, language=tip.language)
    return _edit_page(tip, form, preview_of(form.item(tip.key)))


@bp.post("/prompts/tips/<id:id>")
@needs("organizer")
def edit_tip(id: int) -> ResponseReturnValue:
    org = current_organization()
    tip = _tip(org, id, lock=True)
    form = TipForm()
    if not form.validate_on_submit():
        return _edit_page(tip, form, Preview(problem=expired(form)), 400)
    item = form.item(tip.key)
    if request.form.get("action") == "preview":
        return _edit_page(tip, form, preview_of(item))
    try:
        library.edit(tip, item)
    except library.TipError as exc:
        db.session.rollback()
        return _edit_page(tip, form, Preview(problem=without_key(str(exc), tip.key)), 400)
    audit.record(org, "tip_edited", current_user.organizer, ip=client_ip(), key=tip.key)
    db.session.commit()
    flash(f"Saved {tip.key}.", "info")
    return redirect(url_for("console.tip_page", id=tip.id), 303)


@bp.post("/prompts/tips/<id:id>/retire")
@needs("organizer")
def retire_tip(id: int) -> ResponseReturnValue:
    return _set_active(id, False)


@bp.post("/prompts/tips/<id:id>/restore")
@needs("organizer")
def restore_tip(id: int) -> ResponseReturnValue:
    return _set_active(id, True)


def _set_active(id: int, active: bool) -> ResponseReturnValue:
    org = current_organization()
    tip = _tip(org, id, lock=True)
    form = ConsoleForm()
    if not form.validate_on_submit():
        flash(expired(form), "error")
        return redirect(url_for("console.tip_page", id=tip.id), 303)
    library.set_active(org, tip, active, current_user.organizer, ip=client_ip())
    db.session.commit()
    if active:
        flash(f"Restored {tip.key}: volunteers who text TIPS can get it again.", "info")
    else:
        flash(f"Retired {tip.key}: no volunteer gets it now.", "info")
    return redirect(url_for("console.tip_page", id=tip.id), 303)


def _list_page(form: TipForm, preview: Preview, status: int = 200) -> ResponseReturnValue:
    org = current_organization()
    rows = list(
        db.session.scalars(select(Tip).where(Tip.organization_id == org.id).order_by(Tip.language, Tip.id))
    )
    languages = [
        (language, [t for t in rows if t.active and t.language == language]) for language in sorted(LANGUAGES)
    ]
    page = render_template(
        "console/tips.html",
        languages=languages,
        retired=[t for t in rows if not t.active],
        cost=lambda tip: segments.count(_as_read(tip.body, tip.language)),
        form=form,
        preview=preview,
    )
    return page, status


def _edit_page(tip: Tip, form: TipForm, preview: Preview, status: int = 200) -> ResponseReturnValue:
    return render_template("console/tip.html", tip=tip, form=form, preview=preview), status


def _tip(org: Organization, id: int, lock: bool = False) -> Tip:
    query = select(Tip).where(Tip.id == id, Tip.organization_id == org.id)
    tip = db.session.scalar(query.with_for_update() if lock else query)
    if tip is None:
        abort(404, description="no such tip")
    return tip
