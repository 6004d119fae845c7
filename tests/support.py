"""Test helpers that act as the outside world: a volunteer's phone, Twilio's callbacks, a
worker draining the queues and a member who gets email."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta

from flask import Flask, has_app_context
from flask.testing import FlaskClient
from rq import SimpleWorker
from sqlalchemy import event, select, text
from werkzeug.test import TestResponse

from gateway import jobs
from gateway.extensions import INITIATED_QUEUE, OUTBOX_QUEUE, QUEUES, db, queue, redis_client
from gateway.models import Address, Base, ConsentEvent, ConversationReport, Friend, Organization, Person
from gateway.models.base import ENCRYPTED_PREFIX
from gateway.sms import inbound
from tests.doubles.fixtures import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN
from tests.doubles.twilio_api import TwilioApiDouble, twilio_signature

PUBLIC_BASE_URL = "https://kindred.example.org"
KINDRED_NUMBER = "+15005550006"


def signed_post(
    client: FlaskClient,
    path: str,
    form: dict[str, str],
    token: str = TWILIO_AUTH_TOKEN,
    account: str | None = TWILIO_ACCOUNT_SID,
) -> TestResponse:
    """POST a form to the app as Twilio would, signed for PUBLIC_BASE_URL + path; the form
    names our account unless it names one itself (or `account` is None)."""
    if account is not None:
        form = {"AccountSid": account, **form}
    signature = twilio_signature(PUBLIC_BASE_URL + path, form, token)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


class SettableClock:
    """The app's clock in a test: the system clock until `set`, then the moment set."""

    def __init__(self) -> None:
        self.moment: datetime | None = None

    def __call__(self) -> datetime:
        return self.moment or datetime.now(UTC)

    def set(self, moment: datetime) -> None:
        self.moment = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self.moment = self() + delta


class _BurstWorker(SimpleWorker):
    """RQ's SimpleWorker without its control channel: a burst run in a test takes no commands
    (`rq.command`), and stopping the channel's listener thread cost up to a second a run."""

    def subscribe(self) -> None:
        pass


class Worker:
    """A real RQ worker, run in this process until the queues are empty."""

    def __init__(self, app: Flask):
        self.app = app

    def run(self, *names: str) -> None:
        """Answer the texts waiting (the senders do as soon as one is stored), run the jobs of
        the queues named (all of Kindred's by default) until they are empty, then send every
        message that is due (naming a queue leaves the outbox alone unless it is an outbox
        queue)."""
        caller = has_app_context()
        if caller:
            db.session.commit()  # what the test wrote is what the worker, a separate process, sees
        with self.app.app_context():
            inbound.answer_waiting()  # the senders answer a text as soon as it is stored
            queues = [queue(name) for name in names or QUEUES]
            _BurstWorker(queues, connection=redis_client()).work(burst=True)
            if not names or {OUTBOX_QUEUE, INITIATED_QUEUE} & set(names):
                jobs.drain()  # the worker's senders, answering then sending one at a time
        if caller:
            # End the test's transaction too, as a request boundary would: on SQLite a transaction
            # keeps reading the snapshot it started with, and the worker has changed things since.
            db.session.commit()

    def answer(self) -> None:
        """Answer the texts waiting, as the worker's senders do, and send nothing: what the
        worker has done between answering a text and sending its reply."""
        if has_app_context():
            db.session.commit()
        with self.app.app_context():
            inbound.answer_waiting()
        if has_app_context():
            db.session.commit()


class Phone:
    """A volunteer's phone texting Kindred through the signed Twilio webhook."""

    def __init__(self, client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker, number: str):
        self.client = client
        self.twilio_api = twilio_api
        self.worker = worker
        self.number = number

    def post(self, body: str, sid: str | None = None, **extra: str) -> TestResponse:
        """Deliver one text to the webhook; returns the webhook's response."""
        form = {
            "MessageSid": sid or "SM" + uuid.uuid4().hex,
            "AccountSid": self.twilio_api.account_sid,
            "From": self.number,
            "To": KINDRED_NUMBER,
            "Body": body,
            "NumMedia": "0",
            **extra,
        }
        return signed_post(self.client, "/webhooks/twilio/sms", form)

    def send(self, body: str, **extra: str) -> list[str]:
        """Text Kindred, let the worker send the answers, and return the replies that arrived."""
        before = len(self.replies())
        response = self.post(body, **extra)
        assert response.status_code == 200, response.get_data(as_text=True)
        self.worker.run()
        return self.replies()[before:]

    def reply_to(self, body: str, **extra: str) -> str:
        """Text Kindred and return the one reply that arrived."""
        replies = self.send(body, **extra)
        assert len(replies) == 1, replies
        return replies[0]

    def replies(self) -> list[str]:
        """Every text Twilio was asked to send to this phone, oldest first."""
        return [m["body"] for m in self.twilio_api.sent if m["to"] == self.number]


def text_together(texts: list[tuple[Phone, str]], worker: Worker) -> list[list[str]]:
    """Several phones text Kindred at once (one text each), the worker runs once for them all,
    and each phone's replies come back in the same order: volunteers set up side by side."""
    before = [len(phone.replies()) for phone, _ in texts]
    for phone, body in texts:
        response = phone.post(body)
        assert response.status_code == 200, response.get_data(as_text=True)
    worker.run()
    return [phone.replies()[count:] for (phone, _), count in zip(texts, before, strict=True)]


