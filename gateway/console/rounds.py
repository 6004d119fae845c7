"""Prompt rounds in the console: viewers see the rounds and their progress; organizers choose an
audience, read the preview (who gets a text, who is excluded and why, three samples), confirm by
typing the count, and pause, resume or cancel a running round.

The confirm form carries a signed token naming the audience and when the preview was shown: the
audience cannot change between preview and send, and the same form submitted twice starts one
round (see gateway.community.rounds.send)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from itsdangerous import BadData, URLSafeTimedSerializer
from wtforms import HiddenField, StringField

from flows.events import STAGES
from gateway.access import SESSION_LIFETIME, needs
from gateway.community import organization, rounds
from gateway.console import bp
from gateway.console.forms import ConsoleForm, no_nul, whole_number
from gateway.delivery.status import OUTBOX_REASONS
from gateway.extensions import db
from gateway.models import Organization, PromptRound

KINDS = {
    "all": "Every volunteer",
    "team": "A team",
    "stage": "Volunteers with a friend at a stage",
    "inactive": "Volunteers who have not texted for some weeks",
}


class ConfirmForm(ConsoleForm):
    token = HiddenField()
    count = StringField("Type the number of volunteers who will get a text", filters=[no_nul])


class ChangeForm(ConsoleForm):
    action = HiddenField()


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="kindred.round-confirm")


@bp.get("/rounds")
@needs("viewer")
def rounds_page() -> ResponseReturnValue:
    return _rounds_page(organization.default())


def _rounds_page(org: Organization, error: str = "", status: int = 200) -> ResponseReturnValue:
    latest = rounds.rounds(org)
    return render_template(
        "console/rounds.html",
        rounds=latest,
        progress=rounds.progress([r.id for r in latest]),
        kinds=KINDS,
        teams=rounds.audience_choices(org),
        stages=STAGES,
        chosen=request.args,
        error=error,
    ), status


def _audience_text(args: Any) -> str:
    """The audience the form chose, as `kind:value`."""
    kind = args.get("kind", "")
    value = {"team": args.get("team", ""), "stage": args.get("stage", ""), "inactive": args.get("weeks", "")}
    return f"{kind}:{value[kind]}" if kind in value else kind


@bp.get("/rounds/preview")
@needs("organizer")
def round_preview() -> ResponseReturnValue:
    org = organization.default()
    try:
        audience = rounds.parse_audience(org, _audience_text(request.args))
    except rounds.AudienceError as exc:
        return _rounds_page(org, str(exc), 400)
    return _preview_page(org, audience, ConfirmForm(formdata=None))


def _preview_page(
    org: Organization, audience: rounds.Audience, form: ConfirmForm, status: int = 200
) -> ResponseReturnValue:
    result = rounds.preview(org, audience)
    form.token.data = _signer().dumps({"audience": str(audience), "at": result.now.isoformat()})
    zone = ZoneInfo(org.timezone)
    return render_template(
        "console/round_preview.html",
        result=result,
        form=form,
        local=lambda moment: f"{moment.astimezone(zone):%a %b %-d, %H:%M} ({org.timezone})",
    ), status


@bp.post("/rounds")
@needs("organizer")
def round_send() -> ResponseReturnValue:
    org = organization.default()
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _rounds_page(org, "The form had expired; nothing was sent. Preview the round again.", 400)
    try:
        signed = _signer().loads(form.token.data or "", max_age=int(SESSION_LIFETIME.total_seconds()))
        audience = rounds.parse_audience(org, str(signed["audience"]))
        previewed_at = datetime.fromisoformat(str(signed["at"]))
    except (BadData, KeyError, TypeError, ValueError):
        return _rounds_page(org, "That preview is not valid any more; nothing was sent. Preview again.", 400)
    count = whole_number((form.count.data or "").strip().replace(",", ""))
    if count is None:
        flash("Type the number of volunteers who will get a text, as the preview shows it.", "error")
        return _preview_page(org, audience, form, 400)
    try:
        prompt_round, new = rounds.send(
            org,
            audience,
            count,
            current_user.organizer,
            ip=request.remote_addr or "",
            previewed_at=previewed_at,
        )
    except rounds.ConfirmError as exc:
        flash(f"Not sent: {exc}. Check the preview again.", "error")
        return _preview_page(org, audience, ConfirmForm(formdata=None), 409)
    if new:
        flash(f"Round started: {prompt_round.planned} texts queued.", "info")
    else:
        flash("That round was already started; this is it.", "info")
    return redirect(url_for("console.round_page", id=prompt_round.id), 303)


def _round(id: int) -> PromptRound:
    prompt_round = db.session.get(PromptRound, id)
    if prompt_round is None or prompt_round.organization_id != organization.default().id:
        abort(404, description="no such round")
    return prompt_round


@bp.get("/rounds/<id:id>")
@needs("viewer")
def round_page(id: int) -> ResponseReturnValue:
    return _round_page(_round(id))


def _round_page(prompt_round: PromptRound, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "console/round.html",
        round=prompt_round,
        progress=rounds.progress([prompt_round.id])[prompt_round.id],
        reasons=OUTBOX_REASONS,
        exclusions=rounds.EXCLUSIONS,
        form=ChangeForm(formdata=None),
    ), status


@bp.get("/rounds/<id:id>/progress")
@needs("viewer")
def round_progress(id: int) -> ResponseReturnValue:
    """The round's progress alone, which the round page polls while it runs."""
    prompt_round = _round(id)
    return render_template(
        "console/round_progress.html",
        round=prompt_round,
        progress=rounds.progress([id])[id],
        reasons=OUTBOX_REASONS,
    )


@bp.post("/rounds/<id:id>/status")
@needs("organizer")
def round_status(id: int) -> ResponseReturnValue:
    prompt_round = _round(id)
    form = ChangeForm()
    if not form.validate_on_submit() or form.action.data not in rounds.PAST:
        flash("The form had expired or asked for nothing known; nothing was changed.", "error")
        return _round_page(prompt_round, 400)
    action = form.action.data or ""
    try:
        touched = rounds.change(prompt_round, action, current_user.organizer, ip=request.remote_addr or "")
    except rounds.RoundStateError as exc:
        flash(str(exc).capitalize() + ".", "error")
        return _round_page(prompt_round, 409)
    note = {
        "pause": "Paused: texts not yet sent wait until you resume.",
        "resume": f"Resumed: {touched} waiting texts queued again.",
        "cancel": f"Cancelled: {touched} texts not yet sent were withdrawn.",
    }[action]
    flash(note, "info")
    return redirect(url_for("console.round_page", id=id), 303)
