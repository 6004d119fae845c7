"""/simulator: texts typed in the browser take the real path (stored, flows, outbox, worker) and
the replies come back to the page. Off unless SMS_TRANSPORT=simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway import create_app
from gateway.extensions import db
from tests.conftest import app_config
from tests.doubles.servers import RedisServer
from tests.support import Worker


@pytest.fixture
def simulator_app(database_url: str, redis_server: RedisServer, tmp_path: Path) -> Iterator[Flask]:
    config = {
        **app_config(database_url, redis_server.url, "", tmp_path),
        "SMS_TRANSPORT": "simulator",
    }
    app = create_app(config)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def thread(client: FlaskClient, phone: str) -> list[dict[str, str]]:
    response = client.post("/simulator/thread", json={"phone": phone})
    assert response.status_code == 200
    return response.get_json()["messages"]


def test_a_text_from_the_simulator_is_answered_on_the_page(simulator_app: Flask) -> None:
    client = simulator_app.test_client()
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
def test_bad_simulator_input_is_a_400(simulator_app: Flask, payload: object) -> None:
    response = simulator_app.test_client().post("/simulator/send", json=payload)
    assert response.status_code == 400


def test_the_simulator_is_off_with_real_texts(client: FlaskClient) -> None:
    assert client.get("/simulator").status_code == 404
    assert client.post("/simulator/send", json={"phone": "+15555550100", "body": "hi"}).status_code == 404
