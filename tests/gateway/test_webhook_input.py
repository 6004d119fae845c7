"""What the Twilio webhooks accept and refuse: only Twilio's signed requests get in, bad input
is a 4xx that stores nothing, odd but valid texts are stored exactly and answered, and
nothing a sender can put in a request makes the service answer 5xx."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from gateway.community import organization
from gateway.delivery.addresses import erased_values
from gateway.extensions import db
from gateway.models import Address, FlowSession, Message, Person
from tests.doubles.fixtures import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN
from tests.doubles.twilio_api import twilio_signature
from tests.support import KINDRED_NUMBER, PUBLIC_BASE_URL, Phone, on_statement_once, signed_post

SMS = "/webhooks/twilio/sms"
STATUS = "/webhooks/twilio/status"
TERMS_START = "Eastside Neighbors: plan real conversations with people you know. Reply YES"


def inbound_form(body: str = "hi", **fields: str) -> dict[str, str]:
    return {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": TWILIO_ACCOUNT_SID,
        "From": "+15558675309",
        "To": KINDRED_NUMBER,
        "Body": body,
        "NumMedia": "0",
        **fields,
    }


def stored_messages() -> list[Message]:
    db.session.rollback()  # see what the requests committed
    return list(db.session.scalars(select(Message).order_by(Message.id)))


def inbound_bodies() -> list[str]:
    return [m.body for m in stored_messages() if m.direction == "inbound"]


def opted_in(phone: Phone) -> Phone:
    phone.send("hi")
    phone.send("yes")
    phone.send("Sam")
    return phone


# --- signatures -------------------------------------------------------------------------------

FORGERIES = {
    "forged": lambda url, form: "bm90IGEgc2lnbmF0dXJlIGF0IGFsbA==",
    "missing": lambda url, form: None,
    "empty": lambda url, form: "",
    "another URL": lambda url, form: twilio_signature(
        "https://attacker.example.net" + url.removeprefix(PUBLIC_BASE_URL), form, TWILIO_AUTH_TOKEN
    ),
    "another path": lambda url, form: twilio_signature(
        PUBLIC_BASE_URL + "/webhooks/twilio/other", form, TWILIO_AUTH_TOKEN
    ),
    "wrong token": lambda url, form: twilio_signature(url, form, "not-the-auth-token"),
    "other fields": lambda url, form: twilio_signature(url, {**form, "Body": "YES"}, TWILIO_AUTH_TOKEN),
}


def test_requests_not_signed_by_twilio_are_refused_and_store_nothing(
    client: FlaskClient,
) -> None:
    for path in (SMS, STATUS):
        for forgery, sign in FORGERIES.items():
            form = inbound_form("STOP", MessageStatus="delivered")
            signature = sign(PUBLIC_BASE_URL + path, form)
            headers = {} if signature is None else {"X-Twilio-Signature": signature}
            response = client.post(path, data=form, headers=headers)
            assert response.status_code == 403, (path, forgery)
    assert stored_messages() == []


def test_a_signed_url_with_a_query_string_validates(client: FlaskClient) -> None:
    path = SMS + "?org=eastside&v=2"
    form = inbound_form("hi")
    signature = twilio_signature(PUBLIC_BASE_URL + path, form, TWILIO_AUTH_TOKEN)
    assert client.post(path, data=form, headers={"X-Twilio-Signature": signature}).status_code == 200
    # The same signature without the query string Twilio signed is not valid.
    bare = client.post(SMS, data=form, headers={"X-Twilio-Signature": signature})
    assert bare.status_code == 403
    assert inbound_bodies() == ["hi"]


# --- malformed input --------------------------------------------------------------------------

# None: the field is left out of the request.
MALFORMED: dict[str, dict[str, str | None]] = {
    "no MessageSid": {"MessageSid": None},
    "empty MessageSid": {"MessageSid": ""},
    "MessageSid too long": {"MessageSid": "SM" + "0" * 100},
    "MessageSid with a NUL": {"MessageSid": "SM\x00abc"},
    "no From": {"From": None},
    "empty From": {"From": ""},
    "From is words": {"From": "not-a-number"},
    "From is too short": {"From": "12"},
}


def test_malformed_texts_are_refused_and_store_nothing(client: FlaskClient) -> None:
    for case, override in MALFORMED.items():
        fields = {**inbound_form("hi"), **override}
        form = {key: value for key, value in fields.items() if value is not None}
        assert signed_post(client, SMS, form).status_code == 400, case
    assert stored_messages() == []


def test_the_answer_is_empty_twiml(phone: Phone) -> None:
    response = phone.post("hi")
    assert response.status_code == 200
    assert response.mimetype in ("text/xml", "application/xml")
    assert response.get_data(as_text=True).endswith("<Response/>")


# --- duplicates -------------------------------------------------------------------------------


def test_the_same_message_posted_twice_is_stored_and_answered_once(phone: Phone) -> None:
    sid = "SM" + uuid.uuid4().hex
    assert phone.post("hi", sid=sid).status_code == 200
    assert phone.post("hi", sid=sid).status_code == 200
    phone.worker.run()
    assert inbound_bodies() == ["hi"]
    assert len(phone.replies()) == 1
    assert phone.replies()[0].startswith(TERMS_START)


def texted_again_during(phone: Phone, at: Callable[[str, object], bool], first: str, second: str) -> int:
    """Post `first`, which must be answered 200; just before its statement `at` picks runs, post
    `second` from another thread, to its answer. Returns the second's status."""
    seconds: list[int] = []

    def the_second_comes(_: object) -> None:
        with ThreadPoolExecutor(max_workers=1) as pool:
            seconds.append(pool.submit(phone.post, second).result().status_code)

    with on_statement_once(at, the_second_comes):
        assert phone.post(first).status_code == 200
    (status,) = seconds
    return status


