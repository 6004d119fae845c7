"""Prompt rounds in the console: viewers see the rounds and their progress; organizers choose an
audience, read the preview (who gets a text, who is excluded and why, three samples), confirm by
typing the count, and pause, resume or cancel a running round.

The worker plans, not the request (a big organization's round takes longer than a request may):
choosing an audience stores a preview for the worker to plan (gateway.community.round_previews)
and redirects to its page, which says it is counting and refreshes itself until the result is
there. The confirm form names the stored preview: the count typed must be its count. The round
then starts `starting`, and the worker plans it again and queues the texts only if the count is
still the one confirmed (gateway.community.rounds.queue_started). The same form submitted twice
starts one round."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import HiddenField, StringField

from flows.events import STAGES
from gateway import clock
from gateway.access import current_organization, needs
from gateway.community import round_previews, rounds, sending
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
REFRESH_SECONDS = 2  # how often a counting preview's page asks again


class ConfirmForm(ConsoleForm):
    preview = HiddenField()
    count = StringField("Type the number of volunteers who will get a text", filters=[no_nul])


class ChangeForm(ConsoleForm):
    action = HiddenField()


@bp.get("/rounds")
@needs("viewer")
def rounds_page() -> ResponseReturnValue:
    return _rounds_page(current_organization(), chosen=request.args)


def _rounds_page(
    org: Organization, error: str = "", status: int = 200, chosen: object = None
) -> ResponseReturnValue:
    latest = rounds.rounds(org)
    return render_template(
        "console/rounds.html",
        rounds=latest,
        progress=rounds.progress([r.id for r in latest]),
        kinds=KINDS,
        teams=sending.team_choices(org),
        stages=STAGES,
        chosen=chosen if chosen is not None else request.form,
        form=ConsoleForm(formdata=None),
        error=error,
    ), status


def _audience_text(args: dict[str, str]) -> str:
    """The audience the form chose, as `kind:value`."""
    kind = args.get("kind", "")
    value = {"team": args.get("team", ""), "stage": args.get("stage", ""), "inactive": args.get("weeks", "")}
    return f"{kind}:{value[kind]}" if kind in value else kind


@bp.post("/rounds/preview")
@needs("organizer")
def round_preview() -> ResponseReturnValue:
    """Store a preview of the chosen audience for the worker to plan, and show its page."""
    org = current_organization()
    if not ConsoleForm().validate_on_submit():
        return _rounds_page(org, "The form had expired; choose the audience again.", 400)
    try:
        audience = rounds.parse_audience(org, _audience_text(request.form.to_dict()))
    except rounds.AudienceError as exc:
        return _rounds_page(org, str(exc), 400)
    try:
        stored = round_previews.ask(org, audience, current_user.organizer)
    except round_previews.StoreError:
        return _rounds_page(org, "The preview could not be stored (Redis is not answering). Try again.", 503)
    db.session.commit()  # hands the planning job to the queue
    return redirect(url_for("console.round_preview_page", id=stored.id), 303)


def _stored(org: Organization, preview_id: str) -> round_previews.Stored:
    try:
        stored = round_previews.find(org, preview_id)
    except round_previews.StoreError:
        abort(503)
    if stored is None:
        abort(404, description="no such preview")
    return stored


@bp.get("/rounds/preview/<string(maxlength=64):id>")
@needs("organizer")
def round_preview_page(id: str) -> ResponseReturnValue:
    """The preview's result, or, until the worker has planned it, a page saying it is counting
    that refreshes itself (htmx polls the same address; without JavaScript, a meta refresh)."""
    org = current_organization()
    stored = _stored(org, id)
    polled = request.headers.get("HX-Request") == "true"
    if stored.state == round_previews.DONE and stored.result is not None:
        if polled:  # the counting page asked: load the whole result page instead
            response = make_response("", 200)
            response.headers["HX-Refresh"] = "true"
            return response
        return _preview_page(org, stored, ConfirmForm(formdata=None))
    failed = stored.state == round_previews.FAILED
    return render_template(
        "console/round_counting.html" if not polled else "console/round_counting_state.html",
        stored=stored,
        late=stored.waited(clock.now()) >= round_previews.WORKER_LATE,
        refresh=REFRESH_SECONDS,
        error=stored.extra.get("error", "") if failed else "",
    ), (409 if failed else 200)


def _preview_page(
    org: Organization, stored: round_previews.Stored, form: ConfirmForm, status: int = 200
) -> ResponseReturnValue:
    form.preview.data = stored.id
    zone = ZoneInfo(org.timezone)
    return render_template(
        "console/round_preview.html",
        result=stored.result,
        form=form,
        local=lambda moment: f"{moment.astimezone(zone):%a %b %-d, %H:%M} ({org.timezone})",
    ), status


@bp.post("/rounds")
@needs("organizer")
def round_send() -> ResponseReturnValue:
    org = current_organization()
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _rounds_page(org, "The form had expired; nothing was sent. Preview the round again.", 400)
    try:
        stored = round_previews.find(org, form.preview.data or "")
    except round_previews.StoreError:
        return _rounds_page(
            org, "The preview could not be read (Redis is not answering); nothing was sent.", 503
        )
    if stored is None or stored.result is None:
        return _rounds_page(org, "That preview is not valid any more; nothing was sent. Preview again.", 400)
    result = stored.result
    count = whole_number((form.count.data or "").strip().replace(",", ""))
    if count is None:
        flash("Type the number of volunteers who will get a text, as the preview shows it.", "error")
        return _preview_page(org, stored, form, 400)
    if count != result.count:
        flash(f"Not sent: the preview counted {result.count}, not {count}. Check the preview again.", "error")
        return _preview_page(org, stored, ConfirmForm(formdata=None), 409)
    try:
        prompt_round, new = rounds.start(
            org,
            rounds.parse_audience(org, stored.audience),
            count,
            current_user.organizer,
            ip=request.remote_addr or "",
            previewed_at=result.now,
            excluded=result.excluded,
        )
    except rounds.AudienceError as exc:
        return _rounds_page(org, f"Not sent: {exc}. Choose the audience again.", 409)
    except rounds.ConfirmError as exc:
        flash(f"Not sent: {exc}. Check the preview again.", "error")
        return _preview_page(org, stored, ConfirmForm(formdata=None), 409)
    if new:
        flash(f"Round started: checking the count again and queuing {prompt_round.planned} texts.", "info")
    else:
        flash("That round was already started; this is it.", "info")
    return redirect(url_for("console.round_page", id=prompt_round.id), 303)


def _round(id: int) -> PromptRound:
    prompt_round = db.session.get(PromptRound, id)
    if prompt_round is None or prompt_round.organization_id != current_organization().id:
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
        count_at_check=rounds.COUNT_AT_CHECK,
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
        count_at_check=rounds.COUNT_AT_CHECK,
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
