"""The consent page: look an address up (a phone number in any usual format, or an email) and
see its whole consent history with the evidence for each event; an admin records an opt-out by
hand, with a reason. No page records an opt-in: only the person can give one.

Organizers and admins may look up; viewers may not, since a lookup tells whether a number is
in the system at all. Every lookup is in the audit log (with the address masked)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from gateway import clock
from gateway.access import current_organization, needs
from gateway.community import audit, ledger
from gateway.console import bp
from gateway.console.forms import ConsoleForm, no_nul
from gateway.delivery.addresses import redact
from gateway.extensions import db


class OptOutForm(ConsoleForm):
    address = HiddenField(filters=[no_nul], validators=[DataRequired()])
    reason = TextAreaField(
        "Reason (how they told you)",
        filters=[no_nul],
        validators=[DataRequired(), Length(max=ledger.REASON_LENGTH)],
    )


class LookupForm(ConsoleForm):
    class Meta(ConsoleForm.Meta):
        csrf = False  # a GET search: it changes nothing

    address = StringField("Phone number or email", filters=[no_nul])


@bp.get("/consent")
@needs("organizer")
def consent() -> ResponseReturnValue:
    return _page(request.args.get("address", ""))


@bp.post("/consent/opt-out")
@needs("admin")
def consent_opt_out() -> ResponseReturnValue:
    org = current_organization()
    form = OptOutForm()
    value = ledger.normalize(form.address.data or "")
    if not form.validate_on_submit() or value is None:
        flash("Say why: a hand opt-out needs a reason (200 characters at most).", "error")
        return _page(form.address.data or "", form, status=400)
    found = ledger.find(org, value)
    if found is None or found.erased:
        flash("That address is not in the system, or was erased (it stays opted out).", "error")
        return _page(value, status=404)
    recorded, withdrawn = ledger.opt_out_by_hand(found.address, form.reason.data or "", clock.now())
    if recorded:
        audit.record(
            org, "consent_opt_out", current_user.organizer, ip=request.remote_addr or "",
            address=redact(value), channel=found.address.channel, withdrawn=withdrawn,
        )  # fmt: skip
        db.session.commit()
        taken = (
            f" {withdrawn} queued {'message was' if withdrawn == 1 else 'messages were'} taken back."
            if withdrawn
            else ""
        )
        flash(f"Opt-out recorded.{taken}", "info")
    else:
        flash("They are already opted out: nothing recorded.", "info")
    return redirect(url_for("console.consent", address=value))


def _page(raw: str, opt_out: OptOutForm | None = None, status: int = 200) -> ResponseReturnValue:
    org = current_organization()
    lookup = LookupForm(formdata=None, address=raw)
    raw = raw.replace("\x00", "")  # no address has one, and PostgreSQL cannot compare one
    value = ledger.normalize(raw) if raw.strip() else None
    found = ledger.find(org, value) if value else None
    if value:
        audit.record(
            org, "consent_lookup", current_user.organizer, ip=request.remote_addr or "",
            address=redact(value), found=found is not None,
        )  # fmt: skip
        db.session.commit()
    if opt_out is None:
        opt_out = OptOutForm(formdata=None, address=value or "")
    if raw.strip() and value is None and status == 200:
        status = 400
    return render_template(
        "console/consent.html",
        lookup=lookup,
        asked=raw.strip(),
        value=value,
        found=found,
        opt_out=opt_out,
    ), status
