"""Signing in and out: the login form, wrong passwords, CSRF, throttling, session rotation and
expiry, safe redirects, invitations, and `kindred organizer create`."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from gateway import create_app
from gateway.extensions import db, redis_client
from gateway.models import AuditEntry, Organizer
from tests.conftest import app_config
from tests.console.conftest import SignedIn
from tests.doubles.servers import RedisServer
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import PASSWORD, Browser, csrf_token, organizer, sign_in


def audit_actions() -> list[tuple[str, str]]:
    db.session.rollback()
    return [(e.action, e.actor) for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_an_organizer_signs_in_and_lands_on_the_dashboard(console: Flask) -> None:
    email = organizer("organizer")
    browser = console.test_client()
    response = sign_in(browser, email)
    assert (response.status_code, response.headers["Location"]) == (302, "/console/")
    cookie = response.headers["Set-Cookie"]
    for part in ("HttpOnly", "SameSite=Lax", "Secure"):
        assert part in cookie
    page = browser.get("/console/")
    assert page.status_code == 200 and b"Eastside Neighbors" in page.data
    assert ("login", email) in audit_actions()


def test_a_wrong_password_or_unknown_email_is_refused_the_same_way_and_audited(console: Flask) -> None:
    email = organizer("organizer")
    browser = console.test_client()
    wrong = sign_in(browser, email, "not the password at all")
    unknown = sign_in(browser, "nobody@eastside.example.org")
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.data.count(b"don&#39;t match an account")
        == unknown.data.count(b"don&#39;t match an account")
        == 1
    )
    assert browser.get("/console/").status_code == 302
    assert [a for a in audit_actions() if a[0] == "login_failed"] == [
        ("login_failed", email),
        ("login_failed", "nobody@eastside.example.org"),
    ]


def test_a_login_without_the_forms_csrf_token_is_refused(console: Flask) -> None:
    email = organizer("admin")
    browser = console.test_client()
    response = browser.post("/console/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 400
    assert browser.get("/console/").status_code == 302


def test_guessing_passwords_is_throttled(console: Flask) -> None:
    email = organizer("admin")
    browser = console.test_client()
    answers = [sign_in(browser, email, f"guess number {n}").status_code for n in range(11)]
    assert answers == [401] * 10 + [429]
    assert sign_in(browser, email).status_code == 429  # even the right password, for now


def test_signing_in_starts_a_new_session(console: Flask) -> None:
    email = organizer("organizer")
    browser = console.test_client()
    before = csrf_token(browser)
    sign_in(browser, email)
    # What the session held before signing in (its CSRF secret here) is gone.
    stale = browser.post("/console/logout", data={"csrf_token": before})
    assert stale.status_code == 400
    fresh = browser.post("/console/logout", data={"csrf_token": csrf_token(browser, "/console/")})
    assert fresh.status_code == 302
    assert browser.get("/console/").status_code == 302  # signed out


def test_a_session_cookie_from_before_signing_in_is_not_the_one_after(console: Flask) -> None:
    """Session fixation: a cookie someone planted or copied before the organizer signed in
    does not become a signed-in session."""
    email = organizer("organizer")
    browser = console.test_client()
    csrf_token(browser)
    before = browser.get_cookie("session")
    assert before is not None
    assert sign_in(browser, email).status_code == 302
    after = browser.get_cookie("session")
    assert after is not None and after.value != before.value
    planted = console.test_client()
    planted.set_cookie("session", before.value)
    assert planted.get("/console/").status_code == 302
    assert browser.get("/console/").status_code == 200


def test_a_changed_account_ends_its_sessions(console: Flask, signed_in: SignedIn) -> None:
    browser = signed_in("admin")
    assert browser.get("/console/").status_code == 200
    for account in db.session.scalars(select(Organizer)):
        account.session_version += 1  # what a new password or a role change does
    db.session.commit()
    assert browser.get("/console/").status_code == 302


def test_after_signing_in_only_console_paths_are_followed(console: Flask) -> None:
    email = organizer("viewer")
    for target, expected in (
        ("/console/audit", "/console/audit"),
        ("https://evil.example/phish", "/console/"),
        ("//evil.example/phish", "/console/"),
    ):
        browser = console.test_client()
        token = csrf_token(browser)
        response = browser.post(
            "/console/login", query_string={"next": target},
            data={"email": email, "password": PASSWORD, "csrf_token": token},
        )  # fmt: skip
        assert response.headers["Location"] == expected


def test_an_admin_invites_an_organizer_who_joins_once(console: Flask, signed_in: SignedIn) -> None:
    admin = signed_in("admin")
    page = admin.post(
        "/console/organizers",
        data={
            "email": "Rosa@Eastside.example.org",
            "role": "organizer",
            "csrf_token": csrf_token(admin, "/console/organizers"),
        },
    )
    assert page.status_code == 200
    (link,) = re.findall(r'id="invitation-link">([^<]+)<', page.get_data(as_text=True))
    path = link.replace("https://kindred.example.org", "").replace("http://localhost", "")

    newcomer = console.test_client()
    form = {"name": "Rosa", "password": "a long enough password", "csrf_token": csrf_token(newcomer, path)}
    assert newcomer.post(path, data=form).status_code == 302
    assert newcomer.get("/console/").status_code == 200
    rosa = db.session.scalars(select(Organizer).where(Organizer.email == "rosa@eastside.example.org")).one()
    assert (rosa.role, rosa.name) == ("organizer", "Rosa")

    again = console.test_client()
    assert again.get(path).status_code == 404  # used once
    actions = [action for action, _ in audit_actions()]
    assert actions[-2:] == ["invitation_made", "invitation_accepted"]


def test_kindred_organizer_create_reads_the_password_from_stdin(app: Flask) -> None:
    runner = app.test_cli_runner()
    made = runner.invoke(
        args=["organizer", "create", "Sam@Eastside.example.org", "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert made.exit_code == 0, made.output
    assert PASSWORD not in made.output
    short = runner.invoke(
        args=["organizer", "create", "lee@eastside.example.org", "--role", "viewer", "--password-stdin"],
        input="short\n",
    )
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    twice = runner.invoke(
        args=["organizer", "create", "sam@eastside.example.org", "--role", "viewer", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert twice.exit_code == 1 and "already has an account" in twice.output
    app.test_client_class = Browser
    assert sign_in(app.test_client(), "sam@eastside.example.org").status_code == 302


def test_behind_a_trusted_proxy_the_throttle_and_audit_go_by_the_clients_address(
    database_url: str, redis_server: RedisServer, twilio_api: TwilioApiDouble, tmp_path: Path
) -> None:
    app = create_app(
        {**app_config(database_url, redis_server.url, twilio_api.base_url, tmp_path), "TRUSTED_PROXIES": "1"}
    )
    app.test_client_class = Browser
    with app.app_context():
        redis_client().flushdb()
        email = organizer("admin")
        for client_address in ("203.0.113.7", "198.51.100.9"):
            browser = app.test_client()
            browser.environ_base["HTTP_X_FORWARDED_FOR"] = client_address
            answers = [sign_in(browser, email, "wrong password!!").status_code for _ in range(10)]
            assert answers == [401] * 10  # each client has its own allowance, not the router's
        db.session.rollback()
        addresses = {entry.ip for entry in db.session.scalars(select(AuditEntry))}
        assert addresses == {"203.0.113.7", "198.51.100.9"}
        db.session.remove()
        db.engine.dispose()


def test_failed_guesses_from_elsewhere_do_not_lock_the_organizer_out(console: Flask) -> None:
    email = organizer("admin")
    attacker = console.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.66"
    assert [sign_in(attacker, email, f"guess {n}!!!!!!!").status_code for n in range(11)][-1] == 429
    owner = console.test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert sign_in(owner, email, "one typo first!!").status_code == 401
    assert sign_in(owner, email).status_code == 302


def test_signing_out_ends_the_session_even_for_a_copied_cookie(console: Flask, signed_in: SignedIn) -> None:
    browser = signed_in("organizer")
    cookie = browser.get_cookie("session")
    assert cookie is not None
    thief = console.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/console/").status_code == 200
    browser.post("/console/logout", data={"csrf_token": csrf_token(browser, "/console/")})
    assert thief.get("/console/").status_code == 302


def test_a_session_ends_twelve_hours_after_signing_in_however_busy(
    console: Flask, signed_in: SignedIn
) -> None:
    browser = signed_in("viewer")
    with browser.session_transaction() as session:
        session["signed_in_at"] -= 12 * 3600 + 60
    assert browser.get("/console/").status_code == 302


def test_a_login_posted_as_json_is_refused_not_crashed(console: Flask) -> None:
    email = organizer("admin")
    browser = console.test_client()
    token = csrf_token(browser)
    for body in ({"email": email, "password": PASSWORD}, "x", 5, [1, 2], {"email": {}}):
        response = browser.post("/console/login", json=body, headers={"X-CSRFToken": token})
        assert response.status_code == 400
    assert browser.get("/console/").status_code == 302


def test_a_nul_in_the_form_is_refused_not_crashed(console: Flask) -> None:
    browser = console.test_client()
    response = browser.post(
        "/console/login",
        data={"email": "a\x00@b.org", "password": "x\x00y", "csrf_token": csrf_token(browser)},
    )
    assert response.status_code == 401


def test_organizer_commands_end_the_sessions_of_the_account_they_change(app: Flask) -> None:
    app.test_client_class = Browser
    email = organizer("admin")
    runner = app.test_cli_runner()
    for args, stdin in (
        (["organizer", "set-role", email, "viewer"], None),
        (["organizer", "password", email, "--password-stdin"], "a brand new password\n"),
        (["organizer", "disable", email], None),
    ):
        browser = app.test_client()
        password = "a brand new password" if args[1] == "disable" else PASSWORD
        assert sign_in(browser, email, password).status_code == 302
        result = runner.invoke(args=args, input=stdin)
        assert result.exit_code == 0, result.output
        assert browser.get("/console/").status_code == 302, args
    assert sign_in(app.test_client(), email, "a brand new password").status_code == 401  # disabled
    actions = [action for action, _ in audit_actions()]
    assert {"role_changed", "password_changed", "organizer_disabled"} <= set(actions)
