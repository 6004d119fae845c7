"""Erasing a volunteer from the console, for one who asks an organizer rather than texting
DELETE: admins only, after typing ERASE, and written to the audit log."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import StringField

from gateway.access import current_organization, needs
from gateway.community import privacy
from gateway.console import bp
from gateway.console.forms import ConsoleForm, no_nul
from gateway.console.volunteers import volunteer_or_404
from gateway.extensions import db

CONFIRMATION = "ERASE"


class EraseForm(ConsoleForm):
    confirm = StringField(f"Type {CONFIRMATION} to confirm", filters=[no_nul])


@bp.post("/volunteers/<id:id>/erase")
@needs("admin")
def erase_volunteer(id: int) -> ResponseReturnValue:
    org = current_organization()
    person = volunteer_or_404(id)
    form = EraseForm()
    if not form.validate_on_submit() or (form.confirm.data or "").strip().upper() != CONFIRMATION:
        flash(f"Nothing was erased: type {CONFIRMATION} to confirm.", "error")
        return redirect(url_for("console.volunteer", id=id), 303)
    try:
        privacy.erase_by_organizer(org, person, current_user.organizer, request.remote_addr or "")
    except privacy.ErasureError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("console.volunteer", id=id), 303)
    db.session.commit()
    flash("Erased. Only a digest of their number is kept, to honour their opt-out.", "info")
    return redirect(url_for("console.volunteers"), 303)
