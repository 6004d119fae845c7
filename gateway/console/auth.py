"""Signing in (a password, then a code for those with two-factor sign-in on) and out, and
accepting an invitation. Every throttle here that locks an address or an account out writes a
`login_locked` audit entry, once a lockout."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from flask import Response, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_limiter import RequestLimit
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
from gateway.models import Organizer

# Per address, every attempt; per account and address, failed ones only (so nobody can lock an
# organizer out from elsewhere, and the right password after a typo still works).
LOGIN_LIMITS = "10 per minute;60 per hour"
ACCOUNT_LIMITS = "20 per hour"
# Wrong second-factor codes, per account wherever they come from: only someone who has the
# password gets this far, and 20 guesses an hour at a 6-digit code get nowhere.
CODE_LIMITS = "5 per minute;20 per hour"
CODE_TIME = 300  # seconds to type the code after the password
PENDING = "two_factor_pending"  # the session key of a sign-in waiting for its code


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


class CodeForm(ConsoleForm):
    code = StringField(
        "The code your authenticator app shows, or a recovery code",
        filters=[no_nul],
        validators=[DataRequired(), Length(max=32)],
    )


def _account_key() -> str:
    return f"login:{organizers.normalize_email(request.form.get('email', ''))}:{get_remote_address()}"


def failed(response: Response) -> bool:
    """Whether a sign-in (or a check of a password or code) was refused: it counts against the
    account's throttle."""
    return response.status_code == 401


def lockout_audited(scope: str) -> Callable[[RequestLimit], None]:
    """An `on_breach` for a throttle: the first request it refuses in a window writes a
    `login_locked` entry (the address, the email given if any, which throttle), never the
    password or code."""

    def record(breach: RequestLimit) -> None:
        window = max(1, math.ceil(breach.window.reset_time - time.time()))
        if breach.limiter.storage.incr(f"audited:{breach.key}", window) > 1:  # the store in use
            return  # this lockout is on record already
        signed_in = current_user.organizer if current_user.is_authenticated else _pending()
        email = organizers.normalize_email(request.form.get("email", ""))[:320]
        homes = [organizers.organization_of(signed_in)] if signed_in else organizers.audit_homes(email)
        for org in homes:
            audit.record(
                org,
                "login_locked",
                signed_in,
                ip=request.remote_addr or "",
                actor=email,
                throttle=scope,
                endpoint=request.endpoint or "",
                limit=str(breach.limit),
            )
        db.session.commit()

    return record


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMITS, methods=["POST"], on_breach=lockout_audited("address"))
@limiter.limit(
    ACCOUNT_LIMITS,
    methods=["POST"],
    key_func=_account_key,
    deduct_when=failed,
    on_breach=lockout_audited("account"),
)
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
        target = _safe_next(request.args.get("next"))
        if organizer.totp_secret is not None:
            db.session.commit()
            session.clear()  # nothing of the session before this sign-in is kept, here either
            session[PENDING] = {
                "organizer": organizer.id,
                "version": organizer.session_version,
                "until": time.time() + CODE_TIME,
                "next": target,
            }
            return redirect(url_for("console.login_code"))
        audit.record(org, "login", organizer, ip=request.remote_addr or "")
        db.session.commit()
        start_session(organizer)
        return redirect(target or url_for("console.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template("console/login.html", form=form), status


def _pending() -> Organizer | None:
    """The organizer whose password this session gave, waiting for their code, if in time."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("organizer"), int):
        return None
    if not isinstance(pending.get("until"), float) or time.time() > pending["until"]:
        return None
    organizer = db.session.get(Organizer, pending["organizer"])
    if (
        organizer is None
        or not organizer.active
        or organizer.session_version != pending.get("version")
        or organizer.totp_secret is None
    ):
        return None
    return organizer


def _code_key() -> str:
    pending = session.get(PENDING)
    return f"login-code:{pending.get('organizer') if isinstance(pending, dict) else ''}"


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMITS, methods=["POST"], on_breach=lockout_audited("address"))
@limiter.limit(
    CODE_LIMITS,
    methods=["POST"],
    key_func=_code_key,
    deduct_when=failed,
    on_breach=lockout_audited("account"),
)
def login_code() -> ResponseReturnValue:
    organizer = _pending()
    if organizer is None:
        session.pop(PENDING, None)
        flash("Sign in again: the time to type the code ran out.", "error")
        return redirect(url_for("console.login"))
    form = CodeForm()
    if form.validate_on_submit():
        org = organizers.organization_of(organizer)
        used = organizers.use_second_factor(organizer, form.code.data or "", clock.now())
        ip = request.remote_addr or ""
        if used is None:
            audit.record(org, "login_failed", organizer, ip=ip, step="code")
            db.session.commit()
            flash("That code is not right, or it was used already.", "error")
            return render_template("console/login_code.html", form=form), 401
        audit.record(org, "login", organizer, ip=ip, second_factor=used)
        if used == "recovery_code":
            audit.record(org, "recovery_code_used", organizer, ip=ip, left=len(organizer.recovery_codes))
        db.session.commit()
        target = session[PENDING].get("next")
        start_session(organizer)
        if used == "recovery_code":
            flash(
                f"You signed in with a recovery code; {len(organizer.recovery_codes)} are left. "
                "For a new set, turn two-factor sign-in off and on again on Your account.",
                "info",
            )
        return redirect(_safe_next(target) or url_for("console.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template("console/login_code.html", form=form), status


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
@limiter.limit(LOGIN_LIMITS, methods=["POST"], on_breach=lockout_audited("address"))
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
