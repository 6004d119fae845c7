"""GET /healthz: 200 when the database and Redis answer, 503 otherwise."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from gateway.extensions import begin_reading, db, redis_client

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    checks = {"database": "ok", "redis": "ok"}
    try:
        begin_reading()
        db.session.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("healthz: database unavailable: %s", type(exc).__name__)
        checks["database"] = "unavailable"
    db.session.rollback()  # nothing held while Redis answers
    try:
        redis_client().ping()
    except Exception as exc:
        log.warning("healthz: redis unavailable: %s", type(exc).__name__)
        checks["redis"] = "unavailable"
    ok = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ok else "unavailable", **checks), 200 if ok else 503
