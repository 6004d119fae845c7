"""A seeded demo site, run as a deployment runs it, for the console benchmark and the README's
screenshots: a fresh database migrated by the Procfile's release line, `kindred seed-demo`,
an admin made with `kindred organizer create --password-stdin`, and the Procfile's web line
(gunicorn) on 127.0.0.1, with a throwaway Redis. Everything stops when the block ends."""

from __future__ import annotations

import re
import secrets
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.doubles.servers import RedisServer, free_port
from tests.processes import Deployment

ADMIN = "admin@demo.kindred.local"


@dataclass
class Site:
    deployment: Deployment
    base_url: str
    email: str
    password: str
    seeded: str  # what seed-demo said it made

    def signed_in(self) -> requests.Session:
        """An HTTP session signed in as the admin through the login form."""
        session = requests.Session()
        page = session.get(self.base_url + "/console/login", timeout=10).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token, "no CSRF token on the login page"
        response = session.post(
            self.base_url + "/console/login",
            data={"email": self.email, "password": self.password, "csrf_token": token.group(1)},
            timeout=10,
            allow_redirects=False,
        )
        assert response.status_code == 302, f"sign-in failed: {response.status_code}"
        return session


@contextmanager
def seeded_site(volunteers: int, database_url: str | None = None, workers: int = 2) -> Iterator[Site]:
    """A site with `volunteers` seeded volunteers, on a fresh SQLite file unless a database URL
    (an empty PostgreSQL database, say) is given."""
    with tempfile.TemporaryDirectory(prefix="kindred-site-") as folder:
        root = Path(folder)
        redis = RedisServer()
        try:
            settings = {
                "SECRET_KEY": secrets.token_hex(32),
                "DATABASE_URL": database_url or f"sqlite:///{root / 'kindred.sqlite3'}",
                "REDIS_URL": redis.url,
                "SMS_TRANSPORT": "simulator",
                "EMAIL_TRANSPORT": "simulator",
                "INBOUND_EMAIL_DOMAIN": "mail.kindred.test",
                "ORGANIZATION_POSTAL_ADDRESS": "100 Main St, Springfield, IL 62701",
                "PUBLIC_BASE_URL": "http://127.0.0.1",
                "ORGANIZATION_NAME": "Eastside Neighbors",
                "ORGANIZATION_CONTACT": "organizers@eastside.example.org",
                "KINDRED_INSTANCE": str(root / "instance"),
                "HOST": "127.0.0.1",
                "PORT": str(free_port()),
                "WEB_CONCURRENCY": str(workers),
                "ACCESS_LOG": "off",
            }
            with Deployment(settings, root / "logs") as deployment:
                deployment.release()
                seeded = deployment.kindred("seed-demo", "--volunteers", str(volunteers)).strip()
                password = secrets.token_urlsafe(18)
                subprocess.run(
                    ["kindred", "organizer", "create", ADMIN, "--role", "admin", "--password-stdin"],
                    input=password + "\n",
                    env=deployment.env,
                    capture_output=True,
                    text=True,
                    check=True,
                    timeout=120,
                )
                deployment.start("web")
                deployment.wait_until_serving()
                yield Site(deployment, deployment.base_url, ADMIN, password, seeded)
        finally:
            redis.stop()
