"""The public pages anyone may open, with no login: signing up for email (/join), confirming a
sign-up, and unsubscribing (the links in every email). Their answers are pages a person reads,
errors included."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

bp = Blueprint(
    "public", __name__, template_folder="templates", static_folder="static", static_url_path="/public/static"
)


@bp.errorhandler(CSRFError)
def form_expired(error: CSRFError) -> ResponseReturnValue:
    """A form posted without its token (a page left open for hours, or cookies blocked)."""
    return render_template("public/problem.html", problem="form_expired"), 400


@bp.errorhandler(429)
def too_many(error: HTTPException) -> ResponseReturnValue:
    """Too many sign-ups from one place: a page that says to come back later."""
    return render_template("public/problem.html", problem="too_many"), 429


def init_app(app: Flask) -> None:
    """Register the public pages."""
    app.register_blueprint(bp)


from gateway.public import email_links, join  # noqa: E402, F401 (their routes join the blueprint)
