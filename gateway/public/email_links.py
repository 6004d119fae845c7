"""The links in our emails: confirming a sign-up, and unsubscribing.

A GET never changes anything: mail filters and link scanners open links before the person
does, so each page asks first, and its button POSTs. The one exception to a button is the
mail program's own one-click unsubscribe (RFC 8058): a POST of `List-Unsubscribe=One-Click`,
with no session, cookie or form token. The signed token in the URL is the proof.
"""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from gateway.access import csrf
from gateway.community import members, organization
from gateway.extensions import db
from gateway.public import bp

ONE_CLICK = "One-Click"  # RFC 8058's List-Unsubscribe=One-Click


def _gone() -> ResponseReturnValue:
    return render_template("public/link_gone.html", org=organization.default()), 404


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> ResponseReturnValue:
    signup = members.confirmation(token)
    if signup is None:
        return _gone()
    org = organization.default()
    if request.method == "POST":
        confirmed_now = members.confirm(signup)
        db.session.commit()
        page = "confirmed" if confirmed_now else "already_confirmed"
        return render_template("public/confirm.html", org=org, page=page)
    page = "ask" if signup.confirmed_at is None else "already_confirmed"
    return render_template("public/confirm.html", org=org, page=page)


@bp.route("/email/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str) -> ResponseReturnValue:
    address = members.to_unsubscribe(token)
    if address is None:
        return _gone()
    org = organization.default()
    if request.method == "POST":
        one_click = request.form.get("List-Unsubscribe") == ONE_CLICK
        members.unsubscribe(address, "email_one_click" if one_click else "email_link")
        db.session.commit()
        return render_template("public/unsubscribe.html", org=org, done=True)
    return render_template("public/unsubscribe.html", org=org, done=False)
