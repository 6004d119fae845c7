"""Tests of the test doubles: the real servers start and behave, and the real twilio client
talks to the Twilio API double exactly as it would to Twilio."""

from __future__ import annotations

import pytest
import redis
import requests
import sqlalchemy
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.doubles.servers import PostgresServer, RedisServer
from tests.doubles.twilio_api import TwilioApiDouble, count_segments, twilio_signature

FROM_NUMBER = "+15005550006"
VOLUNTEER = "+15551230001"


def client_for(double: TwilioApiDouble, auth_token: str | None = None) -> Client:
    """The real twilio client, pointed at the double the way the app points it."""
    client = Client(double.account_sid, auth_token or double.auth_token)
    client.api.base_url = double.base_url
    return client


def test_redis_server_answers(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    assert client.ping()
    assert client.config_get("save") == {"save": ""}
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"


def test_redis_comes_back_empty_on_the_same_port_after_a_kill() -> None:
    with RedisServer() as server:
        client = redis.Redis.from_url(server.url, socket_connect_timeout=1)
        client.set("outbox", "1")
        server.kill()
        assert not server.running
        with pytest.raises(redis.ConnectionError):
            client.ping()
        server.restart()
        assert server.running
        assert client.ping()
        assert client.get("outbox") is None
        assert server.url.endswith(f":{server.port}/0")


def test_redis_server_stop_ends_the_process() -> None:
    server = RedisServer()
    server.stop()
    assert not server.running
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(server.url, socket_connect_timeout=1).ping()


def test_postgres_create_database_gives_a_fresh_working_url(
    postgres_server: PostgresServer,
) -> None:
    first, second = postgres_server.create_database(), postgres_server.create_database()
    assert first != second
    assert first.startswith(f"postgresql+psycopg://postgres@127.0.0.1:{postgres_server.port}/")
    engine = sqlalchemy.create_engine(first)
    try:
        with engine.connect() as connection:
            assert connection.execute(sqlalchemy.text("select 1")).scalar_one() == 1
            tables = connection.execute(
                sqlalchemy.text("select count(*) from pg_tables where schemaname = 'public'")
            ).scalar_one()
            assert tables == 0
    finally:
        engine.dispose()


def test_real_twilio_client_sends_through_the_double(twilio_api: TwilioApiDouble) -> None:
    message = client_for(twilio_api).messages.create(
        to=VOLUNTEER,
        from_=FROM_NUMBER,
        body="Welcome! What's your first name?",
        status_callback="https://kindred.example/webhooks/twilio/status",
    )
    assert message.sid is not None
    assert message.sid.startswith("SM")
    assert len(message.sid) == 34
    assert message.status == "queued"
    assert message.direction == "outbound-api"
    assert message.account_sid == twilio_api.account_sid
    assert message.num_segments == "1"
    assert message.error_code is None
    assert message.date_created is not None
    assert twilio_api.sent == [
        {
            "sid": message.sid,
            "to": VOLUNTEER,
            "from_": FROM_NUMBER,
            "body": "Welcome! What's your first name?",
            "messaging_service_sid": None,
            "status_callback": "https://kindred.example/webhooks/twilio/status",
        }
    ]


def test_messaging_service_send_is_accepted(twilio_api: TwilioApiDouble) -> None:
    service_sid = "MG" + "1" * 32
    message = client_for(twilio_api).messages.create(
        to=VOLUNTEER, messaging_service_sid=service_sid, body="hi"
    )
    assert message.status == "accepted"
    assert message.messaging_service_sid == service_sid
    assert twilio_api.sent[0]["from_"] is None


def test_unsubscribed_recipient_is_rejected_with_21610(twilio_api: TwilioApiDouble) -> None:
    twilio_api.reject(VOLUNTEER)
    with pytest.raises(TwilioRestException) as raised:
        client_for(twilio_api).messages.create(to=VOLUNTEER, from_=FROM_NUMBER, body="hi")
    assert (raised.value.status, raised.value.code) == (400, 21610)
    assert twilio_api.sent == []
    assert twilio_api.received == [{"To": VOLUNTEER, "From": FROM_NUMBER, "Body": "hi"}]


def test_wrong_credentials_get_401(twilio_api: TwilioApiDouble) -> None:
    with pytest.raises(TwilioRestException) as raised:
        client_for(twilio_api, auth_token="wrong").messages.create(to=VOLUNTEER, from_=FROM_NUMBER, body="hi")
    assert (raised.value.status, raised.value.code) == (401, 20003)
    assert twilio_api.received == []


def test_transient_server_error_then_success(twilio_api: TwilioApiDouble) -> None:
    twilio_api.fail_next(1, status=500)
    client = client_for(twilio_api)
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=VOLUNTEER, from_=FROM_NUMBER, body="hi")
    assert raised.value.status == 500
    assert twilio_api.sent == []
    client.messages.create(to=VOLUNTEER, from_=FROM_NUMBER, body="hi")
    assert len(twilio_api.sent) == 1


def test_dropped_response_still_sends(twilio_api: TwilioApiDouble) -> None:
    twilio_api.drop_response_next()
    with pytest.raises(requests.ConnectionError):
        client_for(twilio_api).messages.create(to=VOLUNTEER, from_=FROM_NUMBER, body="hi")
    assert [sent["to"] for sent in twilio_api.sent] == [VOLUNTEER]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"From": FROM_NUMBER, "Body": "hi"}, 21604),
        ({"To": "555-1234", "From": FROM_NUMBER, "Body": "hi"}, 21211),
        ({"To": VOLUNTEER, "Body": "hi"}, 21603),
        ({"To": VOLUNTEER, "From": FROM_NUMBER}, 21602),
    ],
)
def test_invalid_requests_get_twilio_error_codes(
    twilio_api: TwilioApiDouble, fields: dict[str, str], code: int
) -> None:
    response = requests.post(
        f"{twilio_api.base_url}/2010-04-01/Accounts/{twilio_api.account_sid}/Messages.json",
        data=fields,
        auth=(twilio_api.account_sid, twilio_api.auth_token),
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": code,
        "message": response.json()["message"],
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": 400,
    }
    assert twilio_api.sent == []


def test_unknown_path_is_404(twilio_api: TwilioApiDouble) -> None:
    response = requests.get(f"{twilio_api.base_url}/2010-04-01/Accounts.json", timeout=5)
    assert response.status_code == 404
    assert response.json()["code"] == 20404


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("[" * 80, 1),
        ("[" * 81, 2),
        ("é" * 160, 1),
        ("ñ" * 161, 2),
        ("ą" * 70, 1),
        ("ą" * 71, 2),
        ("🙂" * 35, 1),
        ("🙂" * 36, 2),
    ],
)
def test_segment_count(body: str, segments: int) -> None:
    assert count_segments(body) == segments


def test_twilio_signature_validates() -> None:
    url = "https://kindred.example/webhooks/twilio/sms"
    params = {"From": VOLUNTEER, "Body": "yes", "MessageSid": "SM" + "a" * 32}
    signature = twilio_signature(url, params, "test-auth-token")
    assert RequestValidator("test-auth-token").validate(url, params, signature)
    assert not RequestValidator("other-token").validate(url, params, signature)
