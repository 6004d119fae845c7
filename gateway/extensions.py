"""Shared clients, unbound until `init_app`: the database, Redis and the RQ queues."""

from __future__ import annotations

from flask import Flask, current_app
from flask_sqlalchemy import SQLAlchemy
from redis import Redis
from rq import Queue

from gateway.models import Base

db = SQLAlchemy(model_class=Base)

OUTBOX_QUEUE = "outbox"
MAINTENANCE_QUEUE = "maintenance"
QUEUES = (OUTBOX_QUEUE, MAINTENANCE_QUEUE)


def init_app(app: Flask) -> None:
    """Bind the database and open (lazily) the Redis connection for this app."""
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    db.init_app(app)
    app.extensions["kindred.redis"] = Redis.from_url(
        app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5
    )


def redis_client() -> Redis:
    """The app's Redis connection."""
    return current_app.extensions["kindred.redis"]


def queue(name: str = OUTBOX_QUEUE) -> Queue:
    """An RQ queue on the app's Redis."""
    return Queue(name, connection=redis_client())
