"""Events through the signed webhook, the outbox, the real worker and the Twilio double:
organizers add events with `kindred events`; volunteers list them, RSVP by number or in plain
words and are asked to bring a friend; the reminder the day before goes once, to yes-RSVPs
only, inside each volunteer's calling window, and is withdrawn if it could only arrive too
late."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway import jobs
from gateway.delivery import outbox
from gateway.extensions import db
from gateway.models import Event, Friend, Message, Person, Rsvp
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import Phone, SettableClock, Worker

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
MONDAY = datetime(2026, 11, 30, 11, 0, tzinfo=NEW_YORK)


def add_event(app: Flask, title: str, at: str, location: str = "") -> str:
    args = ["events", "add", title, "--at", at] + (["--location", location] if location else [])
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.output.strip()


@pytest.fixture
def calendar(app: Flask, clock: SettableClock) -> Flask:
    """Monday in New York, with the forum on Thursday evening and a cleanup Saturday morning."""
    clock.set(MONDAY)
    add_event(app, "Community Forum", "2026-12-03T18:30", "Eastside Library")
    add_event(app, "Park cleanup", "2026-12-05T10:00")
    return app


@pytest.fixture
def volunteer_phone(client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker):
    def make(number: str, name: str) -> Phone:
        phone = Phone(client, twilio_api, worker, number)
        for text in ("hi", "yes", name):
            phone.send(text)
        return phone

    return make


def rsvp_of(name: str, title: str) -> Rsvp | None:
    return db.session.scalar(
        select(Rsvp)
        .join(Person, Person.id == Rsvp.person_id)
        .join(Event, Event.id == Rsvp.event_id)
        .where(Person.name == name, Event.title == title)
    )


def reminders() -> list[Message]:
    return list(db.session.scalars(select(Message).where(Message.reason == "reminder").order_by(Message.id)))


def test_organizers_add_and_list_events(calendar: Flask) -> None:
    assert add_event(calendar, "Phone bank", "2026-12-04 17:00", "Union hall") == (
        "event 3: 2026-12-04 17:00 EST Phone bank @ Union hall"
    )
    forum = db.session.scalars(select(Event).where(Event.title == "Community Forum")).one()
    assert forum.starts_at == datetime(2026, 12, 3, 18, 30, tzinfo=NEW_YORK)
    listed = calendar.test_cli_runner().invoke(args=["events", "list"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines() == [
        "1\t2026-12-03 18:30 EST Community Forum @ Eastside Library\t0 going",
        "3\t2026-12-04 17:00 EST Phone bank @ Union hall\t0 going",
        "2\t2026-12-05 10:00 EST Park cleanup\t0 going",
    ]


def test_events_rsvp_and_count_me_in(calendar: Flask, volunteer_phone) -> None:
    sam = volunteer_phone("+12125550101", "Sam")
    sam.send("ADD Ruth, family, cares about healthcare")
    sam.send("talked to Ruth, she's open to it")
    assert db.session.scalars(select(Friend.stage)).one() == "open"

    assert sam.reply_to("EVENTS") == (
        "Coming up: 1) Community Forum, Thu Dec 3, 6:30 PM, Eastside Library; "
        "2) Park cleanup, Sat Dec 5, 10 AM. Reply RSVP and a number to come."
    )
    assert sam.reply_to("RSVP 2") == (
        "You're in for Park cleanup, Sat Dec 5, 10 AM. I'll text you a reminder the day before. "
        "Bring Ruth? Reply INVITE Ruth for a message to forward."
    )
    assert rsvp_of("Sam", "Park cleanup").status == "yes"

    assert sam.reply_to("count me in for the forum!").startswith(
        "You're in for Community Forum, Thu Dec 3, 6:30 PM, Eastside Library."
    )
    assert rsvp_of("Sam", "Community Forum").status == "yes"
    # A Spanish command is answered in Spanish (issue 12); ENGLISH switches back.
    assert "Eastside Library (vas a ir); 2) Park cleanup, sab. 5 de dic., 10 am (vas a ir)" in (
        sam.reply_to("eventos")
    )
    assert sam.reply_to("ENGLISH").startswith("Got it! I'll text you in English.")
    assert "Eastside Library (you are going); 2) Park cleanup, Sat Dec 5, 10 AM (you are going)" in (
        sam.reply_to("EVENTS")
    )
    listed = calendar.test_cli_runner().invoke(args=["events", "list"])
    assert listed.output.splitlines()[0].endswith("\t1 going")

    assert sam.reply_to("RSVP NO 2") == "Thanks for letting us know. You're off the list for Park cleanup."
    assert rsvp_of("Sam", "Park cleanup").status == "no"
    # CANCEL is an opt-out keyword, never an RSVP command.
    assert sam.reply_to("CANCEL").startswith("Eastside Neighbors: You're unsubscribed")


def test_the_reminder_goes_once_to_yes_rsvps_only_inside_each_window(
    calendar: Flask, volunteer_phone, clock: SettableClock
) -> None:
    sam = volunteer_phone("+12125550101", "Sam")
    ana = volunteer_phone("+12125550102", "Ana")
    luis = volunteer_phone("+12125550103", "Luis")
    rosa = volunteer_phone("+12125550104", "Rosa")
    lee = volunteer_phone("+12135550106", "Lee")  # Los Angeles
    for phone in (sam, ana, rosa, lee):
        phone.send("RSVP 2")  # the park cleanup, Saturday 10 a.m. in New York
    ana.send("RSVP NO 2")
    rosa.send("STOP")
    counts = {p.number: len(p.replies()) for p in (sam, ana, luis, rosa, lee)}

    clock.set(datetime(2026, 12, 4, 9, 59, tzinfo=NEW_YORK))  # a day and a minute before
    jobs.sweep_outbox()
    sam.worker.run()
    assert reminders() == []

    # A day before: 10:01 a.m. in New York, but 7:01 a.m. in Los Angeles.
    clock.set(datetime(2026, 12, 4, 10, 1, tzinfo=NEW_YORK))
    jobs.sweep_outbox()
    sam.worker.run()
    assert sam.replies()[counts[sam.number] :] == [
        "Hi Sam! Reminder: Park cleanup is tomorrow at 10 AM. See you there!"
    ]
    for nobody in (ana, luis, rosa, lee):
        assert len(nobody.replies()) == counts[nobody.number]
    to_sam, to_lee = reminders()
    assert (to_sam.status, [e.status for e in to_sam.history]) == ("sent", ["queued", "sent"])
    assert rsvp_of("Sam", "Park cleanup").reminder_message_id == to_sam.id  # why it exists
    assert (to_lee.status, to_lee.next_attempt_at) == (
        "queued",
        datetime(2026, 12, 4, 9, 0, tzinfo=LOS_ANGELES),
    )
    assert [e.status for e in to_lee.history] == ["queued", "deferred"]
    assert rsvp_of("Rosa", "Park cleanup").reminder_message_id is None  # opted out: nothing queued

    # Luis says yes now, within the day: no reminder is promised or sent.
    assert luis.reply_to("RSVP 1") == "You're in for Park cleanup, Sat Dec 5, 10 AM. See you there!"

    clock.set(datetime(2026, 12, 4, 9, 5, tzinfo=LOS_ANGELES))
    jobs.sweep_outbox()
    sam.worker.run()
    assert lee.replies()[-1] == "Hi Lee! Reminder: Park cleanup is tomorrow at 10 AM. See you there!"
    assert len(reminders()) == 2  # once each: the sweeps did not queue them again
    assert sam.replies().count("Hi Sam! Reminder: Park cleanup is tomorrow at 10 AM. See you there!") == 1
    assert not any("Reminder" in body for body in luis.replies() + ana.replies() + rosa.replies())


def test_a_reminder_that_could_only_arrive_too_late_is_withdrawn(
    calendar: Flask, volunteer_phone, clock: SettableClock
) -> None:
    sam = volunteer_phone("+12125550101", "Sam")
    add_event(calendar, "Phone bank", "2026-12-03T19:00", "Union hall")
    sam.send("RSVP 1")  # the forum, Thursday 6:30 p.m.
    sam.send("RSVP phone bank")  # Thursday 7 p.m.

    clock.set(datetime(2026, 12, 2, 18, 31, tzinfo=NEW_YORK))
    jobs.sweep_outbox()
    sam.worker.run()
    assert sam.replies()[-1].startswith("Hi Sam! Reminder: Community Forum is tomorrow at 6:30 PM")

    # Half an hour later the phone bank's reminder is due, but Sam has had today's text.
    clock.set(datetime(2026, 12, 2, 19, 1, tzinfo=NEW_YORK))
    jobs.sweep_outbox()
    sam.worker.run()
    _, held = reminders()
    held_id = held.id
    assert (held.status, held.next_attempt_at) == ("queued", datetime(2026, 12, 3, 18, 31, tzinfo=NEW_YORK))

    # It could go out only half an hour before the phone bank: too late to help.
    clock.set(datetime(2026, 12, 3, 18, 0, tzinfo=NEW_YORK))
    jobs.sweep_outbox()
    clock.set(datetime(2026, 12, 3, 18, 35, tzinfo=NEW_YORK))
    outbox.sweep()
    sam.worker.run()
    held = db.session.get(Message, held_id)
    assert (held.status, held.error_code) == ("suppressed", "too_late")
    assert [e.status for e in held.history] == ["queued", "deferred", "suppressed"]
    assert not any("Phone bank" in body for body in sam.replies() if body.startswith("Hi Sam!"))


def test_after_a_report_someone_open_is_invited_to_the_next_event(calendar: Flask, volunteer_phone) -> None:
    sam = volunteer_phone("+12125550101", "Sam")
    sam.send("ADD Ruth, family, cares about healthcare")
    assert sam.reply_to("talked to Ruth, she's open, cares about prices") == (
        "Thank you! Logged: Ruth is open, cares about prices. "
        "Want an invite to share for Community Forum on Dec 3? Reply INVITE Ruth."
    )
    # Once Sam is going to the cleanup, that is the one to bring a friend to.
    sam.send("ADD Maria, neighbor, cares about schools")
    sam.send("RSVP 2")
    assert sam.reply_to("talked to Maria, she's open to it").endswith(
        "Want an invite to share for Park cleanup on Dec 5? Reply INVITE Maria."
    )
    assert sam.reply_to("INVITE Ruth").startswith("Forward this to Ruth: \"I'm part of Eastside Neighbors")


def test_events_in_spanish_from_the_list_to_the_reminder(
    calendar: Flask, client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker, clock: SettableClock
) -> None:
    ana = Phone(client, twilio_api, worker, "+12125550102")
    for text in ("Hola, quiero unirme", "sí", "Ana", "agregar a Rosa, vecina, le importa la salud"):
        ana.send(text)
    ana.send("hablé con Rosa, le interesa")
    assert ana.replies()[-1] == (
        "¡Gracias! Anoté: a Rosa le interesa. ¿Invitas a Rosa a Community Forum el 3 de dic.? "
        "Responde INVITAR Rosa para un mensaje que puedes reenviar."
    )
    assert ana.reply_to("EVENTOS") == (
        "Lo que viene: 1) Community Forum, jue. 3 de dic., 6:30 pm, Eastside Library; "
        "2) Park cleanup, sab. 5 de dic., 10 am. Para apuntarte, responde CONFIRMAR y el # del evento."
    )
    assert ana.reply_to("cuenten conmigo para el forum") == (
        "Te apunté para Community Forum, jue. 3 de dic., 6:30 pm, Eastside Library. "
        "Te mando un recordatorio 24 horas antes. "
        "¿Traes a Rosa? Responde INVITAR Rosa para un mensaje que puedes reenviar."
    )
    assert rsvp_of("Ana", "Community Forum").status == "yes"

    clock.set(datetime(2026, 12, 2, 18, 31, tzinfo=NEW_YORK))
    jobs.sweep_outbox()
    worker.run()
    assert ana.replies()[-1] == (
        "¡Hola, Ana! Te recuerdo: Community Forum, mañana a las 6:30 pm en Eastside Library. "
        "¡Te esperamos! ¿Traes a Rosa? Responde INVITAR Rosa para un mensaje que puedes reenviar."
    )
    assert [m.reason for m in reminders()] == ["reminder"]
