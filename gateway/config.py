"""Configuration: the environment is read once, strictly, into a frozen Settings value.

A bad value stops the process at start with a message naming the variable, instead of failing
on the first text a volunteer sends. Settings may also be written, one `KEY=value` a line, in
`kindred.env` in the instance folder (`kindred demo` writes one there); the environment wins.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values


class ConfigError(ValueError):
    """A configuration value is missing or malformed."""


SETTINGS_FILE = "kindred.env"
SMS_TRANSPORTS = ("twilio", "simulator")
EMAIL_TRANSPORTS = ("sendgrid", "simulator", "none")


@dataclass(frozen=True)
class Settings:
    """Everything Kindred reads from its environment. Names match the environment variables."""

    DATABASE_URL: str
    REDIS_URL: str
    SECRET_KEY: str
    PUBLIC_BASE_URL: str
    SMS_TRANSPORT: str
    TWILIO_ACCOUNT_SID: str
    TWILIO_AUTH_TOKEN: str
    TWILIO_FROM_NUMBER: str
    TWILIO_MESSAGING_SERVICE_SID: str
    TWILIO_API_BASE_URL: str
    EMAIL_TRANSPORT: str
    SENDGRID_API_KEY: str
    SENDGRID_API_BASE_URL: str
    SENDGRID_EVENT_PUBLIC_KEY: str
    SENDGRID_INBOUND_SECRET: str
    INBOUND_EMAIL_DOMAIN: str
    EMAIL_FROM: str
    ORGANIZATION_POSTAL_ADDRESS: str
    ORGANIZATION_NAME: str
    ORGANIZATION_CONTACT: str
    DEFAULT_REGION: str
    DEFAULT_TIMEZONE: str
    TRUSTED_PROXIES: int
    SECRET_KEY_PREVIOUS: str = ""  # retired secrets still honoured, comma-separated (README, Key rotation)
    MESSAGE_RETENTION_DAYS: int = 365  # message bodies older than this are purged
    SMS_SENDER_MPS: float = 1.0  # texts a second each sending number may send (1: a long code)
    SEND_CONCURRENCY: int = 64  # sends one worker process keeps in flight at once

    def as_flask_config(self) -> dict[str, str | int]:
        """The settings as Flask config keys (same names)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def email_on(config: Mapping[str, object]) -> bool:
    """Whether this deployment can send email at all (EMAIL_TRANSPORT is not none)."""
    return config["EMAIL_TRANSPORT"] != "none"


def normalize_database_url(url: str) -> str:
    """Accept the `postgres://` and `postgresql://` URLs hosting platforms hand out and use the
    psycopg 3 driver for them; other URLs are returned as given."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_folder() -> Path:
    """Where this deployment keeps its local files: $KINDRED_INSTANCE, else ./instance."""
    return Path(os.environ.get("KINDRED_INSTANCE") or Path.cwd() / "instance").resolve()


def settings_file_values(instance_path: str) -> dict[str, str]:
    """The settings written in the instance folder's settings file, if it has one."""
    path = Path(instance_path) / SETTINGS_FILE
    if not path.is_file():
        return {}
    return {key: value for key, value in dotenv_values(path).items() if value is not None}


def default_database_url(instance_path: str) -> str:
    """The embedded default: a SQLite file under the instance folder."""
    return f"sqlite:///{Path(instance_path) / 'kindred.sqlite3'}"


