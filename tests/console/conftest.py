"""Fixtures for the console: the app with its own browser per request, and organizers of each
role signed in."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support import Browser, organizer, sign_in

SignedIn = Callable[[str | None], FlaskClient]


@pytest.fixture
def console(app: Flask) -> Flask:
    """The app, its test clients acting as browsers (one app context per request)."""
    app.test_client_class = Browser
    return app


@pytest.fixture
def signed_in(console: Flask) -> SignedIn:
    """A browser signed in with a new account of the role given (None: nobody signed in)."""

    def browser(role: str | None) -> FlaskClient:
        client = console.test_client()
        if role is not None:
            # Letters, not digits: a page test that looks for a number must not find it here.
            tag = str(id(client)).translate(str.maketrans("0123456789", "abcdefghij"))
            email = f"{role}-{tag}@eastside.example.org"
            assert sign_in(client, organizer(role, email)).status_code == 302
        return client

    return browser