def opted_out(phone: Phone) -> bool:
    """Whether the phone's latest consent event is an opt-out."""
    db.session.rollback()
    kinds = db.session.scalars(
        select(ConsentEvent.kind)
        .join(Address, ConsentEvent.address_id == Address.id)
        .where(Address.value == phone.number)
        .order_by(ConsentEvent.id)
    ).all()
    return kinds[-1:] == ["opt_out"]


def person_of(phone: Phone) -> Person:
    """The person who texts from this phone."""
    db.session.rollback()
    return db.session.scalars(select(Person).join(Address).where(Address.value == phone.number)).one()


def reports_of(phone: Phone) -> list[tuple[str, str, str]]:
    """(friend's name, outcome, what was learned) of each report the volunteer made, oldest first."""
    db.session.rollback()
    rows = db.session.execute(
        select(Friend.name, ConversationReport.outcome, ConversationReport.learned)
        .join(Friend, ConversationReport.friend_id == Friend.id)
        .where(ConversationReport.volunteer_id == person_of(phone).id)
        .order_by(ConversationReport.id)
    )
    return [tuple(row) for row in rows]


def friends_of(phone: Phone) -> dict[str, tuple[str, str, list[str]]]:
    """The volunteer's friends by name: (relationship, stage, interests)."""
    db.session.rollback()
    friends = db.session.scalars(select(Friend).where(Friend.volunteer_id == person_of(phone).id))
    return {f.name: (f.relationship, f.stage, list(f.interests)) for f in friends}


PASSWORD = "correct horse battery staple"


def organizer(role: str, email: str | None = None, org: Organization | None = None) -> str:
    """A console account with this role (in the current app context), in `org` or the first
    organization; returns its email."""
    from gateway.community import organization, organizers

    email = email or f"{role}@eastside.example.org"
    organizers.create(org or organization.default(), email, PASSWORD, role)
    db.session.commit()
    return email


def csrf_token(client: FlaskClient, path: str = "/console/login") -> str:
    """The CSRF token a page carries for this client's session, as a browser would read it."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"|name="csrf-token" content="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD, **more: str) -> TestResponse:
    """Sign in through the login form, as a person would (`more`: other fields of the form)."""
    return client.post(
        "/console/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(client), **more},
    )


class Browser(FlaskClient):
    """A test client whose every request runs in an app context of its own, as each request to
    a real server does: nothing a request keeps in `g` or its database session outlives it."""

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if has_app_context():
            db.session.commit()  # the test's own transaction ends, as a request boundary would
        with self.application.app_context():
            return super().open(*args, **kwargs)


def email_member(
    email: str = "sam@example.org", opted_in: bool = True, org: Organization | None = None
) -> Address:
    """A person with an email address (in the current app context), in `org` or the first
    organization, opted in to email unless told otherwise; returns the address."""
    from gateway.community import organization
    from gateway.delivery import consent

    org = org or organization.default()
    person = Person(organization_id=org.id, name="Sam")
    db.session.add(person)
    db.session.flush()
    address = Address(organization_id=org.id, person_id=person.id, channel="email", value=email)
    db.session.add(address)
    db.session.flush()
    if opted_in:
        consent.record(address, "opt_in", "email_confirmed", "test sign-up")
    db.session.commit()
    return address


def every_stored_value() -> list[str]:
    """Every value of every column of every table, both as the database holds it and as the
    app reads it back (message bodies are encrypted at rest: a leak must not hide behind the
    encryption; ciphertext itself is left out, as noise a search could match by chance), JSON as
    its text."""
    db.session.commit()  # on SQLite, the session's transaction holds the lock this connection needs
    values: list[object] = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            values += [v for row in connection.execute(text(f'SELECT * FROM "{table.name}"')) for v in row]
            values += [v for row in connection.execute(select(table)) for v in row]
    shown = [json.dumps(v) if isinstance(v, dict | list) else str(v) for v in values if v is not None]
    return [v for v in shown if not v.startswith(ENCRYPTED_PREFIX)]


@contextmanager
def on_statement_once(
    at: Callable[[str, object], bool], act: Callable[[object], None], after: bool = False
) -> Iterator[None]:
    """While inside, the first statement `at(statement, parameters)` picks has `act` run, given
    the raw database connection, just before it runs (or, `after`, just after). Fails the test
    if no statement was picked."""
    acted: list[bool] = []
    moment = "after_cursor_execute" if after else "before_cursor_execute"

    def executing(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if not acted and at(statement, parameters):
            acted.append(True)
            act(conn.connection.dbapi_connection)

    event.listen(db.engine, moment, executing)
    try:
        yield
    finally:
        event.remove(db.engine, moment, executing)
    assert acted, "no statement was picked"


def database_fault_once(
    at: Callable[[str, object], bool], strike: Callable[[object], None]
) -> AbstractContextManager[None]:
    """While inside, the first statement `at(statement, parameters)` picks meets `strike`, given
    the raw database connection: what runs it fails there, as on a real fault. Fails the test
    if no statement was picked."""
    return on_statement_once(at, strike)


def the_connection_is_lost(dbapi_connection: object) -> None:
    """As when the database restarts under a transaction."""
    dbapi_connection.close()  # type: ignore[attr-defined]


def a_fault(dbapi_connection: object) -> None:
    """A fault of the code's own (a bug), not the database's."""
    raise RuntimeError("a fault of the code's own")
