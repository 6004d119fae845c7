"""The organizer console: server-rendered pages under /console, behind a login (see
gateway.access for who may open what)."""

from __future__ import annotations

from flask import Blueprint, Flask

from gateway import access

bp = Blueprint(
    "console", __name__, url_prefix="/console", template_folder="templates", static_folder="static"
)
bp.before_request(access.check_access)


def init_app(app: Flask) -> None:
    """Register the console's pages."""
    app.register_blueprint(bp)


from gateway.console import auth, inbox, network, pages  # noqa: E402, F401 (their routes join the blueprint)
