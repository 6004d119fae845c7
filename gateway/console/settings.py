"""The organization's settings page (admins): what HELP replies and join messages say, the
calling window and caps, the interests volunteers are asked about, the organization's names
for the ladder stages, which every console page shows through the `stage` filter, and whether
admins must sign in with two-factor. The checks are the ones `kindred org set` makes
(gateway.community.organization)."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired

from flows.events import STAGES
from gateway.access import current_organization, needs
from gateway.community import audit, organization
from gateway.console import bp
from gateway.console.forms import ConsoleForm, no_nul
from gateway.extensions import db
from gateway.models import Organization


class SettingsForm(ConsoleForm):
    name = StringField("Organization name", filters=[no_nul], validators=[InputRequired()])
    contact = StringField("How volunteers reach a person (named in HELP replies)", filters=[no_nul])
    phone = StringField("The number volunteers text, as INVITE messages show it", filters=[no_nul])
    help_text = StringField("A line of your own added to HELP replies", filters=[no_nul])
    frequency = StringField("Message frequency, as the join message states it", filters=[no_nul])
    timezone = StringField("Time zone for people whose own is unknown (IANA)", filters=[no_nul])
    window_start = IntegerField("Calling window opens at (hour, 8 to 21)", validators=[InputRequired()])
    window_end = IntegerField("Calling window closes at (hour)", validators=[InputRequired()])
    daily_cap = IntegerField("Texts the organization starts, per person a day", validators=[InputRequired()])
    weekly_cap = IntegerField("... and a week", validators=[InputRequired()])
    interests = TextAreaField("Interests volunteers are asked about, one a line", filters=[no_nul])
    require_admin_two_factor = BooleanField("Require two-factor sign-in for admins")


# The form field that shows a setting's error, where the names differ.
FIELD_OF_SETTING = {"window": "window_start", "stage_labels": f"stage_{STAGES[0]}"}

for _stage in STAGES:
    setattr(SettingsForm, f"stage_{_stage}", StringField(f"“{_stage}”", filters=[no_nul]))


def _fill(form: SettingsForm, org: Organization) -> None:
    for field in (
        "name",
        "contact",
        "phone",
        "help_text",
        "frequency",
        "timezone",
        "daily_cap",
        "weekly_cap",
    ):
        getattr(form, field).data = getattr(org, field)
    form.window_start.data, form.window_end.data = org.window_start_hour, org.window_end_hour
    form.interests.data = "\n".join(org.interests or ())
    form.require_admin_two_factor.data = org.require_admin_two_factor
    for stage in STAGES:
        form[f"stage_{stage}"].data = (org.stage_labels or {}).get(stage, "")


def _values(form: SettingsForm) -> dict[str, Any]:
    return {
        **{
            field: getattr(form, field).data or ""
            for field in ("name", "contact", "phone", "help_text", "frequency", "timezone")
        },
        "window": (form.window_start.data, form.window_end.data),
        "daily_cap": form.daily_cap.data,
        "weekly_cap": form.weekly_cap.data,
        "interests": (form.interests.data or "").replace(",", "\n").splitlines(),
        "stage_labels": {stage: form[f"stage_{stage}"].data or "" for stage in STAGES},
    }


@bp.route("/settings", methods=["GET", "POST"])
@needs("admin")
def settings() -> ResponseReturnValue:
    org = current_organization()
    form = SettingsForm()
    if request.method == "GET":
        _fill(form, org)
    elif form.validate_on_submit():
        try:
            changed = organization.change_settings(org, **_values(form))
            changed |= _require_admin_two_factor(org, bool(form.require_admin_two_factor.data))
        except organization.SettingsError as exc:
            db.session.rollback()
            field = FIELD_OF_SETTING.get(exc.field, exc.field)
            if field in form:
                form[field].errors = [*form[field].errors, str(exc)]
            flash(f"Not saved: {exc}.", "error")
        else:
            if changed:
                audit.record(
                    org, "settings_changed", current_user.organizer, ip=request.remote_addr or "", **changed
                )
            db.session.commit()
            flash("Saved." if changed else "Nothing changed.", "info")
            return redirect(url_for("console.settings"))
    else:
        flash("Not saved: check the fields marked below.", "error")
    status = 400 if request.method == "POST" else 200
    return render_template("console/settings.html", form=form, stages=STAGES), status


def _require_admin_two_factor(org: Organization, wanted: bool) -> dict[str, Any]:
    """Turn the two-factor requirement for admins on or off; returns it if it changed. The admin
    who turns it on must have two-factor sign-in already (or they would be sent to set it up
    at once, mid-save)."""
    if wanted == org.require_admin_two_factor:
        return {}
    if wanted and current_user.organizer.totp_secret is None:
        raise organization.SettingsError(
            "set up two-factor sign-in for yourself first (Your account)", "require_admin_two_factor"
        )
    org.require_admin_two_factor = wanted
    return {"require_admin_two_factor": wanted}


@bp.app_template_filter("stage")
def stage_name(stage: str) -> str:
    """A ladder stage by the organization's name for it (Settings), read once a request."""
    if "stage_labels" not in g:
        g.stage_labels = dict(current_organization().stage_labels or {})
    return g.stage_labels.get(stage) or stage
