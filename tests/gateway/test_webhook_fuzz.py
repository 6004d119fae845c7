"""Generated requests to every webhook: a thousand signed payloads each, realistic and hostile
(NUL, lone surrogates, bytes that are not UTF-8, numbers past int()'s limit, odd media counts,
unknown statuses, JSON that is no list, broken multipart bodies), never get a 5xx; requests
that are not signed (or signed wrongly) are refused and store nothing.

Each test makes one app and database and sends all its examples to it; the worker never runs,
so what is measured is the webhook alone.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from urllib.parse import quote, quote_from_bytes

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway import clock
from gateway.community import organization
from gateway.delivery import outbox
from gateway.extensions import db
from gateway.models import (
    Address,
    ConsentEvent,
    EarlyStatus,
    Message,
    MessageStatusEvent,
    Person,
    ProviderEvent,
)
from tests.conftest import SENDGRID_INBOUND_SECRET
from tests.doubles.fixtures import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN
from tests.doubles.sendgrid_api import EventSigner
from tests.doubles.twilio_api import twilio_signature
from tests.email.conftest import basic_auth
from tests.support import KINDRED_NUMBER, PUBLIC_BASE_URL

FUZZ = settings(
    max_examples=1000,
    deadline=None,
    database=None,  # nothing written into the working tree
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
VOLUNTEERS = ["+15558675309", "+15558675310", "5558675311", "(555) 867-5312", "+447700900123"]
KNOWN_SIDS = ["SM" + "a" * 32, "SM" + "b" * 32]
FORMS = "application/x-www-form-urlencoded"

# --- hostile values ------------------------------------------------------------------------------

ANY_CHARACTER = st.characters(exclude_categories=())  # surrogates and NUL included
SPECIAL = st.sampled_from(
    ["", "\x00", " ", "0", "-1", "1.5", "1e9", "NaN", "²", "٣", "9" * 4301, "1" + "0" * 5000, "\ud800",
     "\udfff", "%00", "%ED%A0%80", "<Response/>", "'; DROP TABLE message;--", "\r\n\r\n", "\u202e"]
)  # fmt: skip
SHORT_TEXT = st.one_of(SPECIAL, st.text(ANY_CHARACTER, max_size=40))
TEXT = st.one_of(SHORT_TEXT, st.text(ANY_CHARACTER, min_size=1000, max_size=4000))


def raw(text: str) -> bytes:
    """A string as bytes on the wire; a lone surrogate becomes bytes that are not UTF-8."""
    return text.encode("utf-8", "surrogatepass")


BYTES = st.one_of(TEXT.map(raw), st.binary(max_size=200))
SMS_WORDS = st.sampled_from(["hi", "YES", "STOP", "START", "HELP", "Sam", "ADD Ruth, grandma", "DELETE", ""])
NUMBERS = st.one_of(
    st.sampled_from(VOLUNTEERS),
    st.just(KINDRED_NUMBER),
    st.integers(-(10**20), 10**40).map(str),
    TEXT,
)
SIGNING = st.sampled_from(["good", "good", "good", "good", "none", "wrong key", "tampered"])


def row_counts() -> tuple[int, ...]:
    """How many rows each table a webhook writes holds."""
    db.session.rollback()
    tables = (Message, MessageStatusEvent, EarlyStatus, ConsentEvent, ProviderEvent, Person)
    return tuple(db.session.scalar(select(func.count()).select_from(table)) or 0 for table in tables)


def no_nul_stored() -> bool:
    db.session.rollback()
    rows = db.session.execute(select(Message.body, Message.subject, Message.error_code)).all()
    return not any("\x00" in (value or "") for row in rows for value in row)


def check(client: FlaskClient, signing: str, send: Callable[[], int], refused: int = 403) -> None:
    """A well-signed request is never a 5xx; any other is refused and stores nothing."""
    if signing == "good":
        status = send()
        assert status < 500, status
        return
    before = row_counts()
    assert send() == refused
    assert row_counts() == before


# --- Twilio --------------------------------------------------------------------------------------


def form_body(fields: dict[str, bytes]) -> bytes:
    return "&".join(f"{quote(name)}={quote_from_bytes(value)}" for name, value in fields.items()).encode()


def as_parsed(body: bytes) -> dict[str, str]:
    """The form as the server parses it: what Twilio's signature covers."""
    environ = EnvironBuilder(method="POST", data=body, content_type=FORMS).get_environ()
    return Request(environ).form.to_dict()


