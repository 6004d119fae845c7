"""What the Twilio webhooks take from a request Twilio signed: only our account's, only texts to
our numbers and never from them, and every field bounded before it is used (a huge NumMedia, a
NUL in ErrorCode or in a text, a text past Twilio's 1,600 characters)."""

from __future__ import annotations

import logging
import uuid
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway import create_app
from gateway.community import organization
from gateway.extensions import db
from gateway.models import Message, Organization
from tests.doubles.fixtures import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN
from tests.doubles.twilio_api import twilio_signature
from tests.support import KINDRED_NUMBER, PUBLIC_BASE_URL, Phone, Worker, signed_post

SMS = "/webhooks/twilio/sms"
STATUS = "/webhooks/twilio/status"
VOLUNTEER = "+15558675309"
OTHER_ACCOUNT = "AC" + "f" * 32
TERMS_START = "Eastside Neighbors: plan real conversations with people you know. Reply YES"


def text_form(body: str = "hi", **fields: str) -> dict[str, str]:
    return {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "From": VOLUNTEER,
        "To": KINDRED_NUMBER,
        "Body": body,
        **fields,
    }


def stored() -> list[Message]:
    db.session.rollback()  # see what the requests committed
    return list(db.session.scalars(select(Message).order_by(Message.id)))


def inbound() -> list[Message]:
    return [m for m in stored() if m.direction == "inbound"]


def no_number_logged(caplog: pytest.LogCaptureFixture, *numbers: str) -> bool:
    text = "\n".join(record.getMessage() for record in caplog.records)
    return not any(number in text or number[2:] in text for number in numbers)


# --- our account ------------------------------------------------------------------------------


@pytest.mark.parametrize("account", [OTHER_ACCOUNT, None, "", TWILIO_ACCOUNT_SID + "\x00", "AC"])
def test_a_signed_request_for_another_account_is_refused_and_stores_nothing(
    phone: Phone, client: FlaskClient, caplog: pytest.LogCaptureFixture, account: str | None
) -> None:
    phone.send("hi")  # one reply sent, so a status callback has a message to change
    (terms,) = [m for m in stored() if m.direction == "outbound"]
    before = len(stored())
    caplog.set_level(logging.WARNING, logger="gateway.webhooks.twilio")

    form = text_form("STOP") if account is None else text_form("STOP", AccountSid=account)
    assert signed_post(client, SMS, form, account=None).status_code == 403
    status = {"MessageSid": terms.provider_id or "", "MessageStatus": "failed", "ErrorCode": "21610"}
    if account is not None:
        status["AccountSid"] = account
    assert signed_post(client, STATUS, status, account=None).status_code == 403

    assert len(stored()) == before  # no text kept, and STOP did nothing
    assert [e.status for e in stored()[-1].history] == ["queued", "sent"]
    assert phone.send("yes")  # still in the conversation: the STOP never counted
    assert "for another account was refused" in caplog.text
    assert no_number_logged(caplog, VOLUNTEER, KINDRED_NUMBER)


# --- our numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize("to", ["+15551230000", "", "not a number", "+1" + "5" * 400])
def test_a_text_to_a_number_that_is_not_ours_is_refused(
    client: FlaskClient, worker: Worker, caplog: pytest.LogCaptureFixture, to: str
) -> None:
    caplog.set_level(logging.WARNING, logger="gateway.webhooks.twilio")
    assert signed_post(client, SMS, text_form("hi", To=to)).status_code == 403
    worker.run()
    assert stored() == []
    assert "not ours was refused" in caplog.text
    assert no_number_logged(caplog, VOLUNTEER, "+15551230000")


