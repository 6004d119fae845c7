"""An admin erases a volunteer from the console (for one who asks them rather than texting
DELETE): only after typing ERASE; their data goes, they are opted out, and the audit log says
who erased whom, with nothing they said. Organizers and viewers cannot."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import select

from gateway.delivery import consent
from gateway.extensions import db
from gateway.models import Address, AuditEntry, Friend, Person
from tests.console.conftest import SignedIn
from tests.support import Phone, csrf_token, every_stored_value


@pytest.fixture
def volunteer(phone: Phone) -> Phone:
    for body in ("hi", "yes", "Samira", "ADD Maria 555-201-7788, neighbor, cares about schools"):
        phone.send(body)
    return phone


def _person_id() -> int:
    return db.session.scalars(select(Person.id).where(Person.volunteer_since.is_not(None))).one()


def erase(browser, person_id: int, confirm: str):  # type: ignore[no-untyped-def]
    token = csrf_token(browser, f"/console/volunteers/{person_id}")
    return browser.post(
        f"/console/volunteers/{person_id}/erase",
        data={"csrf_token": token, "confirm": confirm},
        follow_redirects=True,
    )


def test_an_admin_erases_a_volunteer_and_it_is_audited(
    volunteer: Phone, console: Flask, signed_in: SignedIn
) -> None:
    admin = signed_in("admin")
    person_id = _person_id()
    assert "Erase their data" in admin.get(f"/console/volunteers/{person_id}").get_data(as_text=True)

    page = erase(admin, person_id, "erase").get_data(as_text=True)
    assert "Erased. Only a digest of their number is kept" in page
    assert db.session.get(Person, person_id).name is None
    assert db.session.query(Friend).count() == 0
    address = db.session.scalars(select(Address)).one()
    assert address.value.startswith("hmac:")
    assert consent.status(address).name == "OPTED_OUT"
    assert not [v for v in every_stored_value() if "Samira" in v or volunteer.number[2:] in v]

    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "volunteer_erased")).one()
    assert entry.actor.startswith("admin") and entry.detail == {"person": person_id}
    assert "Samira" not in json.dumps(entry.detail)
    assert "volunteer_erased" in admin.get("/console/audit").get_data(as_text=True)

    # They are opted out: a text from them is not answered until they choose to come back.
    assert volunteer.send("hi") == []


def test_nothing_is_erased_without_typing_erase(
    volunteer: Phone, console: Flask, signed_in: SignedIn
) -> None:
    admin = signed_in("admin")
    page = erase(admin, _person_id(), "yes").get_data(as_text=True)
    assert "Nothing was erased: type ERASE to confirm." in page
    assert db.session.scalars(select(Person.name).where(Person.id == _person_id())).one() == "Samira"
    assert not db.session.scalars(select(AuditEntry).where(AuditEntry.action == "volunteer_erased")).all()


def test_only_admins_may_erase(volunteer: Phone, console: Flask, signed_in: SignedIn) -> None:
    person_id = _person_id()
    for role in ("viewer", "organizer"):
        browser = signed_in(role)
        assert "Erase their data" not in browser.get(f"/console/volunteers/{person_id}").get_data(
            as_text=True
        )
        assert erase(browser, person_id, "ERASE").status_code == 403
    assert db.session.get(Person, person_id).name == "Samira"
