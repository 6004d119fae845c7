"""Every console page runs a bounded number of queries whatever the data size: each page is
asked with 20 seeded volunteers and again with 200, and must run exactly as many SQL
statements both times (a query per row would show as ten times more)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from gateway import clock
from gateway.community import organization, seeding
from gateway.extensions import db
from tests.console.conftest import SignedIn


def seed(app: Flask, volunteers: int, seed: int) -> None:
    with app.app_context():
        seeding.seed(organization.default(), volunteers, random.Random(seed), clock.now())
        db.session.commit()


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def pages(browser: FlaskClient) -> dict[str, str]:
    """Every console page, with a real volunteer, team and thread of the seeded data."""

    def first(path: str, pattern: str) -> str:
        match = re.search(pattern, browser.get(path).get_data(as_text=True))
        assert match, f"nothing matching {pattern} on {path}"
        return match.group(1)

    return {
        "dashboard": "/console/",
        "volunteers": "/console/volunteers",
        "volunteers filtered": "/console/volunteers?active=week&stage=talked&q=a",
        "volunteer": first("/console/volunteers", r'href="(/console/volunteers/\d+)"'),
        "network": "/console/network",
        "network team": first("/console/network", r'href="(/console/network\?team=\d+)"'),
        "inbox": "/console/inbox?show=all",
        "thread": first("/console/inbox?show=all", r'href="(/console/inbox/\d+)"') + "?confirm=1",
        "audit": "/console/audit",
        "organizers": "/console/organizers",
        "prompts": "/console/prompts",
        "prompt": first("/console/prompts", r'href="(/console/prompts/\d+)"'),
        "idea": first("/console/prompts", r'href="(/console/prompts/ideas/\d+)"'),
        "rounds": "/console/rounds",
        "mail": "/console/mail",
        "events": "/console/events",
        "event": first("/console/events", r'href="(/console/events/\d+)"'),
        "teams": "/console/teams",
        "team": first("/console/teams", r'href="(/console/teams/\d+)"'),
        "learned": "/console/learned",
        "learned by month": "/console/learned?period=month",
        "consent": "/console/consent?address="
        + first("/console/exports/download?kind=volunteers", r"\n(\+\d+),[^\n]*,active,"),
        "exports": "/console/exports",
        "settings": "/console/settings",
    }


def queries_per_page(app: Flask, browser: FlaskClient) -> dict[str, int]:
    counts = {}
    for name, path in pages(browser).items():
        browser.get(path)  # warm: the first request of a session may load what later ones reuse
        with counting(app) as statements:
            response = browser.get(path)
        assert response.status_code == 200, (name, path, response.status_code)
        counts[name] = len(statements)
    return counts


def test_each_page_runs_as_many_queries_at_200_volunteers_as_at_20(
    console: Flask, signed_in: SignedIn, record_property: Callable[[str, object], None]
) -> None:
    admin = signed_in("admin")
    seed(console, 20, seed=1)
    small = queries_per_page(console, admin)

    seed(console, 180, seed=2)
    large = queries_per_page(console, admin)

    record_property("queries per page", small)
    assert large == small
    assert max(small.values()) <= 20, small  # and few, not merely constant
