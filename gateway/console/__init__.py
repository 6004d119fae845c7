"""The organizer console: server-rendered pages under /console, behind a login (see
gateway.access for who may open what)."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from gateway import access

bp = Blueprint(
    "console", __name__, url_prefix="/console", template_folder="templates", static_folder="static"
)
bp.before_request(access.check_access)


@bp.errorhandler(403)
@bp.errorhandler(404)
def refused(error: HTTPException) -> ResponseReturnValue:
    """A console page for a refusal or a missing page, saying what happened."""
    title, message = {
        403: ("Not for your role", "Your role does not allow this. An admin can change your role."),
        404: ("Not found", "There is nothing here: it may have been deleted, or the link is wrong."),
    }[error.code or 404]
    return render_template("console/error.html", title=title, message=message), error.code


def init_app(app: Flask) -> None:
    """Register the console's pages."""
    app.register_blueprint(bp)


from gateway.console import (  # noqa: E402, F401 (their routes join the blueprint)
    auth,
    consent,
    dashboard,
    events,
    exports,
    inbox,
    learned,
    network,
    pages,
    prompts,
    rounds,
    settings,
    teams,
    volunteers,
)
