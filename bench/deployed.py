"""What the delivery benchmarks share: Kindred's settings for a deployment that speaks to
Twilio (or its double), its database and Redis started for the run, and the machine's name."""

from __future__ import annotations

import os
import platform
import secrets
from contextlib import ExitStack
from pathlib import Path

from tests.doubles.fixtures import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN
from tests.doubles.servers import PostgresServer, RedisServer
from tests.support import KINDRED_NUMBER, PUBLIC_BASE_URL


def settings(stack: ExitStack, root: Path, database: str, twilio_api_url: str = "") -> dict[str, str]:
    """The variables of a deployment on a fresh `database` ("postgres" or "sqlite") and Redis,
    both stopped when `stack` closes, texting through Twilio at `twilio_api_url`."""
    redis = RedisServer()
    stack.callback(redis.stop)
    if database == "postgres":
        postgres = PostgresServer()
        stack.callback(postgres.stop)
        database_url = postgres.create_database()
    else:
        database_url = f"sqlite:///{root / 'kindred.sqlite3'}"
    return {
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis.url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "SMS_TRANSPORT": "twilio",
        "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": KINDRED_NUMBER,
        **({"TWILIO_API_BASE_URL": twilio_api_url} if twilio_api_url else {}),
        "EMAIL_TRANSPORT": "none",
        "ORGANIZATION_NAME": "Eastside Neighbors",
        "ORGANIZATION_CONTACT": "organizers@eastside.example.org",
        "KINDRED_INSTANCE": str(root / "instance"),
        "HOST": "127.0.0.1",
        "ACCESS_LOG": "off",
    }


def machine() -> str:
    """The machine the figures were measured on."""
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def group_cpu_seconds(group: int) -> float:
    """The processor time (user and system) the processes of process group `group` have used so
    far, those still running: a Procfile line's shell, its Python process and any children."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended meanwhile
        if int(fields[2]) == group:  # pgrp; utime and stime follow further on
            used += int(fields[11]) + int(fields[12])
    return used / ticks
