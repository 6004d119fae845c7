"""The links in our emails: confirming a sign-up, and unsubscribing. Each page is in the
language of the person the email went to (or the one `?lang=` asks for).

A GET never changes anything: mail filters and link scanners open links before the person
does, so each page asks first, and its button POSTs. The one exception to a button is the
mail program's own one-click unsubscribe (RFC 8058): a POST of `List-Unsubscribe=One-Click`,
with no session, cookie or form token. The signed token in the URL is the proof.
"""

from __future__ import annotations

from flask import request, session
from flask.typing import ResponseReturnValue

from gateway import clock
from gateway.access import csrf
from gateway.community import members
from gateway.extensions import db
from gateway.models import Address
from gateway.public import bp, page, page_language

ONE_CLICK = "One-Click"  # RFC 8058's List-Unsubscribe=One-Click
_UNDO = "kindred.undo_unsubscribe"


def _language_of(address: Address | None) -> str:
    return page_language(address.person.language if address is not None and address.person else None)


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> ResponseReturnValue:
    signup = members.confirmation(token)
    if signup is None:
        return page("public/link_gone.html", page_language(), 404)
    language = page_language(members.language_of(signup))
    if request.method == "POST":
        state = "confirmed" if members.confirm(signup) else "already_confirmed"
        db.session.commit()
        return page("public/confirm.html", language, state=state)
    state = "ask" if signup.confirmed_at is None else "already_confirmed"
    return page("public/confirm.html", language, state=state)


@bp.route("/email/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str) -> ResponseReturnValue:
    address = members.to_unsubscribe(token)
    if address is None:
        return page("public/link_gone.html", page_language(), 404)
    language = _language_of(address)
    if request.method == "POST":
        one_click = request.form.get("List-Unsubscribe") == ONE_CLICK
        event = members.unsubscribe(address, "email_one_click" if one_click else "email_link")
        db.session.commit()
        undoable = event is not None and not one_click
        if undoable:
            # The person pressed the button in this browser: they may undo it here, for a while.
            until = clock.now() + members.UNDO_WINDOW
            session[_UNDO] = {"address": address.id, "event": event.id, "until": until.timestamp()}
        return page("public/unsubscribe.html", language, state="done", token=token, undo=undoable)
    state = "done" if members.unsubscribed(address) else "ask"
    return page("public/unsubscribe.html", language, state=state, token=token, undo=False)


@bp.post("/email/resubscribe/<token>")
def resubscribe(token: str) -> ResponseReturnValue:
    """Undo an unsubscribe just made by pressing the button on this page, in this browser (a
    mistaken click). Only that: an opt-out recorded any other way, or anything recorded since,
    stands, and the way back in is a new sign-up, confirmed by email."""
    address = members.to_unsubscribe(token)
    if address is None:
        return page("public/link_gone.html", page_language(), 404)
    language = _language_of(address)
    undo = session.pop(_UNDO, None)
    # The session is signed: its deadline and event are the ones this page set.
    mine = isinstance(undo, dict) and undo.get("address") == address.id
    in_time = mine and clock.now().timestamp() <= float(undo.get("until", 0))
    event_id = undo.get("event") if in_time else None
    if not isinstance(event_id, int) or not members.undo_unsubscribe(address, event_id):
        db.session.rollback()
        return page("public/unsubscribe.html", language, 409, state="done", token=token, undo=False)
    db.session.commit()
    return page("public/unsubscribe.html", language, state="resubscribed", token=token, undo=False)
