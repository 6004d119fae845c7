"""Fixtures: an app on a freshly migrated database (SQLite and PostgreSQL), real Redis, the
Twilio API double, a volunteer's phone that posts signed webhooks, and a real RQ worker."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from gateway import create_app, migrate
from gateway.extensions import db
from tests.doubles.fixtures import SENDGRID_API_KEY, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN
from tests.doubles.sendgrid_api import EventSigner, SendGridApiDouble
from tests.doubles.servers import PostgresServer, RedisServer
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import Phone, SettableClock, Worker

PUBLIC_BASE_URL = "https://kindred.example.org"
SECRET_KEY = "kG3v9QeJ2mWtZ8rLx5bN7pHc4yDf6sAu1oEi0TqVwRj"  # strong, as production needs
INBOUND_EMAIL_DOMAIN = "reply.eastside.example.org"
SENDGRID_INBOUND_SECRET = "inbound-parse-secret"
ORGANIZATION_POSTAL_ADDRESS = "Eastside Neighbors, 100 Main St, Springfield, IL 62701"
# The least an app needs that sends nothing (migrations, the CLI's tests).
LOCAL = {"SMS_TRANSPORT": "simulator", "EMAIL_TRANSPORT": "none", "PUBLIC_BASE_URL": "http://127.0.0.1:5000"}


# Tests that run Kindred's own processes (gunicorn, RQ workers, Chromium, a fresh install) take
# turns on one test worker: two bursts of real processes at once on a small machine would time
# each other out. Every other test is spread over all of them.
OWN_PROCESSES = (
    "tests/concurrency/",
    "tests/faults/",
    "tests/browser/",
    "tests/test_demo.py",
    "tests/test_benchmarks.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(OWN_PROCESSES):
            item.add_marker(pytest.mark.xdist_group("own-processes"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Captured output that is not valid UTF-8 (a fuzz test's lone surrogate in a logged
    traceback) is kept escaped: a test worker sends its report as UTF-8, and one it cannot
    send would end the whole run."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    report.sections = [(title, _sendable(text)) for title, text in report.sections]
    if isinstance(report.longrepr, str):
        report.longrepr = _sendable(report.longrepr)


def _sendable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def email_config(sendgrid_api_url: str, event_public_key: str) -> dict[str, str]:
    """The email settings of an app under test: SendGrid, pointed at the local double."""
    return {
        "EMAIL_TRANSPORT": "sendgrid",
        "SENDGRID_API_KEY": SENDGRID_API_KEY,
        "SENDGRID_API_BASE_URL": sendgrid_api_url,
        "SENDGRID_EVENT_PUBLIC_KEY": event_public_key,
        "SENDGRID_INBOUND_SECRET": SENDGRID_INBOUND_SECRET,
        "INBOUND_EMAIL_DOMAIN": INBOUND_EMAIL_DOMAIN,
        "ORGANIZATION_POSTAL_ADDRESS": ORGANIZATION_POSTAL_ADDRESS,
    }


def app_config(database_url: str, redis_url: str, twilio_api_url: str, instance: Path) -> dict[str, str]:
    """The configuration of an app under test."""
    return {
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "SMS_TRANSPORT": "twilio",
        "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": "+15005550006",
        "TWILIO_API_BASE_URL": twilio_api_url,
        # Faster than any test's worker sends, so no test waits on the sender's rate unless it
        # sets one to see it.
        "SMS_SENDER_MPS": "100",
        "EMAIL_TRANSPORT": "none",
        "ORGANIZATION_NAME": "Eastside Neighbors",
        "ORGANIZATION_CONTACT": "organizers@eastside.example.org",
        "INSTANCE_PATH": str(instance),
    }


def _migrated(database_url: str, instance: Path) -> None:
    app = create_app(
        {**LOCAL, "SECRET_KEY": SECRET_KEY, "DATABASE_URL": database_url, "INSTANCE_PATH": str(instance)}
    )
    with app.app_context():
        migrate.upgrade("head")
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database file migrated to head, copied for each test."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.sqlite3"
    _migrated(f"sqlite:///{path}", folder)
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The name of a PostgreSQL database migrated to head, used as a template for each test."""
    url = postgres_server.create_database()
    _migrated(url, tmp_path_factory.mktemp("postgres-template"))
    return make_url(url).database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database for one test, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "kindred.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database(template=request.getfixturevalue("postgres_template"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no migration has run), on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()


@pytest.fixture
def empty_app(empty_database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app on an empty database (no migration has run), for tests of the migrations."""
    app = create_app(
        {
            **LOCAL,
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": empty_database_url,
            "INSTANCE_PATH": str(tmp_path),
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def clock() -> SettableClock:
    """The app's clock: real time unless the test sets it."""
    return SettableClock()


@pytest.fixture
def app(
    database_url: str,
    redis_server: RedisServer,
    twilio_api: TwilioApiDouble,
    sendgrid_api: SendGridApiDouble,
    event_signer: EventSigner,
    clock: SettableClock,
    tmp_path: Path,
) -> Iterator[Flask]:
    """The app on a fresh database, an empty Redis, and the Twilio and SendGrid API doubles."""
    app = create_app(
        {
            **app_config(database_url, redis_server.url, twilio_api.base_url, tmp_path),
            **email_config(sendgrid_api.base_url, event_signer.public_key),
            "CLOCK": clock,
        }
    )
    with app.app_context():
        from gateway.extensions import redis_client

        redis_client().flushdb()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def worker(app: Flask) -> Worker:
    """Runs queued jobs with a real RQ worker, in this process, until the queues are empty."""
    return Worker(app)


@pytest.fixture
def phone(client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker) -> Phone:
    """A volunteer's phone: texts go to the signed Twilio webhook, replies arrive via the
    worker and the Twilio API double."""
    return Phone(client, twilio_api, worker, "+15558675309")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """List the figures the concurrency and fault tests recorded."""
    folders = {Path(__file__).parent / "concurrency", Path(__file__).parent / "faults"}
    root = terminalreporter.config.rootpath
    lines = [
        f"{report.nodeid}: " + ", ".join(f"{name}={value}" for name, value in report.user_properties)
        for reports in terminalreporter.stats.values()
        for report in reports
        if isinstance(report, pytest.TestReport)
        and report.when == "call"
        and report.user_properties
        and (root / report.nodeid.split("::")[0]).parent in folders
    ]
    if lines:
        terminalreporter.section("concurrency and fault figures")
        for line in sorted(lines):
            terminalreporter.write_line(line)
