"""Fixtures for fault tests: an outage of Redis that always ends with the test, and an app on a
PostgreSQL server of its own that a test may stop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from gateway import create_app
from gateway.extensions import db
from tests.conftest import app_config
from tests.doubles.servers import PostgresServer, RedisServer
from tests.doubles.twilio_api import TwilioApiDouble


@pytest.fixture
def redis_outage(redis_server: RedisServer) -> Iterator[RedisServer]:
    """The shared Redis server, for a test to `.kill()` and `.restart()`. Restarted (empty) when
    the test ends, however it ends, so the next test has its Redis."""
    try:
        yield redis_server
    finally:
        if not redis_server.running:
            redis_server.restart()


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for one test only, so the test can stop it."""
    with PostgresServer() as server:
        yield server


@pytest.fixture
def app_on_own_postgres(
    own_postgres: PostgresServer,
    redis_server: RedisServer,
    twilio_api: TwilioApiDouble,
    tmp_path: Path,
) -> Iterator[Flask]:
    """An app whose database server the test can stop (no schema: only /healthz is used)."""
    url = own_postgres.create_database()
    app = create_app(app_config(url, redis_server.url, twilio_api.base_url, tmp_path))
    yield app
    with app.app_context():
        db.engine.dispose()