def the_address_insert(statement: str, _parameters: object) -> bool:
    return "INSERT INTO address" in statement  # on PostgreSQL, the last step of the newcomer's WITH


@pytest.mark.postgres
def test_two_first_texts_from_one_number_at_once_are_both_kept_under_one_person(
    phone: Phone, database_url: str
) -> None:
    """A newcomer's second text arrives while the first is still making their person: the one
    that stores its address second finds the other's, and both texts are kept under it."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite takes one writer at a time: the second text waits for the first")
    organization.default()  # the organization exists already, as it does once Kindred is set up
    db.session.commit()
    assert texted_again_during(phone, the_address_insert, "hi", "is this the tenants union?") == 200
    db.session.rollback()
    addresses = db.session.scalars(select(Address).where(Address.value == phone.number)).all()
    assert len(addresses) == 1 and addresses[0].person_id is not None
    assert sorted(inbound_bodies()) == ["hi", "is this the tenants union?"]
    assert {m.address_id for m in stored_messages()} == {addresses[0].id}
    assert db.session.scalars(select(Person).where(~Person.addresses.any())).all() == []  # no stray person
    assert db.session.scalar(select(func.count()).select_from(FlowSession)) == db.session.scalar(
        select(func.count()).select_from(Person)
    )
    phone.worker.run()
    assert phone.replies() and phone.replies()[0].startswith(TERMS_START)


def the_person_given(statement: str, _parameters: object) -> bool:
    return statement.startswith("UPDATE address SET person_id")


@pytest.mark.postgres
def test_a_known_number_without_a_person_texting_twice_at_once_gets_one_person(
    phone: Phone, database_url: str
) -> None:
    """A number kept without a person (theirs was deleted) texts twice at once: the text that
    gives it a person second takes the other's, and leaves no person of its own behind."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite takes one writer at a time: the second text waits for the first")
    org = organization.default()
    db.session.add(Address(organization_id=org.id, channel="sms", value=phone.number))
    db.session.commit()
    assert texted_again_during(phone, the_person_given, "hi", "me again") == 200
    db.session.rollback()
    address = db.session.scalars(select(Address).where(Address.value == phone.number)).one()
    assert address.person_id is not None
    assert sorted(inbound_bodies()) == ["hi", "me again"]
    assert db.session.scalars(select(Person).where(~Person.addresses.any())).all() == []  # no stray person
    phone.worker.run()
    assert phone.replies() and phone.replies()[0].startswith(TERMS_START)


