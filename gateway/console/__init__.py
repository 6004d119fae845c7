"""The organizer console: server-rendered pages under /console, behind a login (see
gateway.access for who may open what)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, render_template
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map

from gateway import access
from gateway.console.forms import MAX_ID

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


class IdConverter(IntegerConverter):
    """`<id:name>` in a console URL: a record's id, in ASCII digits ("٣" is not 3), no larger
    than the database's integer columns hold (PostgreSQL's are 32-bit), so anything else is
    refused by the router and never reaches the database."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, max=MAX_ID)


def init_app(app: Flask) -> None:
    """Register the console's pages."""
    app.url_map.converters["id"] = IdConverter
    app.register_blueprint(bp)


from gateway.console import (  # noqa: E402, F401 (their routes join the blueprint)
    account,
    auth,
    consent,
    dashboard,
    erasure,
    events,
    exports,
    inbox,
    learned,
    mail,
    network,
    pages,
    prompts,
    rounds,
    settings,
    teams,
    tips,
    volunteers,
)