def load(instance_path: str, overrides: Mapping[str, object] | None = None) -> Settings:
    """Read settings from the environment, with `overrides` (from tests or the factory) on top."""
    raw = {
        **settings_file_values(instance_path),
        **os.environ,
        **{k: str(v) for k, v in (overrides or {}).items()},
    }

    def get(name: str, default: str = "") -> str:
        return str(raw.get(name, default)).strip()

    settings = Settings(
        DATABASE_URL=normalize_database_url(get("DATABASE_URL") or default_database_url(instance_path)),
        REDIS_URL=get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        SECRET_KEY=get("SECRET_KEY"),
        PUBLIC_BASE_URL=get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        SMS_TRANSPORT=get("SMS_TRANSPORT").lower(),
        TWILIO_ACCOUNT_SID=get("TWILIO_ACCOUNT_SID"),
        TWILIO_AUTH_TOKEN=get("TWILIO_AUTH_TOKEN"),
        TWILIO_FROM_NUMBER=get("TWILIO_FROM_NUMBER"),
        TWILIO_MESSAGING_SERVICE_SID=get("TWILIO_MESSAGING_SERVICE_SID"),
        TWILIO_API_BASE_URL=get("TWILIO_API_BASE_URL").rstrip("/"),
        EMAIL_TRANSPORT=get("EMAIL_TRANSPORT").lower(),
        SENDGRID_API_KEY=get("SENDGRID_API_KEY"),
        SENDGRID_API_BASE_URL=get("SENDGRID_API_BASE_URL").rstrip("/"),
        SENDGRID_EVENT_PUBLIC_KEY=get("SENDGRID_EVENT_PUBLIC_KEY"),
        SENDGRID_INBOUND_SECRET=get("SENDGRID_INBOUND_SECRET"),
        INBOUND_EMAIL_DOMAIN=get("INBOUND_EMAIL_DOMAIN").lower(),
        EMAIL_FROM=get("EMAIL_FROM").lower(),
        ORGANIZATION_POSTAL_ADDRESS=get("ORGANIZATION_POSTAL_ADDRESS"),
        ORGANIZATION_NAME=get("ORGANIZATION_NAME", "Kindred"),
        ORGANIZATION_CONTACT=get("ORGANIZATION_CONTACT"),
        DEFAULT_REGION=get("DEFAULT_REGION", "US").upper(),
        DEFAULT_TIMEZONE=get("DEFAULT_TIMEZONE", "America/New_York"),
        TRUSTED_PROXIES=_count("TRUSTED_PROXIES", get("TRUSTED_PROXIES", "0")),
        SECRET_KEY_PREVIOUS=get("SECRET_KEY_PREVIOUS"),
        MESSAGE_RETENTION_DAYS=_days("MESSAGE_RETENTION_DAYS", get("MESSAGE_RETENTION_DAYS", "365")),
        SMS_SENDER_MPS=_rate("SMS_SENDER_MPS", get("SMS_SENDER_MPS", "1")),
        SEND_CONCURRENCY=_concurrency("SEND_CONCURRENCY", get("SEND_CONCURRENCY", "64")),
    )
    _validate(settings)
    return settings


