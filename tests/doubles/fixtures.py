"""pytest plugin providing the local servers and provider doubles as fixtures.

Load it from tests/conftest.py with `pytest_plugins = ["tests.doubles.fixtures"]`.
Session-scoped servers start on first use only, so a run that needs no PostgreSQL
never starts one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.doubles.sendgrid_api import EventSigner, SendGridApiDouble
from tests.doubles.servers import PostgresServer, RedisServer
from tests.doubles.twilio_api import TwilioApiDouble

TWILIO_ACCOUNT_SID = "AC" + "0" * 32
TWILIO_AUTH_TOKEN = "test-auth-token"
SENDGRID_API_KEY = "SG.test-key"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A Redis server shared by the session; a test that kills it must restart it."""
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server shared by the session; use `create_database()` per test."""
    with PostgresServer() as server:
        yield server


@pytest.fixture
def twilio_api() -> Iterator[TwilioApiDouble]:
    """A fresh Twilio API double for one test, with fake credentials."""
    with TwilioApiDouble(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN) as double:
        yield double


@pytest.fixture
def sendgrid_api() -> Iterator[SendGridApiDouble]:
    """A fresh SendGrid v3 API double for one test, with a fake API key."""
    with SendGridApiDouble(SENDGRID_API_KEY) as double:
        yield double


@pytest.fixture(scope="session")
def event_signer() -> EventSigner:
    """Signs SendGrid Event Webhook posts; its public key goes in SENDGRID_EVENT_PUBLIC_KEY."""
    return EventSigner()
