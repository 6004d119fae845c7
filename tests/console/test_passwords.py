"""Passwords: at least 12 characters and none of the 30,000 most common (in any case), wherever
one is chosen (an invitation, Your account, `kindred organizer`); changing one checks the old
one, is throttled like signing in and ends the sessions elsewhere; and every lockout a throttle
makes is in the audit log, once, without the password."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway import clock
from gateway.community import organization, organizers
from gateway.extensions import db
from gateway.models import AuditEntry, Organizer
from tests.console.conftest import SignedIn
from tests.support import PASSWORD, csrf_token, organizer, sign_in

COMMON = "QwertY123456"  # "qwerty123456" is on the list; case does not save it
NEW_PASSWORD = "a walk along the river at dusk"


def audit_entries(action: str) -> list[AuditEntry]:
    db.session.rollback()
    return list(
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
    )


def change_password(browser: FlaskClient, current: str, new: str) -> int:
    token = csrf_token(browser, "/console/account")
    form = {"current": current, "password": new, "csrf_token": token}
    return browser.post("/console/account/password", data=form).status_code


def test_an_invitation_refuses_a_common_or_short_password_and_takes_a_good_one(console: Flask) -> None:
    admin = organizers.find(organization.default(), organizer("admin"))
    assert admin is not None
    token = organizers.invite(
        organization.default(), "rosa@eastside.example.org", "organizer", admin, clock.now()
    )
    db.session.commit()
    path = f"/console/invitation?token={token}"
    newcomer = console.test_client()
    for password, why in ((COMMON, "most common"), ("short pass", "at least 12")):
        page = newcomer.post(
            path, data={"name": "Rosa", "password": password, "csrf_token": csrf_token(newcomer, path)}
        )
        assert page.status_code == 400 and why in page.get_data(as_text=True), password
    good = {"name": "Rosa", "password": NEW_PASSWORD, "csrf_token": csrf_token(newcomer, path)}
    assert newcomer.post(path, data=good).status_code == 302
    assert sign_in(console.test_client(), "rosa@eastside.example.org", NEW_PASSWORD).status_code == 302


def test_kindred_organizer_refuses_a_common_password(app: Flask) -> None:
    runner = app.test_cli_runner()
    for command in (
        ["create", "lee@eastside.example.org", "--role", "viewer"],
        ["password", organizer("admin")],
    ):
        result = runner.invoke(args=["organizer", *command, "--password-stdin"], input="1qaz2wsx3edc\n")
        assert result.exit_code == 1 and "most common" in result.output, result.output
        assert "1qaz2wsx3edc" not in result.output


def test_an_organizer_changes_their_password_and_their_other_sessions_end(
    console: Flask, signed_in: SignedIn
) -> None:
    browser = signed_in("organizer")
    email = db.session.scalars(select(Organizer.email)).one()
    elsewhere = console.test_client()
    assert sign_in(elsewhere, email).status_code == 302

    assert change_password(browser, "not my password!", NEW_PASSWORD) == 401
    assert change_password(browser, PASSWORD, COMMON) == 400
    assert change_password(browser, PASSWORD, NEW_PASSWORD) == 302

    assert browser.get("/console/").status_code == 200  # this browser goes on, signed in afresh
    assert elsewhere.get("/console/").status_code == 302  # the other one is signed out
    assert sign_in(console.test_client(), email).status_code == 401
    assert sign_in(console.test_client(), email, NEW_PASSWORD).status_code == 302
    (entry,) = audit_entries("password_changed")
    assert entry.organizer_id is not None and NEW_PASSWORD not in str(entry.detail)


def test_guessing_the_password_on_your_account_page_is_throttled_and_the_lockout_audited(
    signed_in: SignedIn,
) -> None:
    browser = signed_in("admin")
    answers = [change_password(browser, f"guess number {n}", NEW_PASSWORD) for n in range(12)]
    assert answers == [401] * 10 + [429] * 2
    (locked,) = audit_entries("login_locked")
    assert (locked.detail["throttle"], locked.detail["endpoint"]) == ("address", "console.change_password")
    assert "guess number" not in str(locked.detail)


def test_a_login_lockout_is_audited_once_with_the_email_given_and_never_the_password(console: Flask) -> None:
    email = organizer("admin")
    browser = console.test_client()
    answers = [sign_in(browser, email, f"guess number {n}").status_code for n in range(13)]
    assert answers == [401] * 10 + [429] * 3
    (locked,) = audit_entries("login_locked")  # one entry for the lockout, not one a refusal
    assert (locked.actor, locked.ip, locked.detail["throttle"]) == (email, "127.0.0.1", "address")
    assert "guess number" not in str(locked.detail) + locked.actor


def test_a_lockout_at_another_organizations_account_goes_on_that_organizations_record_only(
    console: Flask,
) -> None:
    eastside = organization.default()  # the instance's first organization
    westside = organization.create("westside", "Westside Neighbors", "+14155550142", "America/Los_Angeles")
    db.session.commit()
    jo = organizer("admin", "jo@westside.example.org", org=westside)
    browser = console.test_client()
    answers = [sign_in(browser, jo, f"guess number {n}").status_code for n in range(12)]
    assert answers == [401] * 10 + [429] * 2

    failed, (locked,) = audit_entries("login_failed"), audit_entries("login_locked")
    assert eastside.id != westside.id
    assert locked.organization_id == westside.id and locked.actor == jo
    assert {entry.organization_id for entry in failed} == {westside.id}  # none on the first's record
