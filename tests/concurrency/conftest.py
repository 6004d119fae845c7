"""Fixtures for tests of Kindred as it is deployed: the Procfile's processes on a fresh database
(a SQLite file, the embedded default, and PostgreSQL), a real Redis and the Twilio API double;
and the figures each test measured, listed in the terminal summary and the JUnit XML."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from redis import Redis

from tests.conftest import app_config
from tests.doubles.servers import RedisServer, free_port
from tests.doubles.twilio_api import TwilioApiDouble
from tests.processes import Deployment

Deploy = Callable[..., Deployment]
Figures = Callable[..., None]


def deploy_kindred(
    started: ExitStack,
    database_url: str,
    redis: RedisServer,
    twilio_api: TwilioApiDouble,
    tmp_path: Path,
    **settings: str,
) -> Deployment:
    """Deploy Kindred as a platform would, with these settings over the tests' own: the
    release line to completion, then one web (gunicorn, WEB_CONCURRENCY=2) and one worker,
    serving. `started` stops everything, process group and all."""
    env = app_config(database_url, redis.url, twilio_api.base_url, tmp_path)
    del env["INSTANCE_PATH"]  # the factory's argument, not an environment variable
    env.update(HOST="127.0.0.1", PORT=str(free_port()), WEB_CONCURRENCY="2")
    env["KINDRED_INSTANCE"] = str(tmp_path / "instance")  # not the checkout's
    env.update(settings)
    deployment = started.enter_context(Deployment(env, tmp_path / "deployment"))
    deployment.release()
    deployment.start("web", "worker")
    deployment.wait_until_serving()
    return deployment


@pytest.fixture
def deploy(empty_database_url: str, twilio_api: TwilioApiDouble, tmp_path: Path) -> Iterator[Deploy]:
    """Deploy Kindred on this test's database and the Redis given (`deploy(redis, **settings)`),
    stopped when the test ends."""
    with ExitStack() as started:
        yield lambda redis, **settings: deploy_kindred(
            started, empty_database_url, redis, twilio_api, tmp_path, **settings
        )


@pytest.fixture
def deployment(deploy: Deploy, redis_server: RedisServer) -> Deployment:
    """Kindred deployed on this test's database and the session's Redis, emptied first."""
    with Redis.from_url(redis_server.url) as redis:
        redis.flushall()
    return deploy(redis_server)


@pytest.fixture
def figures(record_property: Callable[[str, object], None]) -> Figures:
    """Record what a test measured, as `figures(name=value, ...)`: shown in the terminal
    summary ("concurrency and fault figures") whether the test passed or failed."""

    def record(**measured: object) -> None:
        for name, value in measured.items():
            record_property(name, value)

    return record