def test_a_text_from_one_of_our_own_numbers_is_never_stored_or_answered(
    client: FlaskClient,
    worker: Worker,
    twilio_api,
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    caplog.set_level(logging.WARNING, logger="gateway.webhooks.twilio")
    second = Organization(slug="westside", name="Westside Tenants", phone="(555) 010-0200")
    db.session.add(second)
    db.session.commit()
    for ours in (KINDRED_NUMBER, "+15550100200"):
        response = signed_post(client, SMS, text_form("hi", From=ours))
        assert response.status_code == 200
        assert response.get_data(as_text=True).endswith("<Response/>")
    worker.run()
    assert stored() == []
    assert twilio_api.sent == []
    assert caplog.text.count("from one of our own numbers was not taken") == 2
    assert no_number_logged(caplog, KINDRED_NUMBER, "+15550100200")


def test_with_two_organizations_the_number_texted_picks_the_organization(
    app: Flask, client: FlaskClient, worker: Worker
) -> None:
    first = organization.default()
    second = Organization(slug="westside", name="Westside Tenants", phone="(555) 010-0200")
    db.session.add(second)
    db.session.commit()
    first_id, second_id = first.id, second.id

    assert signed_post(client, SMS, text_form("hi", To="+15550100200")).status_code == 200
    assert signed_post(client, SMS, text_form("hi", To=KINDRED_NUMBER)).status_code == 200
    assert signed_post(client, SMS, text_form("hi", To="+15551230000")).status_code == 403
    worker.answer()
    assert [m.organization_id for m in inbound()] == [second_id, first_id]
    # Each organization's own answer: the second one's name opens its terms.
    answers = [m for m in stored() if m.direction == "outbound"]
    assert [m.organization_id for m in answers] == [second_id, first_id]
    assert answers[0].body.startswith("Westside Tenants:")


def test_with_a_messaging_service_and_no_number_a_text_to_any_number_is_taken(
    app: Flask,
    twilio_api,  # type: ignore[no-untyped-def]
) -> None:
    settings = {k: v for k, v in app.config.items() if k.isupper() and isinstance(v, str | int)}
    pooled = create_app(
        {**settings, "TWILIO_FROM_NUMBER": "", "TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32}
    )
    client = pooled.test_client()
    with pooled.app_context():
        for to in ("+15550100300", "+15550100400"):  # two numbers of the service's pool
            assert signed_post(client, SMS, text_form("hi", To=to)).status_code == 200
        assert signed_post(client, SMS, text_form("hi", To="")).status_code == 403
        assert len(inbound()) == 2
        assert organization.default().phone == "+15550100300"  # learned from the first text
        db.session.remove()


# --- every field bounded -----------------------------------------------------------------------


def test_a_text_longer_than_twilio_allows_is_cut_and_answered(phone: Phone) -> None:
    assert phone.reply_to("a" * 5000).startswith(TERMS_START)
    assert [m.body for m in inbound()] == ["a" * 1600]


@pytest.mark.parametrize("num_media", ["9" * 4301, "9" * 100_000, "1" + "0" * 4300, "1000"])
def test_an_oversized_media_count_is_taken_as_no_media(phone: Phone, num_media: str) -> None:
    assert phone.reply_to("hi", NumMedia=num_media).startswith(TERMS_START)
    assert [(m.body, m.num_media) for m in inbound()] == [("hi", 0)]


def test_a_huge_media_url_changes_nothing(phone: Phone) -> None:
    media = {
        "NumMedia": "1",
        "MediaUrl0": "https://api.twilio.com/" + "m" * 200_000,
        "MediaContentType0": "x" * 5000,
    }
    assert phone.reply_to("hi", **media).startswith(TERMS_START)
    assert [(m.body, m.num_media) for m in inbound()] == [("hi", 1)]


@pytest.mark.parametrize("code", ["\x00", "300\x0006", "\x00" * 40, "abc", "30006\x00"])
def test_a_nul_or_nonsense_in_error_code_records_the_status_without_a_code(
    phone: Phone, client: FlaskClient, code: str
) -> None:
    phone.send("hi")
    (sent,) = [m for m in stored() if m.direction == "outbound"]
    form = {"MessageSid": sent.provider_id or "", "MessageStatus": "undelivered", "ErrorCode": code}
    assert signed_post(client, STATUS, form).status_code == 204
    (failed,) = [m for m in stored() if m.direction == "outbound"]
    assert (failed.status, failed.error_code) == ("failed", None)
    # The same for a message we don't know yet: kept for later, without the code.
    early = {**form, "MessageSid": "SM" + uuid.uuid4().hex}
    assert signed_post(client, STATUS, early).status_code == 204


def test_a_nul_and_bytes_that_are_not_utf8_never_reach_the_database_raw(
    client: FlaskClient,
    worker: Worker,
    twilio_api,  # type: ignore[no-untyped-def]
) -> None:
    """Twilio sends UTF-8; a body that is not is read as its characters' escapes, and NUL as
    U+FFFD, so the text is kept, readable, and answered."""
    sid = "SM" + uuid.uuid4().hex
    raw = (
        f"MessageSid={sid}&AccountSid={TWILIO_ACCOUNT_SID}&From={quote(VOLUNTEER)}&To={quote(KINDRED_NUMBER)}"
    )
    raw += "&Body=hi%FF%FEthere%00%ED%A0%80"
    as_read = {
        "MessageSid": sid,
        "AccountSid": TWILIO_ACCOUNT_SID,
        "From": VOLUNTEER,
        "To": KINDRED_NUMBER,
        "Body": "hi%FF%FEthere\x00%ED%A0%80",  # what the form parser makes of it: Twilio signs that
    }
    signature = twilio_signature(PUBLIC_BASE_URL + SMS, as_read, TWILIO_AUTH_TOKEN)
    response = client.post(
        SMS,
        data=raw.encode(),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 200
    worker.run()
    assert [m.body for m in inbound()] == ["hi%FF%FEthere\ufffd%ED%A0%80"]
    assert len(twilio_api.sent) == 1
