"""PostgreSQL's connections (psycopg's): a pooled connection is tried before use only when it may
be stale.

SQLAlchemy's `pool_pre_ping` asks the server `SELECT 1` each time a connection leaves the pool.
A worker's sending thread takes a connection three times a send, so that was three round trips
a send, each also some of the server's time, for a connection used a few milliseconds before.

A connection is asked instead when it has been idle longer than IDLE_PING_SECONDS, or when the
server has written to it while it sat in the pool. The server writes nothing to an idle
connection unless it is going away: a restart or an administrator ends each connection with an
error message and closes it, and either makes the socket readable, which a zero-wait poll sees
at no round trip's cost. A connection that fails the ping is replaced, with every connection as
old, as with pre-ping. Other drivers' connections (no socket to look at) keep pre-ping.

What this does not see, pre-ping did not catch quickly either: a server that vanished without
closing its connections (a cut network) is found by a ping only after TCP gives up.
"""

from __future__ import annotations

import logging
import select
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import InvalidatePoolError

log = logging.getLogger(__name__)

IDLE_PING_SECONDS = 1.0
_IDLE_SINCE = "kindred_idle_since"
# How long opening a connection may take: a server that never answers (a cut network, a
# host that drops packets) holds a request that long rather than for TCP's minutes, so a text
# still gets its answer, 503 at worst, within the 15 s Twilio waits.
CONNECT_TIMEOUT_SECONDS = 5


def engine_options(database_url: str) -> dict[str, Any]:
    """What an engine for `database_url` is given: psycopg's connect timeout, unless the URL
    names its own."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql" or "connect_timeout" in url.query:
        return {}
    return {"connect_args": {"connect_timeout": CONNECT_TIMEOUT_SECONDS}}


def pings_itself(database_url: str) -> bool:
    """Whether an engine for `database_url` pings its connections by `init_engine` (psycopg's
    connections show their socket), rather than by SQLAlchemy's pre-ping."""
    return make_url(database_url).get_driver_name() == "psycopg"


def init_engine(engine: Engine) -> None:
    """Ping `engine`'s pooled connections when they may be stale (engine made without pre-ping)."""
    event.listen(engine, "checkin", _checked_in)
    event.listen(engine, "checkout", lambda connection, record, _proxy: _checkout(engine, connection, record))


def _checked_in(_dbapi_connection: Any, record: Any) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


def _checkout(engine: Engine, dbapi_connection: Any, record: Any) -> None:
    since = record.info.pop(_IDLE_SINCE, None)
    if since is None:  # just connected
        return
    errors = engine.dialect.loaded_dbapi.Error
    if time.monotonic() - since <= IDLE_PING_SECONDS and not _written_to(dbapi_connection, errors):
        return
    try:
        engine.dialect.do_ping(dbapi_connection)
    except errors as exc:
        log.info("postgres: a pooled connection was gone (%s); replacing it", type(exc).__name__)
        # The pool replaces this connection and every one as old (the server restarted, say),
        # as it does when pre-ping fails.
        raise InvalidatePoolError() from exc


def _written_to(dbapi_connection: Any, errors: type[Exception]) -> bool:
    """Whether the server wrote to this idle connection (or closed it): its socket is readable.
    A connection with no socket to read is closed: true, so the ping finds it so."""
    try:
        fd = dbapi_connection.pgconn.socket
    except errors:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))
