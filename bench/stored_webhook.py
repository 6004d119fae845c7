"""The inbound benchmark's second reference: the least any webhook can do that keeps a text before
its 200, so that a text Twilio was told was taken is never lost. It checks Twilio's signature
(the official `RequestValidator`, as Kindred does), inserts one row into a table of its own in
Kindred's database (PostgreSQL or SQLite, through a SQLAlchemy pool), commits, and answers empty
TwiML. No address, no person, no flood check, no wake-up. Served by gunicorn with Kindred's own
settings (`gunicorn --config python:gateway.gunicorn_config 'bench.stored_webhook:create_app()'`).

Kindred cannot be faster than this on the same machine; the distance between the two is what
Kindred's webhook adds to the storing itself."""

from __future__ import annotations

import os

from flask import Flask, abort, request
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert
from twilio.request_validator import RequestValidator

from gateway.config import normalize_database_url

TEXT = Table(
    "bench_stored_text",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("provider_id", String(64), unique=True, nullable=False),
    Column("from_number", String(32), nullable=False),
    Column("body", String(1600), nullable=False),
)


def prepare(database_url: str) -> None:
    """Create the table, once, before the web line starts (its processes start together)."""
    engine = create_engine(normalize_database_url(database_url))
    TEXT.create(engine, checkfirst=True)
    engine.dispose()


def create_app() -> Flask:
    app = Flask(__name__)
    engine = create_engine(normalize_database_url(os.environ["DATABASE_URL"]))
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    url = os.environ["PUBLIC_BASE_URL"] + "/webhooks/twilio/sms"

    @app.post("/webhooks/twilio/sms")
    def sms() -> tuple[str, int, dict[str, str]]:
        if not validator.validate(url, request.form, request.headers.get("X-Twilio-Signature", "")):
            abort(403)
        with engine.begin() as connection:
            connection.execute(
                insert(TEXT).values(
                    provider_id=request.form["MessageSid"],
                    from_number=request.form["From"],
                    body=request.form.get("Body", ""),
                )
            )
        return "<Response/>", 200, {"Content-Type": "text/xml"}

    @app.get("/healthz")
    def healthz() -> tuple[str, int]:
        return "ok", 200

    return app