def _count(name: str, raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or int(raw) > 5:
        raise ConfigError(f"{name} must be a number of proxies from 0 to 5, not {raw!r}")
    return int(raw)


MAX_SEND_CONCURRENCY = 256


def _concurrency(name: str, raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_SEND_CONCURRENCY:
        raise ConfigError(
            f"{name} must be how many sends one worker keeps in flight, from 1 to "
            f"{MAX_SEND_CONCURRENCY}, not {raw!r}"
        )
    return int(raw)


# A 10DLC number of the top tier may send 225 texts a second; a short code sends 100 unless
# more throughput was bought for it (Twilio sells it by the text a second, and an account's
# short codes can share theirs), so the bound is set well above both, only to catch a slip of
# the keyboard (2250 for 225).
MAX_SENDER_MPS = 1000.0


def _rate(name: str, raw: str) -> float:
    try:
        rate = float(raw)
    except ValueError:
        rate = 0.0
    if not 0.1 <= rate <= MAX_SENDER_MPS:
        raise ConfigError(
            f"{name} must be the texts a second each number may send, from 0.1 to {MAX_SENDER_MPS:g} "
            f"(1 for a long code, 3 toll-free, up to 225 a 10DLC number, 100 a short code, or what "
            f"was bought for it), not {raw!r}"
        )
    return rate


def _validate(s: Settings) -> None:
    _validate_secret_key(s.SECRET_KEY)
    # No default transport: a deployment that forgot to choose must not serve the simulator.
    for name, choices in (("SMS_TRANSPORT", SMS_TRANSPORTS), ("EMAIL_TRANSPORT", EMAIL_TRANSPORTS)):
        value = getattr(s, name)
        if value not in choices:
            given = f"not {value!r}" if value else "and it is not set"
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, {given}")
    for name in ("PUBLIC_BASE_URL", "TWILIO_API_BASE_URL", "SENDGRID_API_BASE_URL"):
        value = getattr(s, name)
        if value and urlsplit(value).scheme not in ("http", "https"):
            raise ConfigError(f"{name} must be an http(s) URL, not {value!r}")
    simulated = [n for n in ("SMS_TRANSPORT", "EMAIL_TRANSPORT") if getattr(s, n) == "simulator"]
    if simulated and urlsplit(s.PUBLIC_BASE_URL).hostname not in LOCAL_HOSTS:
        raise ConfigError(
            f"{simulated[0]}=simulator is for a machine of your own, but PUBLIC_BASE_URL is "
            f"{s.PUBLIC_BASE_URL!r}: choose a real transport, or serve on http://127.0.0.1"
        )
    try:
        ZoneInfo(s.DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"DEFAULT_TIMEZONE must be an IANA time zone, not {s.DEFAULT_TIMEZONE!r}") from exc
    if urlsplit(s.REDIS_URL).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"REDIS_URL must be a redis://, rediss:// or unix:// URL, not {s.REDIS_URL!r}")
    _validate_twilio(s)
    _validate_email(s)


def _validate_secret_key(key: str) -> None:
    """SECRET_KEY signs sessions and keys friends' digests: a guessable one gives both away."""
    how = 'make one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
    if not key:
        raise ConfigError(f"SECRET_KEY is not set: {how}")
    folded = re.sub(r"[^a-z0-9]", "", key.lower())
    if (
        len(key) < MIN_SECRET_KEY_LENGTH
        or len(set(key)) < MIN_SECRET_KEY_VARIETY
        or _REPEATED.fullmatch(key)
        or any(word in folded for word in PLACEHOLDER_WORDS)
    ):
        raise ConfigError(
            f"SECRET_KEY is too weak (it needs {MIN_SECRET_KEY_LENGTH} or more random characters, "
            f"not a placeholder): {how}, and change to it as README's Key rotation says."
        )


def _validate_twilio(s: Settings) -> None:
    """Sending through Twilio needs the account, its auth token (which also verifies every
    webhook) and a sender."""
    if s.TWILIO_ACCOUNT_SID and not _ACCOUNT_SID.match(s.TWILIO_ACCOUNT_SID):
        raise ConfigError(
            "TWILIO_ACCOUNT_SID must be your Account SID as the Twilio console shows it "
            f"(AC and 32 hex digits), not {s.TWILIO_ACCOUNT_SID!r}"
        )
    if s.SMS_TRANSPORT != "twilio":
        return
    missing = [n for n in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN") if not getattr(s, n)]
    if not (s.TWILIO_FROM_NUMBER or s.TWILIO_MESSAGING_SERVICE_SID):
        missing.append("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
    if missing:
        raise ConfigError(
            f"SMS_TRANSPORT=twilio needs {', '.join(missing)} (the Account SID and auth token are "
            "on the Twilio console's front page; the number under Phone Numbers)"
        )


def _validate_email(s: Settings) -> None:
    """Email needs a domain for reply addresses and, by law (CAN-SPAM), a postal address for the
    footer; SendGrid also needs its key, the secret Inbound Parse authenticates with and the key
    that verifies its signed events. Missing any of them stops the process at start."""
    if s.EMAIL_TRANSPORT == "none":
        return
    missing = [n for n in ("INBOUND_EMAIL_DOMAIN", "ORGANIZATION_POSTAL_ADDRESS") if not getattr(s, n)]
    if s.EMAIL_TRANSPORT == "sendgrid":
        missing += [
            n
            for n in ("SENDGRID_API_KEY", "SENDGRID_INBOUND_SECRET", "SENDGRID_EVENT_PUBLIC_KEY")
            if not getattr(s, n)
        ]
    if missing:
        raise ConfigError(f"EMAIL_TRANSPORT={s.EMAIL_TRANSPORT} needs {', '.join(missing)}")
    if not _DOMAIN.match(s.INBOUND_EMAIL_DOMAIN):
        raise ConfigError(
            "INBOUND_EMAIL_DOMAIN must be a domain name, like reply.example.org, "
            f"not {s.INBOUND_EMAIL_DOMAIN!r}"
        )
    if s.EMAIL_FROM and not _EMAIL.match(s.EMAIL_FROM):
        raise ConfigError(f"EMAIL_FROM must be an email address, not {s.EMAIL_FROM!r}")


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
MIN_SECRET_KEY_LENGTH = 32
MIN_SECRET_KEY_VARIETY = 9  # distinct characters; 32 random hex digits have fewer once in 300,000
PLACEHOLDER_WORDS = (
    "changeme", "secret", "password", "passwd", "insecure", "replace", "example", "default",
    "placeholder",
)  # fmt: skip
_REPEATED = re.compile(r"(.+?)\1+", re.DOTALL)
_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_DOMAIN = re.compile(r"^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_EMAIL = re.compile(r"^[^@\s<>\"]{1,64}@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


MAX_RETENTION_DAYS = 36500


def _days(name: str, raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_RETENTION_DAYS:
        raise ConfigError(f"{name} must be a number of days from 1 to {MAX_RETENTION_DAYS}, not {raw!r}")
    return int(raw)
