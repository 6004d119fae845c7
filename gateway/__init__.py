"""Kindred's gateway: the Flask service around the pure conversation logic in `flows`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, jsonify
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix

from gateway import clock, extensions, logs, postgres, sqlite
from gateway import config as config_module

# A server database's connections: as many at most as before (SQLAlchemy's 5, and 10 more for a
# while), all kept for reuse. A worker's sending threads take one a few times a send, and a
# connection opened for one use and closed again costs both processes more than the send itself.
# (SQLite keeps SQLAlchemy's pool: an in-memory database's takes no such settings.)
_POOL = {"pool_size": 15, "max_overflow": 0}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. `config` overrides the environment (tests inject theirs here)."""
    logs.configure()
    config = dict(config or {})
    instance_path = config.pop("INSTANCE_PATH", None) or config_module.instance_folder()
    app = Flask(__name__, instance_path=str(instance_path))
    os.makedirs(app.instance_path, exist_ok=True)
    clock.init_app(app, config.pop("CLOCK", None))
    settings = config_module.load(app.instance_path, config)
    app.config.from_mapping(settings.as_flask_config())
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024
    database_url = app.config["DATABASE_URL"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        # A server's pooled connections are pinged only when they may be stale (gateway.postgres).
        "pool_pre_ping": not postgres.pings_itself(database_url),
        "hide_parameters": True,
        **(
            sqlite.engine_options(database_url)
            if database_url.startswith("sqlite")
            else {**_POOL, **postgres.engine_options(database_url)}
        ),
    }

    if app.config["TRUSTED_PROXIES"]:
        # Behind a platform's router: the client's address and scheme come from its headers
        # (the login throttle and the audit log go by that address).
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    extensions.init_app(app)
    with app.app_context():
        if extensions.db.engine.dialect.name == "sqlite":
            sqlite.init_engine(extensions.db.engine)
        elif postgres.pings_itself(database_url):
            postgres.init_engine(extensions.db.engine)

    from gateway import access, console, health, jobs, public, security_headers
    from gateway.webhooks import sendgrid, sendgrid_events, simulator, twilio

    access.init_app(app)
    security_headers.init_app(app)
    access.csrf.exempt(twilio.bp)  # Twilio signs its requests; it has no session to forge
    access.csrf.exempt(sendgrid.bp)  # Inbound Parse authenticates itself with basic auth
    app.register_blueprint(health.bp)
    app.register_blueprint(twilio.bp)
    access.csrf.exempt(sendgrid_events.bp)  # SendGrid signs its event posts
    sendgrid_events.init_app(app)
    app.register_blueprint(sendgrid.bp)
    console.init_app(app)
    public.init_app(app)
    home = "/console/"
    if "simulator" in (app.config["SMS_TRANSPORT"], app.config["EMAIL_TRANSPORT"]):
        app.register_blueprint(simulator.bp)
    if app.config["SMS_TRANSPORT"] == "simulator":
        home = "/simulator"
    app.add_url_rule("/", "index", lambda: ("", 302, {"Location": home}))

    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DBAPIError, _database_unavailable)
    jobs.init_app(app)
    from gateway import cli

    cli.init_app(app)
    return app


def _http_error(exc: HTTPException):
    """Errors as short JSON: what was wrong, never a stack trace."""
    return jsonify(error=exc.name, description=exc.description), exc.code


def _database_unavailable(exc: DBAPIError):
    """The database could not be reached (restarting, say) or stayed locked: 503 with a
    Retry-After, an outage that passes, which Twilio and SendGrid treat as not delivered. Any
    other complaint of the database (a missing table, a full disk, a statement timeout) is a
    fault: 500. Logged with its traceback either way, like any other unexpected error."""
    current_app.log_exception((type(exc), exc, exc.__traceback__))
    if not extensions.outage_passes(exc):
        return _http_error(InternalServerError(original_exception=exc))
    body = jsonify(error="Service Unavailable", description="The database is unavailable; try again shortly.")
    return body, 503, {"Retry-After": "5"}
