"""No friend's phone number or email is ever stored in the clear, in any table (DESIGN.md
invariant 3): a volunteer lists friends with contacts in many formats through the real signed
webhook (and through the simulator page), reports on them, shares an idea and posts a team update quoting them, leaves a
question pending with one in it; then every column of every table is read, both as stored
and as the app reads it back (message bodies are encrypted at rest, which must not hide a
leak), and none of the numbers or emails is in it. Only their keyed digests are."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.delivery.addresses import digest
from gateway.extensions import db
from gateway.models import FriendContactDigest
from tests.conftest import SECRET_KEY
from tests.flows.test_contact_masking import SENTENCES, US_FORMATS
from tests.gateway.test_simulator import simulator_app  # noqa: F401 (a fixture used below)
from tests.support import Phone, Worker, csrf_token, every_stored_value, organizer, sign_in

# (area, exchange, line) of each friend's number; one number per format.
NUMBERS = [(f"{212 + i}", f"{300 + 7 * i}", f"{1000 + 37 * i:04d}") for i in range(len(US_FORMATS))]
FRIEND_NAMES = [
    "Ana",
    "Bea",
    "Cal",
    "Dee",
    "Eli",
    "Fay",
    "Gus",
    "Hal",
    "Ivy",
    "Jin",
    "Kai",
    "Lou",
    "Mae",
    "Ned",
    "Oda",
    "Pia",
    "Quin",
    "Rosa",
    "Sol",
    "Tia",
    "Uma",
    "Vic",
    "Wes",
    "Xan",
]
EMAILS = ["Ruth.Lopez+k@Example.org", "ted_99@mail.example.co.uk"]


# A number stored in the clear is a run of digits, maybe with the marks people write between
# them; the digits of a whole value would find numbers in timestamps and provider ids by chance.
_NUMBER_RUN = re.compile(r"\d(?:[\d\s().\-\u2010-\u2015/]*\d)?")


def _holds(value: str, number: str) -> bool:
    """Whether `value` has the E.164 `number` in it, in full or its last seven digits."""
    runs = [re.sub(r"\D", "", run) for run in _NUMBER_RUN.findall(value)]
    return any(number[2:] in run or number[-7:] in run for run in runs)


def test_no_friend_contact_in_any_format_is_stored_in_the_clear(phone: Phone) -> None:
    for body in ("hi", "yes", "Sam", "TEAM NEW Porch Talkers"):
        phone.send(body)
    listed = []
    for index, (pattern, (a, e, s)) in enumerate(zip(US_FORMATS, NUMBERS, strict=True)):
        name = FRIEND_NAMES[index]
        sentence = SENTENCES[index % len(SENTENCES)].replace("Maria", name).replace("maria", name)
        phone.post(re.sub("^(add )?", "ADD ", sentence).format(n=pattern.format(a=a, e=e, s=s)))
        listed.append(f"+1{a}{e}{s}")
    phone.post(f"ADD Ruth {EMAILS[0]}, Ted <{EMAILS[1]}>")
    a, e, s = NUMBERS[0]
    last = f"{a}/{e}/{s}"
    phone.post(f"talked to Ruth, she's in! her other number is {a} – {e} – {s}, email {EMAILS[0]}")
    phone.post(f"IDEA ask Ruth to call {last} about the forum")
    phone.post(f"TEAM Ruth says call her at {a}.{e}.{s}")
    phone.post(f"FORGET {last}")
    phone.post(f"{a}{e}{s}")  # a number alone: a question about it stays pending

    phone.worker.run()
    digests = set(db.session.scalars(select(FriendContactDigest.digest)))
    assert {digest(number, SECRET_KEY) for number in listed} <= digests
    assert digest(EMAILS[0].lower(), SECRET_KEY) in digests

    stored = every_stored_value()
    assert any("[contact]" in value for value in stored)
    leaks = [(number, value) for number in listed for value in stored if _holds(value, number)]
    leaks += [(email, value) for email in EMAILS for value in stored if email.lower() in value.lower()]
    assert leaks == []


@pytest.fixture
def simulator_browser(simulator_app: Flask) -> FlaskClient:  # noqa: F811 (the fixture imported above)
    """An organizer's browser on the simulator page."""
    browser = simulator_app.test_client()
    assert sign_in(browser, organizer("organizer")).status_code == 302
    browser.environ_base["HTTP_X_CSRFTOKEN"] = csrf_token(browser, "/simulator")
    return browser


def test_friends_added_from_the_simulator_are_kept_only_as_digests(
    simulator_app: Flask,  # noqa: F811 (the fixture imported above)
    simulator_browser: FlaskClient,
) -> None:
    phone = "+15555550100"
    listed = []
    texts = ["hi", "yes", "Sam"]
    for index, pattern in enumerate(US_FORMATS[::4]):
        a, e, s = NUMBERS[index]
        texts.append(f"ADD {FRIEND_NAMES[index]} {pattern.format(a=a, e=e, s=s)}, neighbor")
        listed.append(f"+1{a}{e}{s}")
    for body in texts:
        response = simulator_browser.post("/simulator/send", json={"phone": phone, "body": body})
        assert response.status_code == 202
    Worker(simulator_app).run()
    assert {digest(number, SECRET_KEY) for number in listed} <= set(
        db.session.scalars(select(FriendContactDigest.digest))
    )
    stored = every_stored_value()
    assert [(n, v) for n in listed for v in stored if _holds(v, n)] == []