def test_a_number_kept_erased_beside_a_live_copy_is_stored_under_the_live_one(phone: Phone) -> None:
    """Should a number be kept both as an erased digest and as itself (a key honoured again
    after a while, say), its text goes to the live address: giving the erased one its number
    back would clash with it (a 500, Twilio retrying for ever). The databases' index order
    happens to put the live one first too: with the erased one first, this fails."""
    org = organization.default()
    erased = Address(organization_id=org.id, channel="sms", value=erased_values(phone.number)[0])
    db.session.add(erased)
    db.session.flush()  # the erased one first: not found first by its id
    live = Address(
        organization_id=org.id, channel="sms", value=phone.number, person=Person(organization_id=org.id)
    )
    db.session.add(live)
    db.session.commit()
    live_id, erased_id, erased_value = live.id, erased.id, erased.value
    assert phone.post("hi").status_code == 200
    assert [(m.body, m.address_id) for m in stored_messages()] == [("hi", live_id)]
    assert db.session.get(Address, erased_id).value == erased_value  # type: ignore[union-attr]


def a_clash_on_the_text(database_url: str) -> Callable[[object], None]:
    """The text's insert, about to run, will fail on a constraint that is not its provider
    id's (undone with the transaction it fails in)."""
    if database_url.startswith("sqlite"):
        clash = (
            "CREATE TEMP TRIGGER not_this_text BEFORE INSERT ON main.message"
            " BEGIN SELECT RAISE(ABORT, 'not this text'); END"
        )
    else:
        clash = "ALTER TABLE message ADD CONSTRAINT not_this_text CHECK (false) NOT VALID"
    return lambda dbapi_connection: dbapi_connection.cursor().execute(clash)  # type: ignore[attr-defined]


def the_text_insert(statement: str, _parameters: object) -> bool:
    return statement.startswith("INSERT INTO message")


def test_a_text_that_clashes_on_anything_but_its_id_is_refused_for_twilio_to_retry(
    phone: Phone, database_url: str
) -> None:
    """Only a clash on the provider id means the text is stored already. Any other is a fault:
    answered 500 (Twilio retries) and logged, never 200 for a text that was not kept."""
    sid = "SM" + uuid.uuid4().hex
    with on_statement_once(the_text_insert, a_clash_on_the_text(database_url)):
        assert phone.post("hi", sid=sid).status_code == 500
    assert stored_messages() == []
    assert phone.post("hi", sid=sid).status_code == 200  # Twilio's retry
    assert inbound_bodies() == ["hi"]
    phone.worker.run()
    assert len(phone.replies()) == 1


# --- picture messages ---------------------------------------------------------------------------


def test_a_picture_without_text_from_a_volunteer_gets_a_helpful_reply(phone: Phone) -> None:
    opted_in(phone)
    reply = phone.reply_to("", NumMedia="1", MediaUrl0="https://api.twilio.com/media/ME1")
    assert "only read text" in reply
    assert "organizer" in reply
    inbound = [m for m in stored_messages() if m.direction == "inbound"][-1]
    assert (inbound.body, inbound.num_media, inbound.needs_attention) == ("", 1, True)


def test_a_picture_before_joining_gets_the_terms(phone: Phone) -> None:
    assert phone.reply_to("", NumMedia="1").startswith(TERMS_START)


NONSENSE_MEDIA_COUNTS = ["abc", "-1", "1.5", "²", "٣", "9" * 30, " 2 ", ""]


