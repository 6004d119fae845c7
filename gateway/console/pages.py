"""Console pages: the dashboard, organizers (admins invite others), and the audit log."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import EmailField, SelectField
from wtforms.validators import DataRequired, Length

from flows.events import STAGES
from gateway import clock
from gateway.access import needs
from gateway.community import audit, organization, organizers
from gateway.console import bp
from gateway.console.forms import ConsoleForm, no_nul
from gateway.delivery.addresses import redact
from gateway.extensions import db
from gateway.models import AuditEntry, ConsentEvent, ConversationReport, Friend, Organizer, Person

AUDIT_PAGE = 100


class InviteForm(ConsoleForm):
    email = EmailField("Email", filters=[no_nul], validators=[DataRequired(), Length(max=320)])
    role = SelectField("Role", choices=list(organizers.ROLES), default="organizer")


@bp.get("/")
@needs("viewer")
def dashboard() -> ResponseReturnValue:
    org = organization.default()
    week_ago = clock.now() - timedelta(days=7)
    reports = select(func.count()).select_from(ConversationReport)
    ladder = dict(
        db.session.execute(
            select(Friend.stage, func.count()).where(Friend.organization_id == org.id).group_by(Friend.stage)
        ).all()
    )
    learned = db.session.scalars(
        select(ConversationReport.learned)
        .where(ConversationReport.organization_id == org.id, ConversationReport.learned != "")
        .order_by(ConversationReport.id.desc())
        .limit(5)
    ).all()
    return render_template(
        "console/dashboard.html",
        org=org,
        volunteers=db.session.scalar(
            select(func.count())
            .select_from(Person)
            .where(Person.organization_id == org.id, Person.volunteer_since.is_not(None))
        ),
        conversations_week=db.session.scalar(
            reports.where(
                ConversationReport.organization_id == org.id, ConversationReport.reported_at > week_ago
            )
        ),
        conversations=db.session.scalar(reports.where(ConversationReport.organization_id == org.id)),
        opt_outs_week=db.session.scalar(
            select(func.count())
            .select_from(ConsentEvent)
            .where(
                ConsentEvent.organization_id == org.id,
                ConsentEvent.kind == "opt_out",
                ConsentEvent.at > week_ago,
            )
        ),
        ladder=[(stage, ladder.get(stage, 0)) for stage in STAGES],
        learned=learned,
    )


@bp.route("/organizers", methods=["GET", "POST"])
@needs("admin")
def organizers_page() -> ResponseReturnValue:
    org = organization.default()
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
    org = organization.default()
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


from gateway.console import volunteers  # noqa: E402, F401