def post_twilio(
    client: FlaskClient, path: str, fields: dict[str, bytes], signing: str, query: str = ""
) -> int:
    body = form_body(fields)
    if signing == "tampered":
        body += b"&Added=1"  # a field Twilio did not sign
    url = PUBLIC_BASE_URL + path + (f"?{query}" if query else "")
    token = "not-the-auth-token" if signing == "wrong key" else TWILIO_AUTH_TOKEN
    headers = (
        {}
        if signing == "none"
        else {"X-Twilio-Signature": twilio_signature(url, as_parsed(form_body(fields)), token)}
    )
    target = path + (f"?{query}" if query else "")
    return client.post(target, data=body, content_type=FORMS, headers=headers).status_code


def optional(fields: dict[str, st.SearchStrategy[bytes]]) -> st.SearchStrategy[dict[str, bytes]]:
    return st.fixed_dictionaries({}, optional=fields)


SMS_FIELDS = st.tuples(
    st.fixed_dictionaries(
        {
            "MessageSid": st.one_of(st.uuids().map(lambda u: f"SM{u.hex}".encode()), BYTES),
            "AccountSid": st.one_of(st.just(TWILIO_ACCOUNT_SID.encode()), BYTES),
            "From": NUMBERS.map(raw),
            "To": st.one_of(st.just(KINDRED_NUMBER), NUMBERS).map(raw),
            "Body": st.one_of(SMS_WORDS, TEXT).map(raw),
        }
    ),
    optional(
        {
            "NumMedia": st.one_of(st.integers(-(10**6), 10**60).map(str), TEXT).map(raw),
            "MediaUrl0": BYTES,
            "MediaContentType0": BYTES,
            "MediaUrl9999": BYTES,
            "SmsSid": BYTES,
            "FromCountry": BYTES,
            "ErrorCode": BYTES,
        }
    ),
).map(lambda parts: {**parts[0], **parts[1]})


@pytest.fixture
def known_sends(app: Flask) -> None:
    """Two texts Kindred sent, whose status callbacks may come."""
    org = organization.default()
    person = Person(organization_id=org.id)
    db.session.add(person)
    db.session.flush()
    address = Address(organization_id=org.id, person_id=person.id, channel="sms", value=VOLUNTEERS[0])
    db.session.add(address)
    db.session.flush()
    for sid in KNOWN_SIDS:
        message = outbox.queue_sms(address, "Welcome!", "reply")
        message.provider_id, message.status = sid, "sent"
    db.session.commit()


def test_generated_texts_never_get_a_server_error(client: FlaskClient) -> None:
    @FUZZ
    @given(fields=SMS_FIELDS, signing=SIGNING)
    def text(fields: dict[str, bytes], signing: str) -> None:
        check(client, signing, lambda: post_twilio(client, "/webhooks/twilio/sms", fields, signing))

    text()
    assert no_nul_stored()


STATUSES = ["queued", "sending", "sent", "delivered", "undelivered", "failed", "read", "accepted", "exploded"]
STATUS_FIELDS = st.tuples(
    st.fixed_dictionaries(
        {
            "MessageSid": st.one_of(
                st.sampled_from(KNOWN_SIDS), st.uuids().map(lambda u: f"SM{u.hex}"), TEXT
            ).map(raw),
            "AccountSid": st.one_of(st.just(TWILIO_ACCOUNT_SID.encode()), BYTES),
            "MessageStatus": st.one_of(
                st.sampled_from(STATUSES), st.sampled_from(STATUSES).map(str.upper), TEXT
            ).map(raw),
        }
    ),
    optional(
        {
            "ErrorCode": st.one_of(st.sampled_from(["30003", "21610", "30006"]), TEXT).map(raw),
            "SmsStatus": BYTES,
            "To": NUMBERS.map(raw),
            "From": NUMBERS.map(raw),
        }
    ),
).map(lambda parts: {**parts[0], **parts[1]})
QUERIES = st.one_of(
    st.just(""), st.one_of(st.integers(-5, 10**30).map(str), TEXT).map(lambda v: "message=" + quote(raw(v)))
)


def test_generated_status_callbacks_never_get_a_server_error(client: FlaskClient, known_sends: None) -> None:
    @FUZZ
    @given(fields=STATUS_FIELDS, query=QUERIES, signing=SIGNING)
    def callback(fields: dict[str, bytes], query: str, signing: str) -> None:
        check(client, signing, lambda: post_twilio(client, "/webhooks/twilio/status", fields, signing, query))

    callback()
    assert no_nul_stored()


