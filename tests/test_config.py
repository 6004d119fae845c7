"""Configuration is read strictly: a bad value stops the app with a message naming it."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from gateway import create_app
from gateway.config import ConfigError, load, normalize_database_url


@pytest.mark.parametrize(
    ("given", "used"),
    [
        (
            "postgres://u:p@db.example:5432/kindred",
            "postgresql+psycopg://u:p@db.example:5432/kindred",
        ),
        ("postgresql://u@db/kindred", "postgresql+psycopg://u@db/kindred"),
        ("postgresql+psycopg://u@db/kindred", "postgresql+psycopg://u@db/kindred"),
        ("sqlite:////data/kindred.sqlite3", "sqlite:////data/kindred.sqlite3"),
    ],
)
def test_hosting_platform_database_urls_are_accepted(given: str, used: str) -> None:
    assert normalize_database_url(given) == used


STRONG_KEY = "kG3v9QeJ2mWtZ8rLx5bN7pHc4yDf6sAu1oEi0TqVwRj"
# What an app that sends nothing needs; each case below changes or removes something.
BASE = {"SECRET_KEY": STRONG_KEY, "SMS_TRANSPORT": "simulator", "EMAIL_TRANSPORT": "none"}
ENVIRONMENT = (
    "SECRET_KEY", "SMS_TRANSPORT", "EMAIL_TRANSPORT", "PUBLIC_BASE_URL", "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "TWILIO_MESSAGING_SERVICE_SID", "SENDGRID_API_KEY",
    "SENDGRID_INBOUND_SECRET", "SENDGRID_EVENT_PUBLIC_KEY", "INBOUND_EMAIL_DOMAIN",
    "ORGANIZATION_POSTAL_ADDRESS", "EMAIL_FROM", "DATABASE_URL",
)  # fmt: skip
TWILIO = {
    "SMS_TRANSPORT": "twilio",
    "PUBLIC_BASE_URL": "https://kindred.example.org",
    "TWILIO_ACCOUNT_SID": "AC" + "0123456789abcdef" * 2,
    "TWILIO_AUTH_TOKEN": "0123456789abcdef0123456789abcdef",
    "TWILIO_FROM_NUMBER": "+15005550006",
}
HOW_TO_MAKE_A_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test gives counts, whatever the environment running the tests has set."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


def start(tmp_path: Path, **settings: str | None) -> Flask:
    """Start an app on BASE with these settings changed (None: left out)."""
    config = {**BASE, **settings, "INSTANCE_PATH": str(tmp_path)}
    return create_app({name: value for name, value in config.items() if value is not None})


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
        ({"SMS_TRANSPORT": "carrier-pigeon"}, "SMS_TRANSPORT"),
        ({"SMS_TRANSPORT": "twilio"}, "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER"),
        ({"PUBLIC_BASE_URL": "kindred.example.org"}, "PUBLIC_BASE_URL"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ({"DEFAULT_TIMEZONE": "Mars/Olympus_Mons"}, "DEFAULT_TIMEZONE"),
        ({"TRUSTED_PROXIES": "yes"}, "TRUSTED_PROXIES"),
        ({"SMS_SENDER_MPS": "fast"}, "SMS_SENDER_MPS"),
        ({"SMS_SENDER_MPS": "0"}, "SMS_SENDER_MPS"),
        ({"SMS_SENDER_MPS": "2250"}, "SMS_SENDER_MPS"),
        ({"SMS_SENDER_MPS": "nan"}, "SMS_SENDER_MPS"),
        ({"SEND_CONCURRENCY": "0"}, "SEND_CONCURRENCY"),
        ({"SEND_CONCURRENCY": "1000"}, "SEND_CONCURRENCY"),
        ({"SEND_CONCURRENCY": "many"}, "SEND_CONCURRENCY"),
        ({"EMAIL_TRANSPORT": "pigeon-post"}, "EMAIL_TRANSPORT"),
        ({"EMAIL_TRANSPORT": "simulator"}, "INBOUND_EMAIL_DOMAIN, ORGANIZATION_POSTAL_ADDRESS"),
        (
            {"EMAIL_TRANSPORT": "sendgrid", "INBOUND_EMAIL_DOMAIN": "reply.example.org",
             "ORGANIZATION_POSTAL_ADDRESS": "1 Main St"},
            "SENDGRID_API_KEY, SENDGRID_INBOUND_SECRET, SENDGRID_EVENT_PUBLIC_KEY",
        ),
        (
            {"EMAIL_TRANSPORT": "simulator", "INBOUND_EMAIL_DOMAIN": "reply@example",
             "ORGANIZATION_POSTAL_ADDRESS": "1 Main St"},
            "INBOUND_EMAIL_DOMAIN",
        ),
        (
            {"EMAIL_TRANSPORT": "simulator", "INBOUND_EMAIL_DOMAIN": "reply.example.org",
             "ORGANIZATION_POSTAL_ADDRESS": "1 Main St", "EMAIL_FROM": "Dana <dana@example.org>"},
            "EMAIL_FROM",
        ),
    ],
)  # fmt: skip
def test_a_bad_value_is_refused_with_its_name(
    overrides: dict[str, str | None], names: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=names):
        start(tmp_path, **overrides)


@pytest.mark.parametrize(
    ("name", "choices"),
    [("SMS_TRANSPORT", "twilio, simulator"), ("EMAIL_TRANSPORT", "sendgrid, simulator, none")],
)
def test_a_transport_must_be_chosen_there_is_no_default(name: str, choices: str, tmp_path: Path) -> None:
    for unset in (None, ""):
        with pytest.raises(ConfigError) as refused:
            start(tmp_path, **{name: unset})
        assert str(refused.value) == f"{name} must be one of {choices}, and it is not set"


WEAK_KEYS = {
    "one character": "x",
    "a word": "dev",
    "31 random characters": STRONG_KEY[:31],
    "one character repeated": "a" * 64,
    "a pattern repeated": "ab12" * 16,
    "a placeholder made long": "changeme-changeme-changeme-changeme",
    "a placeholder in a sentence": "Replace this with your own long random string",
    "the word secret": "my-super-Secret-key-for-kindred-2026!",
    "a few characters": "0101101001011010010110100101101001011",
}


@pytest.mark.parametrize("key", WEAK_KEYS.values(), ids=list(WEAK_KEYS))
def test_a_weak_secret_key_stops_the_app_and_says_how_to_make_one(key: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        start(tmp_path, SECRET_KEY=key)
    assert str(refused.value).startswith("SECRET_KEY is too weak")
    assert HOW_TO_MAKE_A_KEY in str(refused.value)


@pytest.mark.parametrize(
    "make", [lambda: secrets.token_urlsafe(48), lambda: secrets.token_hex(32), lambda: secrets.token_hex(16)]
)
def test_keys_made_as_the_message_says_or_with_openssl_are_accepted(
    make: Callable[[], str], tmp_path: Path
) -> None:
    for _ in range(500):
        key = make()
        assert key == load(str(tmp_path), {**BASE, "SECRET_KEY": key}).SECRET_KEY


@pytest.mark.parametrize("transport", ["SMS_TRANSPORT", "EMAIL_TRANSPORT"])
@pytest.mark.parametrize("url", ["https://kindred.example.org", "http://0.0.0.0:5000", "http://10.0.0.5"])
def test_the_simulator_is_refused_on_a_public_url(transport: str, url: str, tmp_path: Path) -> None:
    email = {"INBOUND_EMAIL_DOMAIN": "mail.kindred.test", "ORGANIZATION_POSTAL_ADDRESS": "1 Main St"}
    with pytest.raises(ConfigError) as refused:
        start(tmp_path, **{**TWILIO, **email, transport: "simulator", "PUBLIC_BASE_URL": url})
    message = str(refused.value)
    assert f"{transport}=simulator" in message and "PUBLIC_BASE_URL" in message and url in message
    assert "choose a real transport, or serve on http://127.0.0.1" in message


@pytest.mark.parametrize("url", ["http://127.0.0.1:5000", "http://localhost:8000", "http://[::1]:5000"])
def test_the_simulator_runs_on_a_machine_of_ones_own(url: str, tmp_path: Path) -> None:
    app = start(tmp_path, SMS_TRANSPORT="simulator", PUBLIC_BASE_URL=url)
    assert app.url_map.bind("localhost").test("/simulator", method="GET")


def test_sending_through_twilio_without_its_auth_token_is_refused(tmp_path: Path) -> None:
    assert start(tmp_path, **TWILIO).config["SMS_TRANSPORT"] == "twilio"
    with pytest.raises(ConfigError) as refused:
        start(tmp_path, **{**TWILIO, "TWILIO_AUTH_TOKEN": None})
    assert str(refused.value).startswith("SMS_TRANSPORT=twilio needs TWILIO_AUTH_TOKEN (")
    assert "Twilio console" in str(refused.value)


@pytest.mark.parametrize("sid", ["AC123", "SK" + "0" * 32, "AC" + "g" * 32, "ac" + "0" * 32 + " x"])
def test_an_account_sid_twilio_would_never_send_is_refused(sid: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TWILIO_ACCOUNT_SID must be your Account SID"):
        start(tmp_path, **{**TWILIO, "TWILIO_ACCOUNT_SID": sid})


def test_the_default_database_is_a_sqlite_file_in_the_instance_folder(tmp_path: Path) -> None:
    app = start(tmp_path)
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'kindred.sqlite3'}"
