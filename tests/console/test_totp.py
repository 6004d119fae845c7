"""Two-factor sign-in (TOTP), with real codes from pyotp at the app's clock: setting it up from
Your account, signing in with a code or a recovery code (each good once), throttled guesses,
turning it off, and an organization that requires it of admins. Each change is audited."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from gateway.extensions import db
from gateway.models import AuditEntry, Organizer
from tests.console.conftest import SignedIn
from tests.console.test_settings import save
from tests.support import PASSWORD, SettableClock, csrf_token, organizer, sign_in

START = datetime(2026, 11, 29, 12, 0, 5, tzinfo=UTC)
STEP = timedelta(seconds=30)


@pytest.fixture(autouse=True)
def fixed_time(clock: SettableClock) -> SettableClock:
    clock.set(START)
    return clock


def audit_entries(action: str) -> list[AuditEntry]:
    db.session.rollback()
    return list(
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
    )


def code(secret: str, clock: SettableClock) -> str:
    return pyotp.TOTP(secret).at(clock())


def enrol(browser: FlaskClient, clock: SettableClock) -> tuple[str, list[str]]:
    """Set up two-factor sign-in from Your account as a person would; returns the key and the
    recovery codes the page showed."""
    page = browser.get("/console/account").get_data(as_text=True)
    (secret,) = re.findall(r'id="two-factor-secret">([A-Z2-7]+)<', page)
    form = {"code": code(secret, clock), "csrf_token": csrf_token(browser, "/console/account")}
    shown = browser.post("/console/account/two-factor", data=form)
    assert shown.status_code == 200, shown.get_data(as_text=True)
    return secret, re.findall(r"<li><code>([a-z2-9-]+)</code></li>", shown.get_data(as_text=True))


def form_token(page: str) -> str:
    (token,) = set(re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', page))
    return token


def sign_in_with(browser: FlaskClient, email: str, second: str) -> int:
    """Password, then the code: returns the status of the code step."""
    first = sign_in(browser, email)
    assert (first.status_code, first.headers["Location"]) == (302, "/console/login/code")
    token = csrf_token(browser, "/console/login/code")
    return browser.post("/console/login/code", data={"code": second, "csrf_token": token}).status_code


def test_an_organizer_sets_up_two_factor_and_then_signing_in_asks_for_a_code(
    console: Flask, clock: SettableClock
) -> None:
    email = organizer("organizer")
    browser = console.test_client()
    sign_in(browser, email)
    page = browser.get("/console/account").get_data(as_text=True)
    (secret,) = re.findall(r'id="two-factor-secret">([A-Z2-7]+)<', page)
    assert "<svg" in page and f"secret={secret}" in page and "issuer=Kindred" in page
    wrong = {"code": "000000", "csrf_token": csrf_token(browser, "/console/account")}
    assert browser.post("/console/account/two-factor", data=wrong).status_code == 400
    assert db.session.scalars(select(Organizer.totp_secret)).one() is None

    form = {"code": code(secret, clock), "csrf_token": csrf_token(browser, "/console/account")}
    response = browser.post("/console/account/two-factor", data=form)
    assert response.headers["Cache-Control"] == "no-store"  # shown once, kept nowhere
    shown = response.get_data(as_text=True)
    codes = re.findall(r"<li><code>([a-z2-9-]+)</code></li>", shown)
    assert len(set(codes)) == 10
    account = db.session.scalars(select(Organizer)).one()
    assert account.totp_secret == secret and len(account.recovery_codes) == 10
    raw = db.session.execute(text("SELECT totp_secret FROM organizer")).scalar_one()
    assert secret not in raw  # encrypted at rest: a copy of the database gives no second factor
    assert not set(codes) & set(account.recovery_codes)  # kept as digests only
    assert [e.organizer_id for e in audit_entries("two_factor_enabled")] == [account.id]
    assert browser.get("/console/").status_code == 200  # still signed in, afresh
    # The page of codes belongs to the new session: its sign-out button works.
    assert browser.post("/console/logout", data={"csrf_token": form_token(shown)}).status_code == 302

    clock.advance(STEP)
    other = console.test_client()
    first = sign_in(other, email)
    assert first.headers["Location"] == "/console/login/code"
    assert other.get("/console/").status_code == 302  # the password alone signs nobody in
    token = csrf_token(other, "/console/login/code")
    assert other.post("/console/login/code", data={"code": "123456", "csrf_token": token}).status_code == 401
    right = other.post("/console/login/code", data={"code": code(secret, clock), "csrf_token": token})
    assert (right.status_code, right.headers["Location"]) == (302, "/console/")
    assert other.get("/console/").status_code == 200
    assert audit_entries("login")[-1].detail == {"second_factor": "totp"}
    assert audit_entries("login_failed")[-1].detail == {"step": "code"}


def test_a_code_is_good_once_and_only_near_its_time(console: Flask, clock: SettableClock) -> None:
    email = organizer("admin")
    browser = console.test_client()
    sign_in(browser, email)
    secret, _ = enrol(browser, clock)
    assert sign_in_with(console.test_client(), email, code(secret, clock)) == 401  # spent enrolling
    clock.advance(STEP)
    fresh = code(secret, clock)
    assert sign_in_with(console.test_client(), email, fresh) == 302
    assert sign_in_with(console.test_client(), email, fresh) == 401  # replayed
    clock.advance(STEP)
    assert (
        sign_in_with(console.test_client(), email, pyotp.TOTP(secret).at(clock() - STEP * 3)) == 401
    )  # too old


def test_a_recovery_code_signs_in_once_and_is_audited(console: Flask, clock: SettableClock) -> None:
    email = organizer("viewer")
    browser = console.test_client()
    sign_in(browser, email)
    _, codes = enrol(browser, clock)
    typed = " " + codes[3].upper().replace("-", " - ") + " "  # as someone might type it
    assert sign_in_with(console.test_client(), email, typed) == 302
    assert sign_in_with(console.test_client(), email, codes[3]) == 401
    (used,) = audit_entries("recovery_code_used")
    assert used.detail == {"left": 9}
    assert audit_entries("login")[-1].detail == {"second_factor": "recovery_code"}
    assert codes[3] not in str([e.detail for e in audit_entries("login_failed")])


def test_guessing_codes_is_throttled_for_the_account_wherever_the_guesses_come_from(
    console: Flask, clock: SettableClock
) -> None:
    email = organizer("admin")
    browser = console.test_client()
    sign_in(browser, email)
    secret, _ = enrol(browser, clock)
    clock.advance(STEP)
    attacker = console.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.66"
    answers = [sign_in_with(attacker, email, f"{n:06d}") for n in range(6)]
    assert answers == [401] * 5 + [429]
    elsewhere = console.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert sign_in_with(elsewhere, email, code(secret, clock)) == 429  # even the right code, for now
    locked = audit_entries("login_locked")
    assert [(e.detail["throttle"], e.detail["endpoint"]) for e in locked] == [
        ("account", "console.login_code")
    ]
    assert locked[0].organizer_id is not None


def test_the_code_must_follow_the_password_within_five_minutes(console: Flask, clock: SettableClock) -> None:
    email = organizer("organizer")
    browser = console.test_client()
    sign_in(browser, email)
    secret, _ = enrol(browser, clock)
    late = console.test_client()
    assert sign_in(late, email).headers["Location"] == "/console/login/code"
    with late.session_transaction() as session:
        session["two_factor_pending"] = {**session["two_factor_pending"], "until": time.time() - 1}
    clock.advance(STEP)
    token = csrf_token(late, "/console/login")
    answer = late.post("/console/login/code", data={"code": code(secret, clock), "csrf_token": token})
    assert (answer.status_code, answer.headers["Location"]) == (302, "/console/login")
    assert late.get("/console/").status_code == 302


def test_turning_two_factor_off_takes_the_password_and_is_audited(
    console: Flask, clock: SettableClock
) -> None:
    email = organizer("organizer")
    browser = console.test_client()
    sign_in(browser, email)
    enrol(browser, clock)
    for password, expected in (("not my password!", 401), (PASSWORD, 302)):
        form = {"current": password, "csrf_token": csrf_token(browser, "/console/account")}
        assert browser.post("/console/account/two-factor/off", data=form).status_code == expected
    account = db.session.scalars(select(Organizer)).one()
    assert (account.totp_secret, account.recovery_codes) == (None, [])
    assert len(audit_entries("two_factor_disabled")) == 1
    assert browser.get("/console/").status_code == 200  # this browser stays signed in
    assert sign_in(console.test_client(), email).headers["Location"] == "/console/"


def test_kindred_organizer_turns_off_the_two_factor_of_someone_who_lost_their_phone(
    console: Flask, clock: SettableClock
) -> None:
    email = organizer("admin")
    browser = console.test_client()
    sign_in(browser, email)
    enrol(browser, clock)
    result = console.test_cli_runner().invoke(args=["organizer", "two-factor-off", email.upper()])
    assert result.exit_code == 0, result.output
    assert browser.get("/console/").status_code == 302  # their sessions ended
    assert sign_in(console.test_client(), email).headers["Location"] == "/console/"
    (entry,) = audit_entries("two_factor_disabled")
    assert (entry.actor, entry.detail) == ("kindred organizer", {"email": email})


def test_an_organization_can_require_two_factor_of_its_admins(
    console: Flask, signed_in: SignedIn, clock: SettableClock
) -> None:
    first = signed_in("admin")
    status, page = save(first, require_admin_two_factor="y")
    assert status == 400 and "set up two-factor sign-in for yourself first" in page
    enrol(first, clock)
    status, page = save(first, require_admin_two_factor="y")
    assert status == 200 and "Saved." in page
    assert audit_entries("settings_changed")[-1].detail == {"require_admin_two_factor": True}

    second, colleague = signed_in("admin"), signed_in("organizer")
    assert second.get("/console/").headers["Location"] == "/console/account"
    assert second.get("/console/volunteers").headers["Location"] == "/console/account"
    token = csrf_token(second, "/console/account")
    assert second.post("/console/organizers", data={"csrf_token": token}).status_code == 403
    assert "requires two-factor sign-in of admins" in second.get("/console/account").get_data(as_text=True)
    assert colleague.get("/console/").status_code == 200  # only admins
    clock.advance(STEP)
    enrol(second, clock)
    assert second.get("/console/").status_code == 200

    off = {"current": PASSWORD, "csrf_token": csrf_token(first, "/console/account")}
    refused = first.post("/console/account/two-factor/off", data=off)
    assert refused.status_code == 400 and "stays on" in refused.get_data(as_text=True)
    assert audit_entries("two_factor_disabled") == []
