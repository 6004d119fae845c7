"""Fixtures for fault tests: an outage of Redis that always ends with the test, an app on a
PostgreSQL server of its own that a test may stop, and Kindred deployed (the Procfile's
processes) on either."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis

from gateway import create_app
from gateway.extensions import db
from tests.concurrency.conftest import deploy, deploy_kindred, deployment, figures
from tests.conftest import app_config
from tests.doubles.servers import PostgresServer, RedisServer
from tests.doubles.twilio_api import TwilioApiDouble
from tests.processes import Deployment

__all__ = ["deploy", "deployment", "figures"]  # the deployed fault tests use them as the burst tests do


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


@pytest.fixture
def deployment_on_own_postgres(
    own_postgres: PostgresServer, redis_server: RedisServer, twilio_api: TwilioApiDouble, tmp_path: Path
) -> Iterator[Deployment]:
    """Kindred deployed on a PostgreSQL server of this test's own, which the test may restart."""
    with Redis.from_url(redis_server.url) as redis:
        redis.flushall()
    with ExitStack() as started:
        yield deploy_kindred(started, own_postgres.create_database(), redis_server, twilio_api, tmp_path)
