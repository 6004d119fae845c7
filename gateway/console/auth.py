"""Signing in and out, and accepting an invitation."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from flask_login import current_user, logout_user
from sqlalchemy.exc import IntegrityError
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from gateway import clock
from gateway.access import current_organization, limiter, needs, start_session
from gateway.community import audit, organization, organizers
from gateway.console import bp
from gateway.console.forms import ConsoleForm, no_nul
from gateway.extensions import db

# Per address, every attempt; per account and address, failed ones only (so nobody can lock an
# organizer out from elsewhere, and the right password after a typo still works).
LOGIN_LIMITS = "10 per minute;60 per hour"
ACCOUNT_LIMITS = "20 per hour"


class LoginForm(ConsoleForm):
    email = EmailField("Email", filters=[no_nul], validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", filters=[no_nul], validators=[DataRequired(), Length(max=1024)])
    # Asked only when the instance serves several organizations, and needed only when the email
    # has an account in more than one of them.
    organization = StringField(
        "Organization (its short name; needed if your email has accounts in several)",
        filters=[no_nul],
        validators=[Length(max=64)],
    )


class AcceptForm(ConsoleForm):
    name = StringField("Your name", filters=[no_nul], validators=[DataRequired(), Length(max=80)])
    password = PasswordField(
        f"Choose a password (at least {organizers.MIN_PASSWORD} characters)",
        validators=[DataRequired(), Length(min=organizers.MIN_PASSWORD, max=1024)],
    )


def _account_key() -> str:
    return f"login:{organizers.normalize_email(request.form.get('email', ''))}:{get_remote_address()}"


def _failed(response: Response) -> bool:
    return response.status_code == 401


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMITS, methods=["POST"])
@limiter.limit(ACCOUNT_LIMITS, methods=["POST"], key_func=_account_key, deduct_when=_failed)
def login() -> ResponseReturnValue:
    form = LoginForm()
    if not organization.several():
        del form.organization
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("console.dashboard"))
    if form.validate_on_submit():
        slug = (form.organization.data or "") if "organization" in form else ""
        attempt = organizers.sign_in(slug, form.email.data or "", form.password.data or "", clock.now())
        org, organizer = attempt.org, attempt.organizer
        if attempt.ambiguous:
            flash("That email has accounts in more than one organization: name yours as well.", "error")
            return render_template("console/login.html", form=form), 400
        if organizer is None:
            audit.record(org, "login_failed", ip=request.remote_addr or "", actor=form.email.data or "")
            db.session.commit()
            flash("That email and password don't match an account.", "error")
            return render_template("console/login.html", form=form), 401
        audit.record(org, "login", organizer, ip=request.remote_addr or "")
        db.session.commit()
        start_session(organizer)
        return redirect(_safe_next(request.args.get("next")) or url_for("console.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template("console/login.html", form=form), status


@bp.post("/logout")
@needs("viewer")
def logout() -> ResponseReturnValue:
    organizer = current_user.organizer
    organizers.end_sessions(organizer)  # a copied cookie must not outlive signing out
    audit.record(current_organization(), "logout", organizer, ip=request.remote_addr or "")
    db.session.commit()
    logout_user()
    flash("You're signed out.", "info")
    return redirect(url_for("console.login"))


@bp.route("/invitation", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMITS, methods=["POST"])
def accept_invitation() -> ResponseReturnValue:
    # The token rides in the query string, which no log line of ours records.
    token = request.args.get("token", "")
    now = clock.now()
    invitation = organizers.open_invitation(token, now)
    if invitation is None:
        return render_template("console/invitation_gone.html"), 404
    form = AcceptForm()
    if form.validate_on_submit():
        try:
            organizer = organizers.accept(invitation, form.password.data or "", form.name.data or "", now)
            org = organizers.organization_of(organizer)
            audit.record(
                org, "invitation_accepted", organizer, ip=request.remote_addr or "", role=organizer.role
            )
            db.session.commit()
        except organizers.OrganizerError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return render_template("console/accept.html", form=form, invitation=invitation), 400
        except IntegrityError:
            db.session.rollback()  # accepted twice at once: the first one counts
            return render_template("console/invitation_gone.html"), 409
        start_session(organizer)
        return redirect(url_for("console.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template("console/accept.html", form=form, invitation=invitation), status


def _safe_next(target: str | None) -> str | None:
    """Where to go after signing in: a page behind this login (the console, the simulator),
    never another site."""
    if target and target.startswith(("/console", "/simulator")) and not target.startswith("//"):
        return target
    return None
