"""/simulator: texts typed in the browser take the real path (stored, flows, outbox, worker) and
the replies come back to the page. Off unless SMS_TRANSPORT=simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway import create_app
from gateway.extensions import db, redis_client
from tests.conftest import app_config
from tests.doubles.servers import RedisServer
from tests.support import Browser, Worker, csrf_token, organizer, sign_in


@pytest.fixture
def simulator_app(database_url: str, redis_server: RedisServer, tmp_path: Path) -> Iterator[Flask]:
    config = {
        **app_config(database_url, redis_server.url, "", tmp_path),
        "SMS_TRANSPORT": "simulator",
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",  # the simulator serves only a machine of one's own
    }
    app = create_app(config)
    app.test_client_class = Browser
    with app.app_context():
        redis_client().flushdb()  # the login throttle counts in Redis
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(simulator_app: Flask) -> FlaskClient:
    """A browser signed in to the console as an organizer, carrying the page's CSRF token."""
    client = simulator_app.test_client()
    assert sign_in(client, organizer("organizer")).status_code == 302
    client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_token(client, "/simulator")
    return client


def thread(client: FlaskClient, phone: str) -> list[dict[str, str]]:
    response = client.post("/simulator/thread", json={"phone": phone})
    assert response.status_code == 200
    return response.get_json()["messages"]


def test_a_text_from_the_simulator_is_answered_on_the_page(simulator_app: Flask, client: FlaskClient) -> None:
    page = client.get("/simulator")
    assert page.status_code == 200 and b"Eastside Neighbors" in page.data

    assert client.post("/simulator/send", json={"phone": "+15555550100", "body": "hi"}).status_code == 202
    Worker(simulator_app).run()
    inbound, reply = thread(client, "+15555550100")
    assert (inbound["direction"], inbound["body"]) == ("inbound", "hi")
    assert reply["direction"] == "outbound" and reply["status"] == "delivered"
    assert "Reply YES to join" in reply["body"]
    assert thread(client, "+15555550199") == []


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {},
        {"phone": "+15555550100"},
        {"phone": "not a number", "body": "hi"},
        {"phone": "+1555", "body": 3},
    ],
)
def test_bad_simulator_input_is_a_400(client: FlaskClient, payload: object) -> None:
    response = client.post("/simulator/send", json=payload)
    assert response.status_code == 400


@pytest.mark.parametrize("role", [None, "viewer"])
def test_the_simulator_is_only_for_organizers_signed_in(simulator_app: Flask, role: str | None) -> None:
    browser = simulator_app.test_client()
    if role:
        sign_in(browser, organizer(role))
        # A valid token, so what refuses the texts below is the role, not CSRF.
        browser.environ_base["HTTP_X_CSRFTOKEN"] = csrf_token(browser, "/console/")
    expected = 403 if role else 302  # a viewer may look at the console but not text as anyone
    assert browser.get("/simulator").status_code == expected
    refused = 403 if role else 400  # anonymous: no session, so no CSRF token to match
    assert (
        browser.post("/simulator/send", json={"phone": "+15555550100", "body": "STOP"}).status_code == refused
    )
    assert browser.post("/simulator/thread", json={"phone": "+15555550100"}).status_code == refused


def test_a_text_without_the_pages_csrf_token_is_refused(simulator_app: Flask) -> None:
    browser = simulator_app.test_client()
    sign_in(browser, organizer("organizer"))
    response = browser.post("/simulator/send", json={"phone": "+15555550100", "body": "STOP"})
    assert response.status_code == 400 and "CSRF" in response.get_json()["description"]


def test_the_simulator_is_off_with_real_texts(app: Flask) -> None:
    app.test_client_class = Browser
    browser = app.test_client()
    sign_in(browser, organizer("admin"))
    assert browser.get("/simulator").status_code == 404
    assert browser.post("/simulator/send", json={"phone": "+15555550100", "body": "hi"}).status_code == 404
