"""Configuration is read strictly: a bad value stops the app with a message naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import create_app
from gateway.config import ConfigError, normalize_database_url


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


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SMS_TRANSPORT": "carrier-pigeon"}, "SMS_TRANSPORT"),
        ({"SMS_TRANSPORT": "twilio"}, "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER"),
        ({"PUBLIC_BASE_URL": "kindred.example.org"}, "PUBLIC_BASE_URL"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ({"DEFAULT_TIMEZONE": "Mars/Olympus_Mons"}, "DEFAULT_TIMEZONE"),
        ({"TRUSTED_PROXIES": "yes"}, "TRUSTED_PROXIES"),
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
    overrides: dict[str, str], names: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_FROM_NUMBER",
        "TWILIO_MESSAGING_SERVICE_SID",
        "SENDGRID_API_KEY",
        "SENDGRID_INBOUND_SECRET",
        "SENDGRID_EVENT_PUBLIC_KEY",
        "INBOUND_EMAIL_DOMAIN",
        "ORGANIZATION_POSTAL_ADDRESS",
        "EMAIL_FROM",
    ):
        monkeypatch.delenv(name, raising=False)
    config = {"SECRET_KEY": "k", "INSTANCE_PATH": str(tmp_path), **overrides}
    with pytest.raises(ConfigError, match=names):
        create_app(config)


def test_the_default_database_is_a_sqlite_file_in_the_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"SECRET_KEY": "k", "INSTANCE_PATH": str(tmp_path)})
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'kindred.sqlite3'}"