# --- SendGrid Inbound Parse ------------------------------------------------------------------------

ADDRESSES = st.one_of(
    st.sampled_from(
        ["sam@example.org", "Sam Rivera <sam@example.org>", "reply+abc@reply.eastside.example.org", ""]
    ),
    SHORT_TEXT,
)
CHARSETS = st.sampled_from(
    ["utf-8", "UTF-8", "iso-8859-1", "utf-16", "utf-32", "idna", "rot13", "x-unknown", "utf-7", ""]
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | SHORT_TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(SHORT_TEXT, children, max_size=4),
    max_leaves=12,
)


def json_bytes(value: object) -> bytes:
    return json.dumps(value).encode()  # a lone surrogate travels as \\ud800, as JSON allows


MAIL_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "from": ADDRESSES.map(raw),
        "to": ADDRESSES.map(raw),
        "cc": ADDRESSES.map(raw),
        "subject": TEXT.map(raw),
        "text": st.one_of(TEXT.map(raw), st.binary(max_size=500)),
        "html": st.one_of(TEXT.map(lambda t: raw(f"<p>{t}</p><blockquote>{t}</blockquote>")), BYTES),
        "headers": st.one_of(
            TEXT.map(lambda t: raw(f"Message-ID: <{t}@x>\r\nSubject: {t}\r\nAuto-Submitted: {t}")), BYTES
        ),
        "envelope": st.one_of(
            st.fixed_dictionaries({"to": st.one_of(st.lists(ADDRESSES), JSON), "from": JSON}).map(json_bytes),
            JSON.map(json_bytes),
            BYTES,
        ),
        "charsets": st.one_of(st.dictionaries(st.sampled_from(["text", "html", "subject", "from"]), CHARSETS).map(json_bytes), JSON.map(json_bytes), BYTES),
        "attachment-info": st.one_of(JSON.map(json_bytes), BYTES),
        "SPF": st.one_of(st.sampled_from([b"pass", b"fail", b"softfail"]), BYTES),
        "email": st.one_of(
            st.tuples(ADDRESSES, TEXT, TEXT).map(
                lambda t: raw(f"From: {t[0]}\r\nTo: {t[0]}\r\nSubject: {t[1]}\r\nMessage-ID: <{t[1]}>\r\n\r\n{t[2]}")
            ),
            BYTES,
        ),
        "attachment1": BYTES,
    },
)  # fmt: skip


