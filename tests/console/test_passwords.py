"""Passwords: at least 12 characters and none of the 30,000 most common (in any case), wherever
one is chosen (an invitation, `kindred organizer`)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway import clock
from gateway.community import organization, organizers
from gateway.extensions import db
from gateway.models import AuditEntry, Organizer
from tests.support import csrf_token, organizer, sign_in

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
    admin = db.session.get_one(Organizer, organizers.find(organization.default(), organizer("admin")).id)
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
