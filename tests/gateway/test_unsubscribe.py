"""Unsubscribing from email (invariant 5 on the email channel): the one-click POST exactly as
RFC 8058 section 8 shows it (no login, cookie or form token), the link's page that asks first
(a link scanner's GET changes nothing), forged and expired links, and a mailing queued before
the unsubscribe that the worker then drops (invariant 1)."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from gateway.delivery import consent, mail_tokens, outbox
from gateway.extensions import db
from gateway.models import Address, ConsentEvent, Message, Person
from tests.conftest import PUBLIC_BASE_URL
from tests.doubles.sendgrid_api import SendGridApiDouble
from tests.support import Browser, SettableClock, Worker, csrf_token


def shown(response: TestResponse) -> str:
    """The text of a page as a person reads it (entities such as &#39; undone)."""
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture(autouse=True)
def working_hours(clock: SettableClock) -> None:
    """Noon in New York: a mailing waits for the recipient's day."""
    clock.set(datetime(2026, 11, 24, 17, 0, tzinfo=UTC))


@pytest.fixture
def member(app: Flask) -> Address:
    """A member who confirmed their email."""
    from gateway.community import organization

    org = organization.default()
    person = Person(organization_id=org.id, name="Sam")
    db.session.add(person)
    db.session.flush()
    address = Address(organization_id=org.id, person_id=person.id, channel="email", value="sam@example.org")
    db.session.add(address)
    db.session.flush()
    consent.record(address, "opt_in", "email_confirmed", "sign-up 1 via join")
    db.session.commit()
    return address


def unsubscribe_path(address: Address) -> str:
    return mail_tokens.unsubscribe_url(address.id).removeprefix(PUBLIC_BASE_URL)


def email_consent(address: Address) -> list[tuple[str, str]]:
    db.session.rollback()
    return [
        (e.kind, e.source)
        for e in db.session.scalars(
            select(ConsentEvent).where(ConsentEvent.address_id == address.id).order_by(ConsentEvent.id)
        )
    ]


def test_one_click_unsubscribe_exactly_as_rfc_8058_shows_it(app: Flask, member: Address) -> None:
    """RFC 8058 section 8: the mail program POSTs the List-Unsubscribe URL with the body
    "List-Unsubscribe=One-Click", from no browser: no cookie, no session, no form token."""
    fresh = app.test_client(use_cookies=False)
    response = fresh.post(
        unsubscribe_path(member),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        data=b"List-Unsubscribe=One-Click",
    )
    assert response.status_code == 200
    assert "You're unsubscribed" in shown(response)
    assert email_consent(member)[-1] == ("opt_out", "email_one_click")
    assert consent.status(member).value == "opted_out"

    again = fresh.post(
        unsubscribe_path(member),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        data=b"List-Unsubscribe=One-Click",
    )
    assert again.status_code == 200 and "You're unsubscribed" in shown(again)
    assert email_consent(member).count(("opt_out", "email_one_click")) == 1


def test_one_click_as_multipart_form_data_works_too(app: Flask, member: Address) -> None:
    response = app.test_client(use_cookies=False).post(
        unsubscribe_path(member),
        data={"List-Unsubscribe": "One-Click"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert email_consent(member)[-1] == ("opt_out", "email_one_click")


def test_the_links_page_asks_first_and_its_button_unsubscribes(client: FlaskClient, member: Address) -> None:
    path = unsubscribe_path(member)
    for _ in range(3):  # a link scanner, a preview, the person: GET changes nothing
        page = client.get(path)
        assert page.status_code == 200
        assert "Unsubscribe from Eastside Neighbors?" in shown(page)
    assert email_consent(member) == [("opt_in", "email_confirmed")]

    pressed = client.post(path, data={"unsubscribe": "yes"})
    assert pressed.status_code == 200 and "You're unsubscribed" in shown(pressed)
    assert email_consent(member)[-1] == ("opt_out", "email_link")


def test_forged_expired_and_other_purpose_links_unsubscribe_nobody(
    app: Flask, client: FlaskClient, member: Address, clock: SettableClock
) -> None:
    token = mail_tokens.make(mail_tokens.UNSUBSCRIBE, member.id)
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    other_row = mail_tokens.make(mail_tokens.UNSUBSCRIBE, member.id + 1)  # a valid token, no address
    confirm_token = mail_tokens.make(mail_tokens.CONFIRM, member.id)
    for bad in (forged, "nonsense", other_row, confirm_token, token.upper() + "x"):
        for method in ("get", "post"):
            response = getattr(client, method)(
                f"/email/unsubscribe/{bad}",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                data=b"List-Unsubscribe=One-Click",
            )
            assert response.status_code == 404, (bad, method)
            assert "This link doesn't work" in shown(response)
    clock.advance(timedelta(days=3651))
    assert client.post(f"/email/unsubscribe/{token}", data={"unsubscribe": "yes"}).status_code == 404
    assert email_consent(member) == [("opt_in", "email_confirmed")]


def test_a_phones_address_id_in_a_token_is_not_an_email_to_unsubscribe(
    app: Flask, client: FlaskClient
) -> None:
    from gateway.community import organization

    org = organization.default()
    phone = Address(organization_id=org.id, channel="sms", value="+15558675309")
    db.session.add(phone)
    db.session.commit()
    response = client.post(f"/email/unsubscribe/{mail_tokens.make(mail_tokens.UNSUBSCRIBE, phone.id)}")
    assert response.status_code == 404
    assert email_consent(phone) == []


def test_a_mailing_queued_before_the_unsubscribe_is_dropped_by_the_worker(
    app: Flask, member: Address, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    message = outbox.queue_email(member, "News", "The forum is Thursday.", "mailing")
    db.session.commit()
    app.test_client(use_cookies=False).post(
        unsubscribe_path(member),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        data=b"List-Unsubscribe=One-Click",
    )
    worker.run()

    assert sendgrid_api.sent == []
    db.session.rollback()
    dropped = db.session.get(Message, message.id)
    assert dropped is not None
    assert (dropped.status, dropped.error_code) == ("suppressed", "opted_out")


def test_the_link_in_a_sent_mailing_unsubscribes(
    app: Flask, member: Address, worker: Worker, sendgrid_api: SendGridApiDouble
) -> None:
    outbox.queue_email(member, "News", "The forum is Thursday.", "mailing")
    db.session.commit()
    worker.run()
    [mail] = sendgrid_api.sent
    url = mail.headers["List-Unsubscribe"].split(",")[0].strip(" <>")
    assert f'href="{url}"' in mail.html  # the visible link is the same as the header's

    response = app.test_client(use_cookies=False).post(
        url.removeprefix(PUBLIC_BASE_URL),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        data=b"List-Unsubscribe=One-Click",
    )
    assert response.status_code == 200
    assert email_consent(member)[-1] == ("opt_out", "email_one_click")


@pytest.fixture
def browsers(app: Flask) -> Flask:
    """Clients whose requests each run in an app context of their own, as on a real server (the
    form token a page shows is then this browser's own)."""
    app.test_client_class = Browser
    return app


def test_a_mistaken_click_on_unsubscribe_can_be_taken_back_there_and_then_only(
    browsers: Flask, member: Address, clock: SettableClock
) -> None:
    client = browsers.test_client()
    path = unsubscribe_path(member)
    token = path.rsplit("/", 1)[1]
    pressed = client.post(path, data={"unsubscribe": "yes"})
    assert "You're unsubscribed" in shown(pressed) and "Resubscribe" in shown(pressed)
    form_token = csrf_token(client, "/join")
    # Without the page's form token (a forged cross-site post), nothing changes.
    assert client.post(f"/email/resubscribe/{token}").status_code == 400
    # Another browser with the same link cannot take it back: only the one that pressed it.
    other = browsers.test_client()
    other_token = csrf_token(other, "/join")
    assert other.post(f"/email/resubscribe/{token}", data={"csrf_token": other_token}).status_code == 409
    assert email_consent(member)[-1] == ("opt_out", "email_link")

    done = client.post(f"/email/resubscribe/{token}", data={"csrf_token": form_token})
    assert done.status_code == 200 and "You're subscribed again" in shown(done)
    assert email_consent(member)[-1] == ("opt_in", "email_resubscribed")
    # Once: the same button again records nothing more.
    assert client.post(f"/email/resubscribe/{token}", data={"csrf_token": form_token}).status_code == 409
    assert email_consent(member).count(("opt_in", "email_resubscribed")) == 1

    # Later the page of the same link says they are in, and offers to unsubscribe; an
    # unsubscribe taken back too late stands.
    client.post(path, data={"unsubscribe": "yes"})
    clock.advance(timedelta(minutes=16))
    assert client.post(f"/email/resubscribe/{token}", data={"csrf_token": form_token}).status_code == 409
    assert email_consent(member)[-1] == ("opt_out", "email_link")


def test_an_unsubscribe_by_the_mail_program_is_not_taken_back(browsers: Flask, member: Address) -> None:
    client = browsers.test_client()
    path = unsubscribe_path(member)
    token = path.rsplit("/", 1)[1]
    one_click = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert "Resubscribe" not in shown(one_click)
    form_token = csrf_token(client, "/join")
    assert client.post(f"/email/resubscribe/{token}", data={"csrf_token": form_token}).status_code == 409
    # A later GET of the link says they are out, with no way to undo someone else's opt-out.
    assert "Resubscribe" not in shown(client.get(path))
    assert email_consent(member)[-1] == ("opt_out", "email_one_click")
