"""Your account (every organizer): a new password, and two-factor sign-in (an authenticator
app's codes, with recovery codes for a lost phone).

Setting up two-factor sign-in: the page shows a new key (a QR code, and the key and its otpauth
URI as text), kept in the session until the organizer types the code their app shows for it;
then the ten recovery codes are shown, once. Every change here is audited and ends the
organizer's sessions elsewhere; this one goes on, signed in afresh.
"""

from __future__ import annotations

import segno
from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from gateway import clock
from gateway.access import View, limiter, needs, start_session
from gateway.community import audit, organizers
from gateway.console import bp
from gateway.console.auth import ACCOUNT_LIMITS, LOGIN_LIMITS, failed, lockout_audited
from gateway.console.forms import ConsoleForm, no_nul
from gateway.extensions import db
from gateway.models import Organizer

KEY_BEING_SET_UP = "two_factor_key"  # the session key of the authenticator key being set up


class PasswordForm(ConsoleForm):
    current = PasswordField("Your password now", validators=[DataRequired(), Length(max=1024)])
    password = PasswordField(
        f"A new password (at least {organizers.MIN_PASSWORD} characters)",
        validators=[DataRequired(), Length(min=organizers.MIN_PASSWORD, max=1024)],
    )


class EnableForm(ConsoleForm):
    code = StringField(
        "The 6-digit code your app shows", filters=[no_nul], validators=[DataRequired(), Length(max=16)]
    )


class DisableForm(ConsoleForm):
    current = PasswordField("Your password", validators=[DataRequired(), Length(max=1024)])


def _account_key() -> str:
    return f"account:{current_user.organizer.id}"


def _throttled(view: View) -> View:
    """Throttled as signing in is, since it checks the password: per address, and per account
    for wrong passwords."""
    per_account = limiter.limit(
        ACCOUNT_LIMITS, key_func=_account_key, deduct_when=failed, on_breach=lockout_audited("account")
    )
    return limiter.limit(LOGIN_LIMITS, on_breach=lockout_audited("address"))(per_account(view))


def _audit(action: str, organizer: Organizer) -> None:
    audit.record(organizers.organization_of(organizer), action, organizer, ip=request.remote_addr or "")


def _page(status: int = 200, **forms: ConsoleForm) -> ResponseReturnValue:
    organizer: Organizer = current_user.organizer
    values = {"password_form": PasswordForm(), "enable_form": EnableForm(), "disable_form": DisableForm()}
    values.update(forms)
    secret = None
    if organizer.totp_secret is None:
        secret = session.get(KEY_BEING_SET_UP)
        if not isinstance(secret, str):
            secret = session[KEY_BEING_SET_UP] = organizers.new_two_factor_secret()
    uri = organizers.two_factor_uri(secret, organizer) if secret else ""
    # segno writes the SVG itself (paths, and the title escaped), so it is safe to put in the page.
    qr = segno.make(uri, error="m").svg_inline(scale=4, light="#fff", title="Two-factor key") if uri else ""
    return render_template(
        "console/account.html",
        organizer=organizer,
        secret=secret,
        uri=uri,
        qr=Markup(qr),  # noqa: S704
        required=organizers.must_set_up_two_factor(organizer),
        **values,
    ), status


@bp.get("/account")
@needs("viewer")
def account() -> ResponseReturnValue:
    return _page()


@bp.post("/account/password")
@needs("viewer")
@_throttled
def change_password() -> ResponseReturnValue:
    organizer: Organizer = current_user.organizer
    form = PasswordForm()
    if not form.validate_on_submit():
        return _page(400, password_form=form)
    if not organizers.check_password(organizer, form.current.data or ""):
        form.current.errors = ["That is not your password."]
        return _page(401, password_form=form)
    try:
        organizers.set_password(organizer, form.password.data or "")
    except organizers.OrganizerError as exc:
        db.session.rollback()
        form.password.errors = [str(exc)]
        return _page(400, password_form=form)
    _audit("password_changed", organizer)
    db.session.commit()
    start_session(organizer)
    flash("Your password is changed. Anywhere else you were signed in, you are signed out.", "info")
    return redirect(url_for("console.account"))


@bp.post("/account/two-factor")
@needs("viewer")
@limiter.limit(LOGIN_LIMITS)
def enable_two_factor() -> ResponseReturnValue:
    organizer: Organizer = current_user.organizer
    form = EnableForm()
    secret = session.get(KEY_BEING_SET_UP)
    if organizer.totp_secret is not None or not isinstance(secret, str):
        return redirect(url_for("console.account"))
    if not form.validate_on_submit():
        return _page(400, enable_form=form)
    codes = organizers.enable_two_factor(organizer, secret, form.code.data or "", clock.now())
    if codes is None:
        form.code.errors = ["That is not the code your app shows for this key. Check the time on your phone."]
        return _page(400, enable_form=form)
    _audit("two_factor_enabled", organizer)
    db.session.commit()
    start_session(organizer)
    # Shown once: no copy of the page is kept in the browser's cache.
    return render_template("console/recovery_codes.html", codes=codes), 200, {"Cache-Control": "no-store"}


@bp.post("/account/two-factor/off")
@needs("viewer")
@_throttled
def disable_two_factor() -> ResponseReturnValue:
    organizer: Organizer = current_user.organizer
    form = DisableForm()
    if organizer.totp_secret is None:
        return redirect(url_for("console.account"))
    if not form.validate_on_submit():
        return _page(400, disable_form=form)
    if not organizers.check_password(organizer, form.current.data or ""):
        form.current.errors = ["That is not your password."]
        return _page(401, disable_form=form)
    if organizers.two_factor_required(organizer):
        flash("Your organization requires two-factor sign-in of admins: it stays on.", "error")
        return _page(400)
    organizers.disable_two_factor(organizer)
    _audit("two_factor_disabled", organizer)
    db.session.commit()
    start_session(organizer)
    flash("Two-factor sign-in is off: signing in takes only your password.", "info")
    return redirect(url_for("console.account"))