def multipart(fields: dict[str, bytes], broken: bool) -> bytes:
    parts = []
    for name, value in fields.items():
        filename = '; filename="a.jpg"' if name.startswith("attachment") and name[-1].isdigit() else ""
        parts.append(
            f'--xYzZY\r\nContent-Disposition: form-data; name="{name}"{filename}\r\n\r\n'.encode()
            + value
            + b"\r\n"
        )
    body = b"".join(parts) + b"--xYzZY--\r\n"
    return body[: len(body) // 2] if broken else body


def test_generated_inbound_email_never_gets_a_server_error(client: FlaskClient) -> None:
    @FUZZ
    @given(fields=MAIL_FIELDS, broken=st.booleans(), signing=SIGNING)
    def mail(fields: dict[str, bytes], broken: bool, signing: str) -> None:
        headers = {
            "good": basic_auth(),
            "none": {},
            "wrong key": basic_auth("not-the-secret"),
            "tampered": basic_auth(SENDGRID_INBOUND_SECRET + "x"),
        }[signing]
        check(
            client,
            signing,
            lambda: (
                client.post(
                    "/webhooks/sendgrid/inbound",
                    data=multipart(fields, broken),
                    content_type="multipart/form-data; boundary=xYzZY",
                    headers=headers,
                ).status_code
            ),
            refused=401,
        )

    mail()
    assert no_nul_stored()


# --- SendGrid Event Webhook ------------------------------------------------------------------------

KINDS = ["processed", "delivered", "bounce", "dropped", "deferred", "open", "click", "spamreport", "unsubscribe",
         "group_unsubscribe", "group_resubscribe", "exploded"]  # fmt: skip
# A field's value: of the type SendGrid sends, or of another JSON type.
VALUE = st.one_of(
    SHORT_TEXT,
    st.integers(),
    st.floats(allow_nan=False),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)
EVENT = st.fixed_dictionaries(
    {"event": st.one_of(st.sampled_from(KINDS), VALUE), "sg_event_id": st.one_of(st.uuids().map(str), VALUE)},
    optional={
        "email": st.one_of(ADDRESSES, VALUE),
        "sg_message_id": st.one_of(st.uuids().map(lambda u: f"{u.hex}.filter0001"), VALUE),
        "kindred_message_id": st.one_of(st.integers(-(10**30), 10**30), st.integers().map(str), VALUE),
        "timestamp": VALUE,
        "reason": VALUE,
        "status": st.one_of(st.sampled_from(["5.1.1", "4.2.2"]), VALUE),
        "type": st.one_of(st.sampled_from(["bounce", "blocked"]), VALUE),
        "asm_group_id": VALUE,
    },
)
EVENT_BODIES = st.one_of(
    st.lists(st.one_of(EVENT, EVENT, VALUE), max_size=6).map(json_bytes),
    JSON.map(json_bytes),
    st.binary(max_size=200),
    st.just(b"[" * 100_000),
)


def test_generated_event_posts_never_get_a_server_error(
    client: FlaskClient, event_signer: EventSigner
) -> None:
    other = EventSigner()

    @FUZZ
    @given(body=EVENT_BODIES, signing=SIGNING)
    def post(body: bytes, signing: str) -> None:
        now = int(clock.now().timestamp())
        headers = {
            "good": event_signer.headers(body, now),
            "none": {},
            "wrong key": other.headers(body, now),
            "tampered": {**event_signer.headers(body, now), EventSigner.TIMESTAMP: str(now - 1)},
        }[signing]
        check(
            client,
            signing,
            lambda: (
                client.post(
                    "/webhooks/sendgrid/events",
                    data=body,
                    headers={**headers, "Content-Type": "application/json"},
                ).status_code
            ),
        )

    post()


def test_a_signed_text_the_fuzz_would_send_is_taken(client: FlaskClient) -> None:
    """The fuzz's own signing is right: a plain text it signs is stored (so its 2xx count)."""
    fields = {"MessageSid": f"SM{uuid.uuid4().hex}".encode(), "AccountSid": TWILIO_ACCOUNT_SID.encode(),
              "From": VOLUNTEERS[0].encode(), "To": KINDRED_NUMBER.encode(), "Body": b"hi"}  # fmt: skip
    assert post_twilio(client, "/webhooks/twilio/sms", fields, "good") == 200
    assert row_counts()[0] == 1  # the text, stored for the worker to answer


# --- what the fuzz found, kept as plain cases ---------------------------------------------------


def test_an_event_naming_an_address_with_a_lone_surrogate_is_taken(
    client: FlaskClient, event_signer: EventSigner
) -> None:
    """JSON may escape half a surrogate pair ("\\ud800"), which no database can store."""
    events = [
        {
            "event": "unsubscribe",
            "sg_event_id": "ev1",
            "email": "\ud800@example.org",
            "asm_group_id": "\udfff",
        }
    ]
    body = json_bytes(events)
    headers = {**event_signer.headers(body, int(clock.now().timestamp())), "Content-Type": "application/json"}
    assert client.post("/webhooks/sendgrid/events", data=body, headers=headers).status_code == 204
    assert client.post("/webhooks/sendgrid/events", data=body, headers=headers).status_code == 204  # once
    assert db.session.scalar(select(func.count()).select_from(ProviderEvent)) == 1


def test_an_attachment_named_with_a_lone_surrogate_is_kept_under_a_readable_name(client: FlaskClient) -> None:
    fields = {
        "from": b"Sam Rivera <sam@example.org>",
        "to": b"reply+unknown@reply.eastside.example.org",
        "subject": b"Photos",
        "text": b"Here they are.",
        "headers": b"Message-ID: <photos@example.org>",
        "attachment-info": json_bytes({"attachment1": {"filename": "\ud800forum.jpg"}}),
        "attachment1": b"\xff\xd8\xff",
    }
    response = client.post(
        "/webhooks/sendgrid/inbound",
        data=multipart(fields, broken=False),
        content_type="multipart/form-data; boundary=xYzZY",
        headers=basic_auth(),
    )
    assert response.status_code == 200
    (mail,) = db.session.scalars(select(Message).where(Message.channel == "email")).all()
    assert "[attachment: \ufffdforum.jpg, 3 B]" in mail.body
