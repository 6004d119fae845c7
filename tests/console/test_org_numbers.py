"""Each organization texts from its own number, so answers come back to it; and an
organization's number is checked wherever it is set, so no admin can take another
organization's texts or silence a person's."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.community import organization
from gateway.extensions import db
from gateway.models import ConsentEvent, Message, Organization
from tests.console.conftest import SignedIn
from tests.console.test_organizations import kindred
from tests.console.test_settings import save
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import KINDRED_NUMBER, Phone, Worker

WESTSIDE = "+15550100200"


def westside() -> Organization:
    organization.default()  # the deployment's own stays the first
    org = organization.create("westside", "Westside Tenants", WESTSIDE, "America/New_York")
    db.session.commit()
    return org


def test_a_volunteer_of_the_second_organization_hears_from_its_number_and_stops_it(
    client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker
) -> None:
    west = westside()
    west_id = west.id
    sam = Phone(client, twilio_api, worker, "+15558675309")
    ann = Phone(client, twilio_api, worker, "+15558675310")

    for text in ("hi", "yes", "Sam"):
        assert sam.send(text, To=WESTSIDE)
    ann.send("hi")  # to TWILIO_FROM_NUMBER, the first organization's

    senders = {(m["to"], m["from_"]) for m in twilio_api.sent}
    assert senders == {(sam.number, WESTSIDE), (ann.number, KINDRED_NUMBER)}
    assert all(m["messaging_service_sid"] is None for m in twilio_api.sent)

    (confirmation,) = sam.send("STOP", To=WESTSIDE)
    assert twilio_api.sent[-1]["from_"] == WESTSIDE and confirmation
    db.session.commit()
    stops = db.session.scalars(select(ConsentEvent).where(ConsentEvent.kind == "opt_out")).all()
    assert [event.organization_id for event in stops] == [west_id]
    sent_by_sam = db.session.scalars(select(Message.organization_id).where(Message.direction == "inbound"))
    assert sorted(set(sent_by_sam)) == sorted({west_id, organization.default().id})


def test_with_one_organization_texts_go_from_the_configured_sender(phone: Phone, twilio_api) -> None:  # type: ignore[no-untyped-def]
    phone.send("hi")
    assert [m["from_"] for m in twilio_api.sent] == [KINDRED_NUMBER]


def test_the_settings_page_refuses_a_number_that_is_not_the_organizations_own(
    phone: Phone, console: Flask, signed_in: SignedIn
) -> None:
    phone.send("hi")  # a volunteer's number is now an address Kindred texts
    westside()
    admin = signed_in("admin")
    for number, says in (
        (WESTSIDE, "another organization is texted at"),
        ("(555) 867-5309", "the phone of someone Kindred texts"),
        ("call the office", "is not a phone number"),
    ):
        status, page = save(admin, phone=number)
        assert status == 400 and says in page, number
    with console.app_context():
        assert organization.default().phone == KINDRED_NUMBER  # unchanged

    status, page = save(admin, phone="+44 20 7946 0018")  # abroad: stored so it reads back
    assert status == 200 and "Saved." in page
    with console.app_context():
        assert organization.default().phone == "+442079460018"
        assert organization.for_number("+442079460018") == organization.default()
        db.session.remove()


def test_kindred_org_set_and_create_refuse_a_taken_number(app: Flask, phone: Phone) -> None:
    phone.send("hi")
    westside()
    code, output = kindred(app, "org", "set", "--phone", WESTSIDE)
    assert code != 0 and "another organization is texted at (555) 010-0200" in output
    code, output = kindred(app, "org", "set", "--org", "westside", "--phone", phone.number)
    assert code != 0 and "the phone of someone Kindred texts" in output
    code, output = kindred(app, "org", "create", "--slug", "northside", "--name", "Northside",
                           "--phone", "555-010-0200")  # fmt: skip
    assert code != 0 and "another organization is texted at" in output
    code, output = kindred(app, "org", "create", "--slug", "northside", "--name", "Northside",
                           "--phone", "not a number")  # fmt: skip
    assert code != 0 and "is not a phone number" in output
    db.session.rollback()
    assert organization.by_slug("northside") is None
    assert organization.by_slug("westside").phone == WESTSIDE  # type: ignore[union-attr]

    code, output = kindred(app, "org", "set", "--org", "westside", "--phone", "(555) 010-0222")
    assert code == 0, output
    db.session.rollback()
    assert organization.for_number("+15550100222").slug == "westside"  # type: ignore[union-attr]