def test_a_nonsense_media_count_is_not_a_server_error(phone: Phone) -> None:
    for num_media in NONSENSE_MEDIA_COUNTS:
        response = phone.post("hi", NumMedia=num_media)
        assert response.status_code == 200, (num_media, response.get_data(as_text=True))
    phone.worker.run()
    assert inbound_bodies() == ["hi"] * len(NONSENSE_MEDIA_COUNTS)
    assert all(0 <= m.num_media <= 10 for m in stored_messages())
    assert len(phone.replies()) == len(NONSENSE_MEDIA_COUNTS)


# --- odd but valid bodies ----------------------------------------------------------------------

ODD_BODIES = {
    "1,600 characters with emoji": ("Ruth 👵🏽 medicare & church ✝️ — " * 60)[:1600],
    "SQL-looking": "'; DROP TABLE message;--",
    "more SQL": 'Robert"); DELETE FROM consent_event WHERE (1=1 OR "',
    "control characters": "hi\x01\x07\x08\x1b[31mred\x1b[0m\x7f\u200b\u202e\r\n\tthere",
    "markup": "<Response><Message>hacked</Message></Response> &amp; {{ 7*7 }} %s %(x)s",
}


@pytest.mark.parametrize("body", ODD_BODIES.values(), ids=list(ODD_BODIES))
def test_odd_texts_are_stored_exactly_and_answered_normally(phone: Phone, body: str) -> None:
    opted_in(phone)
    before = len(stored_messages())
    replies = phone.send(body)
    assert len(replies) == 1
    assert replies[0]  # a normal, non-empty answer
    new_inbound = [m for m in stored_messages()[before:] if m.direction == "inbound"]
    assert [m.body for m in new_inbound] == [body]


def test_a_nul_character_does_not_lose_the_text(phone: Phone) -> None:
    """PostgreSQL text cannot hold NUL, so the one NUL a text could carry is stored as U+FFFD;
    the rest of the text is kept exactly and answered (on SQLite too, so both agree)."""
    opted_in(phone)
    replies = phone.send("hi\x00there\x00")
    assert len(replies) == 1
    assert inbound_bodies()[-1] == "hi\ufffdthere\ufffd"


# --- status callbacks ----------------------------------------------------------------------------


def status_form(**fields: str) -> dict[str, str]:
    return {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "MessageStatus": "delivered",
        "To": "+15558675309",
        "From": KINDRED_NUMBER,
        **fields,
    }


STATUS_NO_OPS = {
    # a message we never sent: acknowledged (so Twilio does not retry), nothing to do
    "unknown sid": ({}, 204),
    "unknown sid with 21610": ({"MessageStatus": "failed", "ErrorCode": "21610"}, 204),
    "unknown sid, long error code": ({"MessageStatus": "undelivered", "ErrorCode": "3" * 40}, 204),
    "no status": ({"MessageStatus": ""}, 400),
    "unknown status": ({"MessageStatus": "exploded"}, 400),
    "no sid": ({"MessageSid": ""}, 400),
    "sid too long": ({"MessageSid": "SM" + "9" * 200}, 400),
    "sid with a NUL": ({"MessageSid": "SM\x00abc"}, 400),
}


def test_status_callbacks_that_match_nothing_are_harmless(client: FlaskClient) -> None:
    for case, (fields, expected) in STATUS_NO_OPS.items():
        form = {k: v for k, v in status_form(**fields).items() if v}
        assert signed_post(client, STATUS, form).status_code == expected, case
    assert stored_messages() == []


def test_a_status_callback_with_an_overlong_error_code_still_counts(
    phone: Phone, client: FlaskClient
) -> None:
    phone.send("hi")
    (sent,) = [m for m in stored_messages() if m.direction == "outbound"]
    form = status_form(MessageSid=sent.provider_id, MessageStatus="undelivered", ErrorCode="9" * 40)
    assert signed_post(client, STATUS, form).status_code == 204
    (failed,) = [m for m in stored_messages() if m.direction == "outbound"]
    assert failed.status == "failed"
    assert [e.status for e in failed.history] == ["queued", "sent", "failed"]
