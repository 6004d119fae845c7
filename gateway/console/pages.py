"""Console pages: organizers (admins invite others) and the audit log, and the filters every
page's templates use."""

from __future__ import annotations

from flask import current_app, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from wtforms import EmailField, SelectField
from wtforms.validators import DataRequired, Length

from gateway import clock
from gateway.access import current_organization, needs
from gateway.community import audit, organization, organizers
from gateway.console import bp
from gateway.console.forms import ConsoleForm, no_nul
from gateway.delivery.addresses import redact
from gateway.extensions import db
from gateway.models import AuditEntry, Organizer

AUDIT_PAGE = 100


class InviteForm(ConsoleForm):
    email = EmailField("Email", filters=[no_nul], validators=[DataRequired(), Length(max=320)])
    role = SelectField("Role", choices=list(organizers.ROLES), default="organizer")


@bp.route("/organizers", methods=["GET", "POST"])
@needs("admin")
def organizers_page() -> ResponseReturnValue:
    org = current_organization()
    form = InviteForm()
    link = None
    if form.validate_on_submit():
        try:
            token = organizers.invite(
                org, form.email.data or "", form.role.data or "", current_user.organizer, clock.now()
            )
        except organizers.OrganizerError as exc:
            flash(str(exc), "error")
        else:
            audit.record(
                org, "invitation_made", current_user.organizer, ip=request.remote_addr or "",
                email=organizers.normalize_email(form.email.data or ""), role=form.role.data,
            )  # fmt: skip
            db.session.commit()
            base = current_app.config["PUBLIC_BASE_URL"]  # the address people reach, not the one asked
            link = base + url_for("console.accept_invitation", token=token)
            flash(
                "Invitation made. Send the link below to them yourself; it works once, for three days.",
                "info",
            )
    elif request.method == "POST":
        flash("Check the email and role.", "error")
    people = db.session.scalars(
        select(Organizer).where(Organizer.organization_id == org.id).order_by(Organizer.email)
    ).all()
    status = 400 if request.method == "POST" and link is None else 200
    return render_template("console/organizers.html", form=form, people=people, link=link), status


@bp.get("/audit")
@needs("admin")
def audit_log() -> ResponseReturnValue:
    org = current_organization()
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.organization_id == org.id)
        .order_by(AuditEntry.id.desc())
        .limit(AUDIT_PAGE)
    ).all()
    return render_template("console/audit.html", entries=entries)


@bp.app_template_filter("when")
def when(moment: object) -> str:
    """A time as organizers read it: 2026-11-28 14:05 UTC."""
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else ""


@bp.app_template_filter("day")
def day(moment: object) -> str:
    """A date as organizers read it: 2026-11-28."""
    return f"{moment:%Y-%m-%d}" if moment else ""


bp.add_app_template_filter(redact, "redact")
# An organization's number as people write it ("(415) 555-0100"); it is stored in E.164.
bp.add_app_template_filter(organization.display_number, "phone_number")
