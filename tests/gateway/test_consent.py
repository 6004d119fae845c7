"""Consent, as a volunteer lives it (DESIGN invariants 1, 2, 3 and 5): any way of saying stop
gets one confirmation and then silence, at any point in the conversation; HELP and START still
work; a reply already waiting in the outbox is not sent after a STOP; and friends a volunteer
lists are never texted, their numbers and emails kept only as keyed digests."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import inspect, select, text

from gateway.delivery.addresses import digest
from gateway.extensions import db
from gateway.models import Address, ConsentEvent, Friend, FriendContactDigest, Message
from tests.conftest import SECRET_KEY
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import Phone, Worker

CONFIRMATION = (
    "Eastside Neighbors: You're unsubscribed and will get no more texts from us. Reply START to rejoin."
)
# A Spanish word is answered in Spanish (issue 12), whatever language the volunteer had.
CONFIRMATION_ES = (
    "Eastside Neighbors: Te diste de baja y ya no te enviaremos mensajes. Responde START para volver."
)
SPANISH = {"ALTO", "PARAR", "CANCELAR"}
OPT_OUTS = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
    "stop.",
    "Stop!",
    "please stop texting me",
    "remove me from this list",
    "ALTO",
    "PARAR",
    "CANCELAR",
]


def consent_events(phone: Phone) -> list[ConsentEvent]:
    """The phone's consent ledger, oldest first, as the requests and the worker left it."""
    db.session.rollback()
    return list(
        db.session.scalars(
            select(ConsentEvent)
            .join(Address, ConsentEvent.address_id == Address.id)
            .where(Address.value == phone.number)
            .order_by(ConsentEvent.id)
        )
    )


def join(phone: Phone) -> None:
    phone.send("hi")
    phone.send("yes")


def test_every_way_of_saying_stop_gets_one_confirmation_then_silence(
    client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker
) -> None:
    # One volunteer per opt-out word, all in one database: each word is a row of this table.
    for n, word in enumerate(OPT_OUTS):
        phone = Phone(client, twilio_api, worker, f"+1555201{n:04d}")
        join(phone)
        assert phone.send(word) == [CONFIRMATION_ES if word in SPANISH else CONFIRMATION], word
        opt_out = consent_events(phone)[-1]
        assert (opt_out.kind, opt_out.source) == ("opt_out", "sms_keyword"), word
        evidence = db.session.get(Message, opt_out.evidence_message_id)
        assert evidence is not None, word
        assert (evidence.direction, evidence.body) == ("inbound", word)
        assert phone.send("hi") == [], word


def test_after_stop_only_help_and_start_get_an_answer(phone: Phone) -> None:
    join(phone)
    phone.send("Sam")
    assert phone.send("STOP") == [CONFIRMATION]

    assert phone.send("hi") == []
    assert phone.send("ADD Maria") == []
    assert phone.send("STOP") == []  # no second confirmation
    assert phone.send("yes please add my neighbor Carlos") == []

    help_reply = phone.reply_to("HELP")
    for needed in ("Eastside Neighbors", "organizers@eastside.example.org", "STOP"):
        assert needed in help_reply

    welcome = phone.reply_to("START")
    assert welcome.startswith("Welcome back, Sam!")
    latest = consent_events(phone)[-1]
    assert (latest.kind, latest.source) == ("opt_in", "sms_keyword")
    assert db.session.get(Message, latest.evidence_message_id).body == "START"

    # The conversation goes on where it makes sense.
    assert phone.reply_to("ADD Maria, neighbor").startswith("Added Maria (neighbor).")
    # Each STOP is on the ledger, the second too, though only the first was confirmed.
    assert [e.kind for e in consent_events(phone)] == ["opt_in", "opt_out", "opt_out", "opt_in"]


STEPS = {
    "before anything": [],
    "after the terms": ["hi"],
    "asked for a name": ["hi", "yes"],
    "asked for a friend": ["hi", "yes", "Sam"],
    "asked what a friend cares about": ["hi", "yes", "Sam", "my grandma Ruth"],
    "after a conversation idea": ["hi", "yes", "Sam", "my grandma Ruth", "medicare"],
}


def test_stop_works_at_every_step(client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker) -> None:
    # One volunteer per step of the conversation: each step is a row of this table.
    for n, (step, before) in enumerate(STEPS.items()):
        phone = Phone(client, twilio_api, worker, f"+1555202{n:04d}")
        for body in before:
            assert phone.send(body), (step, body)
        assert phone.send("stop") == [CONFIRMATION], step
        assert consent_events(phone)[-1].kind == "opt_out", step
        assert phone.send("medicare") == [], step
        assert phone.send("ADD Maria") == [], step


def test_a_reply_waiting_in_the_outbox_is_not_sent_after_stop(
    phone: Phone, twilio_api: TwilioApiDouble
) -> None:
    join(phone)
    # "Sam" is answered and the answer committed to the outbox, but no worker has run yet ...
    assert phone.post("Sam").status_code == 200
    # ... when the volunteer texts STOP.
    assert phone.post("STOP").status_code == 200
    phone.worker.run()

    assert phone.replies()[-1] == CONFIRMATION
    assert not [m for m in twilio_api.received if "Thanks, Sam" in m.get("Body", "")]
    db.session.rollback()
    (held,) = [m for m in db.session.scalars(select(Message)) if m.body.startswith("Thanks, Sam")]
    assert held.status == "suppressed"
    assert [e.status for e in held.history] == ["queued", "suppressed"]
    assert held.error_code == "opted_out"


FRIEND_CONTACTS = {
    "ADD Bob 555-201-7788": ("555-201-7788", "+15552017788"),
    "ADD Carlos, neighbor, Carlos.R@example.org": ("Carlos.R@example.org", "carlos.r@example.org"),
    "add my coworker Dee (555) 201-9900 who cares about schools": (
        "(555) 201-9900",
        "+15552019900",
    ),
}


def all_stored_text() -> list[tuple[str, str, str]]:
    """Every value in every column of every table, as text: (table, column, value)."""
    db.session.rollback()
    cells = []
    for table in inspect(db.engine).get_table_names():
        result = db.session.execute(text(f'SELECT * FROM "{table}"'))
        for row in result:
            cells += [(table, column, str(value)) for column, value in row._mapping.items()]
    return cells


def test_friends_are_never_texted_and_their_contacts_are_kept_only_as_digests(
    phone: Phone, twilio_api: TwilioApiDouble
) -> None:
    join(phone)
    phone.send("Sam")
    for body in FRIEND_CONTACTS:
        (reply,) = phone.send(body)
        assert "We never text your friends" in reply, body

    assert {m["To"] for m in twilio_api.received} == {phone.number}
    stored = all_stored_text()
    for typed, normalized in FRIEND_CONTACTS.values():
        digits = "".join(c for c in typed if c.isdigit())
        for needle in {typed, typed.lower(), normalized, digits} - {""}:
            leaks = [(table, column) for table, column, value in stored if needle in value]
            assert leaks == [], (needle, leaks)
    assert sorted(db.session.scalars(select(Friend.name))) == ["Bob", "Carlos", "Dee"]
    digests = set(db.session.scalars(select(FriendContactDigest.digest)))
    assert digests == {digest(normalized, SECRET_KEY) for _, normalized in FRIEND_CONTACTS.values()}
