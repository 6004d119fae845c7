"""Shared clients, unbound until `init_app`: the database, Redis and the RQ queues."""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta

from flask import Flask, current_app
from flask_sqlalchemy import SQLAlchemy
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry
from rq import Queue
from sqlalchemy.exc import DBAPIError, OperationalError

from gateway.models import Base

db = SQLAlchemy(model_class=Base)

OUTBOX_QUEUE = "outbox"  # replies to a person's own text (and opt-out confirmations, HELP): first
INITIATED_QUEUE = "outbox-initiated"  # what Kindred starts (rounds, follow-ups): after every reply
MAINTENANCE_QUEUE = "maintenance"
ROUNDS_QUEUE = "rounds"  # planning prompt rounds: long jobs, served after the outbox
# A worker serves its queues in this order, so a prompt round never delays an answer.
QUEUES = (OUTBOX_QUEUE, INITIATED_QUEUE, MAINTENANCE_QUEUE, ROUNDS_QUEUE)

# The app's Redis calls (queueing a reply after a commit, /healthz) give up fast and are not
# retried: a webhook must answer Twilio within its 15 s even when Redis hangs, and whatever
# could not be queued is queued by the sweeper later.
REDIS_TIMEOUT = 0.5
# After Redis times out (hung, not down: waiting again would cost as much), the webhooks' calls
# skip it this long: the hand-off to the queue (the sweeper queues what it leaves) and the
# flood counter (texts are answered as usual).
REDIS_PAUSE = timedelta(seconds=10)
_PAUSED_UNTIL = "kindred.redis_paused_until"


# SQLSTATEs of a database outage that passes: its connection lost or refused (class 08), an
# administrator's or a crash's shutdown, a server starting up, too many connections, and a
# transaction the server rolled back to let another through.
_PASSING_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300", "40001", "40P01"})


def outage_passes(exc: BaseException) -> bool:
    """Whether `exc` is the database being away for a while (restarting, unreachable, locked),
    an outage that passes, rather than a fault: what failed for it can be tried again."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    if isinstance(exc.orig, sqlite3.OperationalError):
        return "database is locked" in str(exc.orig)
    code = getattr(exc.orig, "sqlstate", None)
    # No SQLSTATE: psycopg could not reach the server at all (refused, starting up, full).
    return code is None or code.startswith("08") or code in _PASSING_SQLSTATES


# Execution option of a transaction that only reads (see begin_reading).
READER = "kindred_reader"


def begin_reading() -> None:
    """Begin the session's transaction as a reader: on SQLite a deferred BEGIN, which takes no
    write lock (every other transaction begins IMMEDIATE), so a long read such as an export
    never holds up a text. A transaction already begun stays as it began."""
    if not db.session().in_transaction():
        db.session.connection(execution_options={READER: True})


def init_app(app: Flask) -> None:
    """Bind the database and open (lazily) the Redis connection for this app."""
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    db.init_app(app)
    app.extensions["kindred.redis"] = Redis.from_url(
        app.config["REDIS_URL"],
        socket_connect_timeout=REDIS_TIMEOUT,
        socket_timeout=REDIS_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )


def redis_client() -> Redis:
    """The app's Redis connection."""
    return current_app.extensions["kindred.redis"]


def redis_paused() -> bool:
    """Whether Redis timed out lately, so a call that can do without it should not wait on it."""
    return time.monotonic() < current_app.extensions.get(_PAUSED_UNTIL, 0.0)


def pause_redis(exc: Exception) -> None:
    """Note a failed Redis call: a timeout pauses calls to it for REDIS_PAUSE."""
    if isinstance(exc, RedisTimeoutError):
        current_app.extensions[_PAUSED_UNTIL] = time.monotonic() + REDIS_PAUSE.total_seconds()


def worker_redis() -> Redis:
    """A Redis connection for the RQ worker's own loop, which blocks waiting for jobs (RQ sets
    its read timeout) and rides out a short outage by retrying."""
    return Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=5)


def queue(name: str = OUTBOX_QUEUE) -> Queue:
    """An RQ queue on the app's Redis."""
    return Queue(name, connection=redis_client())
