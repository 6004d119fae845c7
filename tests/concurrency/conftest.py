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

Deploy = Callable[[RedisServer], Deployment]
Figures = Callable[..., None]


@pytest.fixture
def deploy(empty_database_url: str, twilio_api: TwilioApiDouble, tmp_path: Path) -> Iterator[Deploy]:
    """Deploy Kindred on this test's database and the Redis given, as a platform would: the
    release line to completion, then one web (gunicorn, WEB_CONCURRENCY=2) and one worker,
    serving. Everything started is stopped, process group and all, when the test ends."""
    with ExitStack() as started:

        def start(redis: RedisServer) -> Deployment:
            settings = app_config(empty_database_url, redis.url, twilio_api.base_url, tmp_path)
            del settings["INSTANCE_PATH"]  # the factory's argument, not an environment variable
            settings.update(HOST="127.0.0.1", PORT=str(free_port()), WEB_CONCURRENCY="2")
            settings["KINDRED_INSTANCE"] = str(tmp_path / "instance")  # not the checkout's
            deployment = started.enter_context(Deployment(settings, tmp_path / "deployment"))
            deployment.release()
            deployment.start("web", "worker")
            deployment.wait_until_serving()
            return deployment

        yield start


@pytest.fixture
def deployment(deploy: Deploy, redis_server: RedisServer) -> Deployment:
    """Kindred deployed on this test's database and the session's Redis, emptied first."""
    with Redis.from_url(redis_server.url) as redis:
        redis.flushall()
    return deploy(redis_server)


@pytest.fixture
def figures(record_property: Callable[[str, object], None]) -> Figures:
    """Record what a test measured, as `figures(name=value, ...)`: shown in the terminal
    summary ("concurrency figures") whether the test passed or failed."""

    def record(**measured: object) -> None:
        for name, value in measured.items():
            record_property(name, value)

    return record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """List the figures each test of this folder recorded."""
    folder = Path(__file__).parent
    root = terminalreporter.config.rootpath
    lines = [
        f"{report.nodeid}: " + ", ".join(f"{name}={value}" for name, value in report.user_properties)
        for reports in terminalreporter.stats.values()
        for report in reports
        if isinstance(report, pytest.TestReport)
        and report.when == "call"
        and report.user_properties
        and (root / report.nodeid.split("::")[0]).parent == folder
    ]
    if lines:
        terminalreporter.section("concurrency figures")
        for line in sorted(lines):
            terminalreporter.write_line(line)
