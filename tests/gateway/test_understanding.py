"""Understood the first time (issue 12), through the signed Twilio webhook, the outbox, the real
worker and the Twilio API double: every reasonable way of saying stop opts out (and the words
that only look like it do not), an "ok 👍" or a "thanks!" gets a short friendly reply and
reaches no organizer, and a Spanish keyword is answered in Spanish."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import Address, ConsentEvent, Friend, Message, Person, Thread
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import Phone, Worker

CONFIRMATION = {
    "en": "Eastside Neighbors: You're unsubscribed and will get no more texts from us. Reply START to rejoin.",
    "es": "Eastside Neighbors: Te diste de baja y ya no te enviaremos mensajes. Responde START para volver.",
}
# Each a way of saying stop the lexicon was missing (issue 12), with the language it is confirmed in.
OPT_OUTS = [
    ("UNSUB", "en"),
    ("stoptexting", "en"),
    ("I quit", "en"),
    ("count me out", "en"),
    ("i want to stop", "en"),
    ("ARRÊT", "en"),  # French, which Kindred does not write: confirmed in the volunteer's language
    ("désabonnez-moi", "en"),
    ("BAJA", "es"),
    ("no me escribas más", "es"),
]
LOOK_ALIKES = [
    "I quit my job, more time for this now",
    "count me out for Saturday, sorry",
    "my uncle said leave me alone, I'll try again later",
    "alto el precio de la renta",
]


def opted_out(phone: Phone) -> bool:
    db.session.rollback()
    kinds = db.session.scalars(
        select(ConsentEvent.kind)
        .join(Address, ConsentEvent.address_id == Address.id)
        .where(Address.value == phone.number)
        .order_by(ConsentEvent.id)
    ).all()
    return kinds[-1:] == ["opt_out"]


def person(phone: Phone) -> Person:
    db.session.rollback()
    return db.session.scalars(select(Person).join(Address).where(Address.value == phone.number)).one()


def join(phone: Phone, name: str | None = "Sam") -> None:
    phone.send("hi")
    assert phone.reply_to("yes").endswith("What's your first name?")
    if name:
        phone.send(name)


def test_every_way_of_saying_stop_opts_out_and_look_alikes_do_not(
    client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker
) -> None:
    for n, (text, language) in enumerate(OPT_OUTS):
        phone = Phone(client, twilio_api, worker, f"+1555301{n:04d}")
        join(phone, name=None)  # asked for a name: a pending question swallows no opt-out
        assert phone.send(text) == [CONFIRMATION[language]], text
        assert opted_out(phone), text
        assert phone.send("hi") == [], text  # silence after the one confirmation
    for n, text in enumerate(LOOK_ALIKES):
        phone = Phone(client, twilio_api, worker, f"+1555302{n:04d}")
        join(phone)
        replies = phone.send(text)
        assert replies and not any("unsubscribed" in r or "Te diste de baja" in r for r in replies), text
        assert not opted_out(phone), text


def test_acknowledgements_get_a_friendly_reply_and_reach_no_organizer(phone: Phone) -> None:
    join(phone)
    assert phone.reply_to("my grandma Ruth").startswith("Added Ruth (family). What does Ruth care about?")

    # An "ok" while the question is pending answers nothing: Ruth's interests stay unset ...
    assert phone.reply_to("ok 👍") == "Sounds good! I'm here when you need me."
    db.session.rollback()
    assert db.session.scalars(select(Friend)).one().interests == []
    # ... and the question still takes its answer.
    assert phone.reply_to("medicare").startswith("Idea for Ruth:")

    assert phone.reply_to("thanks!") == "You're welcome! Text me anytime."
    # An acknowledgement of that answer gets none: an automatic "OK" cannot start a loop.
    assert phone.send("👍") == [] and phone.send("will do") == []
    assert "Ruth" in phone.reply_to("FRIENDS")
    assert phone.reply_to("thank you!!") == "You're welcome! Text me anytime."

    db.session.rollback()
    assert db.session.scalars(select(Thread)).all() == []
    assert not db.session.scalars(select(Message).where(Message.needs_attention)).all()

    # Something nobody can read still reaches the organizers: the inbox works, it was not asked.
    phone.send("asdf qwerty")
    db.session.rollback()
    (thread,) = db.session.scalars(select(Thread)).all()
    (kept,) = db.session.scalars(select(Message).where(Message.needs_attention)).all()
    assert kept.body == "asdf qwerty" and thread.person_id == person(phone).id


def test_spanish_words_and_commands_are_answered_in_spanish(
    client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker
) -> None:
    newcomer = Phone(client, twilio_api, worker, "+15553030001")
    help_text = newcomer.reply_to("ayuda")
    assert "¿Preguntas? Escribe a organizers@eastside.example.org" in help_text
    assert "Responde ALTO para cancelar" in help_text
    assert person(newcomer).language == "es"
    assert newcomer.reply_to("hola").startswith("Eastside Neighbors: planea conversaciones reales")

    volunteer = Phone(client, twilio_api, worker, "+15553030002")
    join(volunteer)
    assert person(volunteer).language == "en"
    assert volunteer.reply_to("MISDATOS").startswith("Guardamos: tu teléfono; tu nombre (Sam)")
    assert person(volunteer).language == "es"
    assert volunteer.reply_to("ENGLISH").startswith("Got it! I'll text you in English.")
    assert volunteer.reply_to("gracias") == "¡De nada! Escríbeme cuando quieras."
    assert volunteer.reply_to("ENGLISH").startswith("Got it!")
    assert volunteer.reply_to("AMIGOS").startswith("No has agregado a nadie.")
    assert volunteer.reply_to("ENGLISH").startswith("Got it!")
    assert volunteer.reply_to("BORRAR").startswith("Esto borra tu nombre")
    assert volunteer.reply_to("no").startswith("Está bien, no se borró nada.")
    assert volunteer.reply_to("ENGLISH").startswith("Got it!")
    assert volunteer.reply_to("ALTO") == CONFIRMATION["es"]
    assert opted_out(volunteer)
    assert volunteer.send("hola") == []
