"""Organizer email in the console: viewers see the mailings and their progress; organizers write
one (an audience, a subject, a Markdown body), read the preview (the email as members will see
it, footer included, who gets it and who is excluded and why), and send it by typing the count.

Planning an email audience (a few thousand members at most) fits in the request, so the preview
is planned when it is asked for, and again when it is confirmed: if the count changed in between,
nothing is sent and the organizer sees the new preview. The same confirm form sent twice sends
one mailing."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import HiddenField, StringField, TextAreaField

from gateway.access import current_organization, needs
from gateway.community import mailings, sending
from gateway.config import email_on
from gateway.console import bp
from gateway.console.forms import ConsoleForm, no_nul, whole_number
from gateway.delivery import mail_content
from gateway.delivery.status import OUTBOX_REASONS
from gateway.extensions import db
from gateway.models import Mailing, Organization

KINDS = {
    "all": "Everyone with an email address",
    "team": "A team",
    "event": "People going to an event",
}


class ComposeForm(ConsoleForm):
    subject = StringField("Subject", filters=[no_nul])
    body = TextAreaField(
        "Message (Markdown: **bold**, *italic*, [a link](https://...), - a list)", filters=[no_nul]
    )


class ConfirmForm(ComposeForm):
    audience = HiddenField(filters=[no_nul])
    previewed_at = HiddenField()
    expected = HiddenField()
    count = StringField("Type the number of members who will get this email", filters=[no_nul])


@bp.get("/mail")
@needs("viewer")
def mail_page() -> ResponseReturnValue:
    return _mail_page(current_organization(), ComposeForm(formdata=None))


def _mail_page(
    org: Organization, form: ComposeForm, error: str = "", status: int = 200, chosen: object = None
) -> ResponseReturnValue:
    latest = mailings.mailings(org)
    zone = ZoneInfo(org.timezone)
    return render_template(
        "console/mail.html",
        mailings=latest,
        progress=mailings.progress([m.id for m in latest]),
        kinds=KINDS,
        teams=sending.team_choices(org),
        events=mailings.event_choices(org),
        local=lambda moment: f"{moment.astimezone(zone):%a %b %-d %Y, %H:%M}",
        chosen=chosen if chosen is not None else {},
        form=form,
        email_on=email_on(current_app.config),
        reasons=OUTBOX_REASONS,
        error=error,
    ), status


def _chosen() -> dict[str, str]:
    """The audience the posted form chose, as the compose form names it (a preview's forms
    name it `kind:value`)."""
    chosen = request.form.to_dict()
    if "audience" in chosen:
        kind, _, value = chosen["audience"].partition(":")
        chosen.update(kind=kind, team=value, event=value)
    return chosen


def _audience_text(args: dict[str, str]) -> str:
    """The audience the compose form chose, as `kind:value`."""
    kind = args.get("kind", "")
    value = {"team": args.get("team", ""), "event": args.get("event", "")}
    return f"{kind}:{value[kind]}" if kind in value else kind


@bp.post("/mail/preview")
@needs("organizer")
def mail_preview() -> ResponseReturnValue:
    """The preview of what the compose form wrote, with the form to confirm it; or, asked to
    edit from a preview, the compose form again with what was written."""
    org = current_organization()
    form = ComposeForm()
    chosen = _chosen()
    if not form.validate_on_submit():
        return _mail_page(org, form, "The form had expired; nothing was lost, preview again.", 400, chosen)
    if "edit" in request.form:
        return _mail_page(org, form, chosen=chosen)
    if not email_on(current_app.config):
        return _mail_page(org, form, "Email is turned off here (EMAIL_TRANSPORT=none).", 409, chosen)
    try:
        audience = mailings.parse_audience(org, _audience_text(chosen))
        mail = mailings.draft(form.subject.data or "", form.body.data or "")
    except (sending.AudienceError, mailings.DraftError) as exc:
        return _mail_page(org, form, f"{str(exc).capitalize()}.", 400, chosen)
    return _preview_page(org, mailings.preview(org, audience), mail, ConfirmForm(formdata=None))


def _preview_page(
    org: Organization,
    result: mailings.Preview,
    mail: mailings.Draft,
    form: ConfirmForm,
    status: int = 200,
) -> ResponseReturnValue:
    form.audience.data = str(result.audience)
    form.previewed_at.data = result.now.isoformat()
    form.expected.data = str(result.count)
    form.count.data = ""
    zone = ZoneInfo(org.timezone)
    return render_template(
        "console/mail_preview.html",
        result=result,
        mail=mail,
        html=mail_content.preview_html(org, mail.body),
        from_name=mail_content.sender(org)[1],
        form=form,
        local=lambda moment: f"{moment.astimezone(zone):%a %b %-d, %H:%M} ({org.timezone})",
    ), status


def _previewed_at(raw: str | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(raw or "")
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@bp.post("/mail")
@needs("organizer")
def mail_send() -> ResponseReturnValue:
    org = current_organization()
    form = ConfirmForm()
    previewed_at = _previewed_at(form.previewed_at.data)
    if not form.validate_on_submit() or previewed_at is None:
        problem = "The form had expired; nothing was sent. Preview the email again."
        return _mail_page(org, form, problem, 400, _chosen())
    if not email_on(current_app.config):
        problem = "Email is turned off here (EMAIL_TRANSPORT=none); nothing was sent."
        return _mail_page(org, form, problem, 409, _chosen())
    try:
        audience = mailings.parse_audience(org, form.audience.data or "")
        mail = mailings.draft(form.subject.data or "", form.body.data or "")
    except (sending.AudienceError, mailings.DraftError) as exc:
        return _mail_page(org, form, f"Not sent: {exc}.", 400, _chosen())
    expected = whole_number(form.expected.data)
    count = whole_number((form.count.data or "").strip().replace(",", ""))
    if count is None or count != expected:
        typed = f", not {form.count.data.strip()}" if form.count.data and form.count.data.strip() else ""
        flash(f"Not sent: type the number the preview counted ({expected}{typed}).", "error")
        return _preview_page(org, mailings.preview(org, audience), mail, ConfirmForm(formdata=None), 400)
    try:
        mailing, new = mailings.send(
            org,
            audience,
            mail,
            count,
            current_user.organizer,
            ip=request.remote_addr or "",
            previewed_at=previewed_at,
        )
    except mailings.ConfirmError as exc:
        flash(
            f"Not sent: the count changed since the preview, from {count} to {exc.count}. "
            "Check the preview again.",
            "error",
        )
        return _preview_page(org, mailings.preview(org, audience), mail, ConfirmForm(formdata=None), 409)
    if new:
        flash(f"Sending: {mailing.planned} emails queued.", "info")
    else:
        flash("That email was already sent; this is it.", "info")
    return redirect(url_for("console.mailing_page", id=mailing.id), 303)


@bp.get("/mail/<id:id>")
@needs("viewer")
def mailing_page(id: int) -> ResponseReturnValue:
    """One mailing: who it was for, who was left out then, where its emails are, and the email."""
    org = current_organization()
    mailing = db.session.get(Mailing, id)
    if mailing is None or mailing.organization_id != org.id:
        abort(404, description="no such email")
    return render_template(
        "console/mailing.html",
        mailing=mailing,
        progress=mailings.progress([id])[id],
        exclusions=mailings.EXCLUSIONS,
        reasons=OUTBOX_REASONS,
        html=mail_content.preview_html(org, mailing.body),
    )
