"""Security headers on every response (pages, JSON, errors, static files, webhook answers),
walked from the app's URL map so a new route cannot miss them; pages carry no script or style
the Content-Security-Policy would refuse; HSTS only over https; and forms still post over https
although no page sends a Referer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gateway import create_app, security_headers
from gateway.extensions import db, redis_client
from tests.conftest import INBOUND_EMAIL_DOMAIN, ORGANIZATION_POSTAL_ADDRESS, app_config
from tests.doubles.servers import RedisServer
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import PASSWORD, Browser, csrf_token, organizer, sign_in

SAMPLE_ARGUMENTS = {"token": "not-a-real-token", "id": "1", "filename": "console.css"}
STATIC_FILES = {"public.static": "public.css", "console.static": "simulator/phone.js"}
# Inline script, inline event handlers, style attributes and <style> blocks: all refused by the
# policy, so none may be in a page.
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+\s*=", re.IGNORECASE)


def build(
    database_url: str, redis_url: str, twilio_api_url: str, instance: Path, **overrides: str
) -> Iterator[Flask]:
    app = create_app(
        {
            **app_config(database_url, redis_url, twilio_api_url, instance),
            "INBOUND_EMAIL_DOMAIN": INBOUND_EMAIL_DOMAIN,
            "ORGANIZATION_POSTAL_ADDRESS": ORGANIZATION_POSTAL_ADDRESS,
            **overrides,
        }
    )
    app.test_client_class = Browser
    with app.app_context():
        redis_client().flushdb()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def every_route_app(
    database_url: str, redis_server: RedisServer, twilio_api: TwilioApiDouble, tmp_path: Path
) -> Iterator[Flask]:
    """The app with every part mounted: the simulators too."""
    yield from build(
        database_url, redis_server.url, twilio_api.base_url, tmp_path,
        SMS_TRANSPORT="simulator", EMAIL_TRANSPORT="simulator",
        PUBLIC_BASE_URL="https://localhost",  # the simulators run only on a machine of one's own
    )  # fmt: skip


@pytest.fixture
def http_app(
    database_url: str, redis_server: RedisServer, twilio_api: TwilioApiDouble, tmp_path: Path
) -> Iterator[Flask]:
    """The app served over plain http (the demo on a laptop)."""
    yield from build(
        database_url, redis_server.url, twilio_api.base_url, tmp_path, PUBLIC_BASE_URL="http://localhost:5000"
    )


def path_of(app: Flask, endpoint: str, rule: str) -> str:
    arguments = {**SAMPLE_ARGUMENTS, "filename": STATIC_FILES.get(endpoint, "missing.css")}
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: arguments[m.group(1)], rule)


def assert_secure_headers(response: TestResponse, where: str) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ") if d}
    assert directives.get("default-src") == ["'self'"], where
    assert directives.get("script-src") == ["'self'"], where  # no inline script, no eval
    for name in ("frame-ancestors", "object-src", "base-uri"):
        assert directives.get(name) == ["'none'"], where
    assert directives.get("form-action") == ["'self'"], where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("X-Frame-Options") == "DENY", where
    assert response.headers.get("Referrer-Policy") == "no-referrer", where
    assert response.headers.get("Strict-Transport-Security", "").startswith("max-age="), where


def test_every_get_route_answers_with_the_security_headers_signed_in_or_not(every_route_app: Flask) -> None:
    app = every_route_app
    email = organizer("admin")
    anonymous, admin = app.test_client(), app.test_client()
    assert sign_in(admin, email).status_code == 302
    rules = [rule for rule in app.url_map.iter_rules() if "GET" in (rule.methods or ())]
    assert {"simulator.mailbox", "console.account", "public.join", "health.healthz"} <= {
        r.endpoint for r in rules
    }
    pages = 0
    for rule in rules:
        path = path_of(app, rule.endpoint, rule.rule)
        for who, browser in (("anonymous", anonymous), ("admin", admin)):
            response = browser.get(path)
            where = f"{who} GET {path}: {response.status_code}"
            assert response.status_code < 500, where
            assert_secure_headers(response, where)
            if response.mimetype == "text/html" and response.status_code == 200:
                pages += 1
                found = INLINE.findall(response.get_data(as_text=True))
                assert found == [], where
    assert pages >= 20  # the walk saw the console's pages, not only redirects


def test_errors_static_files_and_webhook_answers_carry_the_headers_too(every_route_app: Flask) -> None:
    client = every_route_app.test_client()
    responses = {
        "404": client.get("/no/such/page"),
        "405": client.delete("/console/login"),
        "unsigned twilio": client.post("/webhooks/twilio/sms", data={"Body": "hi"}),
        "unsigned sendgrid events": client.post("/webhooks/sendgrid/events", json=[]),
        "inbound parse without its password": client.post("/webhooks/sendgrid/inbound", data={}),
        "health": client.get("/healthz"),
        "script": client.get("/console/static/simulator/mail.js"),
    }
    for what, response in responses.items():
        assert_secure_headers(response, what)
    assert responses["script"].status_code == 200
    assert responses["404"].status_code == 404 and responses["unsigned twilio"].status_code in (401, 403)


def test_only_pages_that_show_an_email_allow_its_inline_styles(every_route_app: Flask) -> None:
    assert security_headers.INLINE_STYLE_PAGES.keys() == {
        "console.mail_preview", "console.mailing_page", "simulator.mailbox",
    }  # fmt: skip
    admin = every_route_app.test_client()
    assert sign_in(admin, organizer("admin")).status_code == 302
    mailbox = admin.get("/simulator/mail").headers["Content-Security-Policy"]
    phone = admin.get("/simulator").headers["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in mailbox and "script-src 'self';" in mailbox
    assert "style-src 'self';" in phone and "unsafe-inline" not in phone


def test_over_plain_http_there_is_no_hsts_and_no_secure_cookie(http_app: Flask) -> None:
    browser = http_app.test_client()
    page = browser.get("/console/login")
    assert "Strict-Transport-Security" not in page.headers
    assert page.headers["X-Frame-Options"] == "DENY"
    signed = sign_in(browser, organizer("viewer"))
    assert signed.status_code == 302 and "Secure" not in signed.headers["Set-Cookie"]
    # Behind a proxy that says the request came over https, it is there.
    assert "Strict-Transport-Security" in browser.get("/console/login", base_url="https://localhost").headers


def test_forms_post_over_https_with_no_referer(console: Flask) -> None:
    """No page sends a Referer, so the CSRF check must not ask for one on https: the token
    and SameSite cookies are the protection."""
    browser: FlaskClient = console.test_client()
    email = organizer("organizer")
    token = csrf_token(browser)
    response = browser.post(
        "/console/login",
        base_url="https://localhost",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/console/"
    assert "Referer" not in (response.request.headers or {})
