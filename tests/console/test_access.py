"""Every console (and simulator) route, walked from the app's URL map so a new route cannot be
forgotten, as anonymous, viewer, organizer and admin: each may do exactly what their role
allows, and a route that declares no role is refused to everyone."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from werkzeug.routing import Rule

from gateway import access
from gateway.community.organizers import ROLES, may
from tests.console.conftest import SignedIn

PREFIXES = ("/console", "/simulator")
SAMPLE_ARGUMENTS = {"token": "not-a-real-token", "filename": "console.css", "id": "1"}


def console_rules(app: Flask) -> list[tuple[Rule, str]]:
    """Every console route and method; signing out last, so the walk stays signed in."""
    rules = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PREFIXES)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    ]
    return sorted(rules, key=lambda item: item[0].endpoint == "console.logout")


def url(rule: Rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: SAMPLE_ARGUMENTS[m.group(1)], rule.rule)


def test_every_console_route_declares_who_may_use_it(console: Flask) -> None:
    with console.test_request_context():
        undeclared = [
            f"{method} {rule.rule}"
            for rule, method in console_rules(console)
            if rule.endpoint not in access.PUBLIC and access.required_role(rule.endpoint, method) is None
        ]
    assert undeclared == []
    assert len(console_rules(console)) >= 6  # the walk below has something to walk
    walked = {f"{method} {rule.rule}" for rule, method in console_rules(console)}
    assert {"GET /console/mail", "POST /console/mail/preview", "POST /console/mail"} <= walked
    assert {
        "GET /console/login/code",
        "POST /console/login/code",
        "GET /console/account",
        "POST /console/account/password",
        "POST /console/account/two-factor",
        "POST /console/account/two-factor/off",
    } <= walked


@pytest.mark.parametrize("role", [None, *ROLES], ids=["anonymous", *ROLES])
def test_each_role_may_do_what_it_should_and_nothing_more(
    console: Flask, signed_in: SignedIn, role: str | None
) -> None:
    browser = signed_in(role)
    console.config["WTF_CSRF_ENABLED"] = False  # CSRF has its own tests; this walk is about roles
    for rule, method in console_rules(console):
        response = browser.open(url(rule), method=method, data={})
        with console.test_request_context():
            needed = access.required_role(rule.endpoint, method)
        where = f"{role or 'anonymous'} {method} {rule.rule}: {response.status_code}"
        if rule.endpoint in access.PUBLIC:
            assert response.status_code not in (401, 403), where
        elif role is None:
            expected = 302 if method == "GET" else 401
            assert response.status_code == expected, where
            if method == "GET":
                assert response.headers["Location"].startswith("/console/login"), where
        elif needed is not None and may(role, needed):
            assert response.status_code not in (401, 403, 500), where
        else:
            assert response.status_code == 403, where


@pytest.mark.parametrize("id", ["0", "2147483648", "99999999999999999999", "-1", "1e3", "٣"])
def test_an_id_no_record_can_have_is_not_found_on_every_route(
    console: Flask, signed_in: SignedIn, id: str
) -> None:
    """Ids past PostgreSQL's 32-bit integers, zero, or not plain digits never reach the
    database: every route that takes an id refuses them (404; the router answers a POST to a
    path it cannot match with 405)."""
    admin = signed_in("admin")
    console.config["WTF_CSRF_ENABLED"] = False
    with_ids = [(rule, method) for rule, method in console_rules(console) if "<id:" in rule.rule]
    assert len(with_ids) >= 15  # the events, inbox, prompts, ideas, rounds, teams and volunteers
    for rule, method in with_ids:
        path = re.sub(r"<id:id>", id, rule.rule)
        response = admin.open(path, method=method, data={})
        assert response.status_code in ((404,) if method == "GET" else (404, 405)), f"{method} {path}"
