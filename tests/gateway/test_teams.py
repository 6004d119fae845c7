"""Teams through the signed webhook, the outbox, the real worker and the Twilio double: create,
join and leave by text; an update reaches only the teammates who get team updates; the size
and daily caps; and each teammate's copy paced into their own calling window."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from flows import teams as team_flows
from gateway.delivery import outbox
from gateway.extensions import db
from gateway.models import Message, Organization, Person, Team, TeamMember
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import Phone, SettableClock, Worker

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
MONDAY_10_30AM = datetime(2026, 11, 23, 10, 30, tzinfo=NEW_YORK)  # 7:30 a.m. in Los Angeles


class People:
    """Volunteers' phones, each opted in with a first name."""

    def __init__(self, client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker):
        self.client, self.twilio_api, self.worker = client, twilio_api, worker

    def volunteer(self, number: str, name: str) -> Phone:
        phone = Phone(self.client, self.twilio_api, self.worker, number)
        for text in ("hi", "yes", name):
            phone.send(text)
        return phone


@pytest.fixture
def people(client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker, clock: SettableClock) -> People:
    clock.set(MONDAY_10_30AM)
    return People(client, twilio_api, worker)


def start_team(phone: Phone, name: str = "Block Walkers") -> str:
    """Start a team by text; returns its join code."""
    reply = phone.reply_to(f"TEAM NEW {name}")
    match = re.search(r"Its join code is (\w+):", reply)
    assert match, reply
    return match[1]


def relays() -> list[Message]:
    return list(
        db.session.scalars(select(Message).where(Message.reason == "team_relay").order_by(Message.id))
    )


def test_create_join_show_and_leave_a_team(people: People) -> None:
    sam = people.volunteer("+12125550101", "Sam")
    ana = people.volunteer("+12125550102", "Ana")
    code = start_team(sam)
    assert team_flows.is_code(code)
    team = db.session.scalars(select(Team)).one()
    assert (team.name, team.join_code) == ("Block Walkers", code)
    creator = db.session.scalars(select(TeamMember)).one()
    evidence = db.session.get(Message, creator.evidence_message_id)
    assert evidence.body == "TEAM NEW Block Walkers" and evidence.direction == "inbound"

    assert ana.reply_to(f"team join {code.lower()}").startswith("Welcome to Block Walkers with Sam!")
    assert sam.reply_to("TEAM").startswith(f"You're on Block Walkers with Ana. Join code: {code}.")
    assert ana.reply_to("TEAM LEAVE") == (
        "You've left Block Walkers. TEAM JOIN and a code joins another team anytime."
    )
    assert db.session.scalars(select(TeamMember.person_id)).all() == [creator.person_id]
    assert ana.reply_to("TEAM").startswith("You're not on a team yet.")
    # A code no team has (it has a 1, which codes never use).
    assert ana.reply_to("TEAM JOIN ZZ1ZZ").startswith("I couldn't find a team with that code.")


def test_someone_new_joins_the_program_before_the_team(people: People) -> None:
    sam = people.volunteer("+12125550101", "Sam")
    code = start_team(sam)
    newcomer = Phone(people.client, people.twilio_api, people.worker, "+12125550109")
    assert "Reply YES to join" in newcomer.reply_to(f"TEAM JOIN {code}")  # the terms first, always
    assert newcomer.reply_to("yes") == "Welcome! What's your first name?"
    assert db.session.query(TeamMember).count() == 1
    newcomer.send("Jo")
    assert newcomer.reply_to(f"TEAM JOIN {code}").startswith("Welcome to Block Walkers with Sam!")


def test_an_update_reaches_opted_in_unmuted_teammates_only_and_never_the_sender(
    people: People,
) -> None:
    sam = people.volunteer("+12125550101", "Sam")
    ana = people.volunteer("+12125550102", "Ana")
    luis = people.volunteer("+12125550103", "Luis")
    rosa = people.volunteer("+12125550104", "Rosa")
    kim = people.volunteer("+12125550105", "Kim")
    code = start_team(sam)
    for phone in (ana, luis, rosa):
        phone.send(f"TEAM JOIN {code}")
    assert luis.reply_to("MUTE") == "Muted: no more updates from Block Walkers. UNMUTE to get them again."
    rosa.send("STOP")
    # Kim is put on the team without her own text (say, by an import): no evidence, no updates.
    kim_person = db.session.scalars(select(Person).where(Person.name == "Kim")).one()
    team = db.session.scalars(select(Team)).one()
    db.session.add(TeamMember(team_id=team.id, person_id=kim_person.id))
    db.session.commit()
    before = {phone.number: len(phone.replies()) for phone in (sam, ana, luis, rosa, kim)}

    assert sam.reply_to("UPDATE we knocked 40 doors today!") == "Sent to 1 teammate on Block Walkers."

    assert ana.replies()[before[ana.number] :] == ["Sam (Block Walkers): we knocked 40 doors today!"]
    for quiet in (luis, rosa, kim):
        assert len(quiet.replies()) == before[quiet.number]
    (relay,) = relays()
    inbound = db.session.get(Message, relay.in_reply_to_id)
    assert (inbound.body, inbound.address.value) == ("UPDATE we knocked 40 doors today!", sam.number)
    assert relay.address.value == ana.number
    assert [e.status for e in relay.history] == ["queued", "sent"]

    # A reply to an update is an ordinary text to Kindred: it goes to nobody else.
    ana.send("great job!!")
    assert len(sam.replies()) == before[sam.number] + 1
    assert len(relays()) == 1

    # Unmuted, Luis gets the next one.
    luis.send("UNMUTE")
    assert sam.reply_to("UPDATE flyers at the library").startswith("Sent to 2 teammates")


def test_a_teammate_who_opts_out_after_an_update_was_queued_gets_nothing(people: People) -> None:
    sam = people.volunteer("+12125550101", "Sam")
    ana = people.volunteer("+12125550102", "Ana")
    ana.send(f"TEAM JOIN {start_team(sam)}")
    sam.post("UPDATE meeting moved to 7")  # committed to the outbox, not yet sent
    ana.post("STOP")
    people.worker.run()
    (relay,) = relays()
    assert (relay.status, relay.error_code) == ("suppressed", "opted_out")
    assert not any(body.startswith("Sam (Block Walkers)") for body in ana.replies())


def test_the_update_size_and_daily_caps(people: People, clock: SettableClock) -> None:
    sam = people.volunteer("+12125550101", "Sam")
    ana = people.volunteer("+12125550102", "Ana")
    ana.send(f"TEAM JOIN {start_team(sam)}")

    too_long = "UPDATE " + "x" * (team_flows.MAX_UPDATE_CHARS + 1)
    assert "the limit is 320" in sam.reply_to(too_long)
    assert relays() == []

    for n in range(team_flows.DAILY_UPDATES):
        assert sam.reply_to(f"UPDATE number {n}") == "Sent to 1 teammate on Block Walkers."
    assert sam.reply_to("UPDATE one too many").startswith("You've sent 3 team updates in the last 24 hours")
    assert len(relays()) == team_flows.DAILY_UPDATES
    # Ana gets one initiated text a day (the organization's cap): the rest wait, not dropped.
    first, *held = relays()
    assert first.status == "sent"
    assert all(m.status == "queued" for m in held)
    assert "deferred" in [e.status for e in held[0].history]  # the next waits for its time...
    assert [e.status for e in held[1].history] == ["queued"]  # ...and the last, in order, behind it

    clock.advance(timedelta(hours=24, minutes=1))
    assert sam.reply_to("UPDATE a new day") == "Sent to 1 teammate on Block Walkers."


def test_a_full_team_turns_the_next_person_away(people: People) -> None:
    sam = people.volunteer("+12125550101", "Sam")
    ana = people.volunteer("+12125550102", "Ana")
    luis = people.volunteer("+12125550103", "Luis")
    code = start_team(sam)
    team = db.session.scalars(select(Team)).one()
    org = db.session.scalars(select(Organization)).one()
    for _ in range(team_flows.MAX_TEAM_SIZE - 2):  # Sam and these leave one place
        person = Person(organization_id=org.id)
        db.session.add(person)
        db.session.flush()
        db.session.add(TeamMember(team_id=team.id, person_id=person.id))
    db.session.commit()

    assert ana.reply_to(f"TEAM JOIN {code}").startswith("Welcome to Block Walkers")
    assert luis.reply_to(f"TEAM JOIN {code}").startswith("Sorry, Block Walkers is full (25 people).")
    assert db.session.query(TeamMember).count() == team_flows.MAX_TEAM_SIZE


def test_a_relay_outside_a_teammates_calling_window_is_deferred_not_dropped(
    people: People, clock: SettableClock
) -> None:
    sam = people.volunteer("+12125550101", "Sam")
    lee = people.volunteer("+12135550106", "Lee")  # a Los Angeles number: 7:30 a.m. there
    assert db.session.scalars(select(Person.timezone).where(Person.name == "Lee")).one() == (
        "America/Los_Angeles"
    )
    lee.send(f"TEAM JOIN {start_team(sam)}")
    before = len(lee.replies())

    assert sam.reply_to("UPDATE canvass at noon!") == "Sent to 1 teammate on Block Walkers."
    (relay,) = relays()
    assert (relay.status, relay.next_attempt_at) == (
        "queued",
        datetime(2026, 11, 23, 9, 0, tzinfo=LOS_ANGELES),
    )
    assert [e.status for e in relay.history] == ["queued", "deferred"]
    assert len(lee.replies()) == before

    clock.set(datetime(2026, 11, 23, 9, 5, tzinfo=LOS_ANGELES))
    outbox.sweep()
    people.worker.run()
    db.session.refresh(relay)
    assert relay.status == "sent"
    assert lee.replies()[before:] == ["Sam (Block Walkers): canvass at noon!"]


def test_each_teammate_reads_an_update_framed_in_their_own_language(people: People) -> None:
    sam = people.volunteer("+12125550101", "Sam")
    luis = people.volunteer("+12125550103", "Luis")
    ana = Phone(people.client, people.twilio_api, people.worker, "+12125550102")
    for text in ("Hola, quiero unirme", "sí", "Ana"):
        ana.send(text)
    code = start_team(sam)
    assert ana.reply_to(f"EQUIPO UNIRME {code}") == (
        "¡Te damos la bienvenida a Block Walkers con Sam! Vas a recibir los avisos de tu equipo "
        "(SILENCIAR los pausa). Con AVISO y un mensaje le escribes a tu equipo."
    )
    luis.send(f"TEAM JOIN {code}")

    def copies() -> dict[str, str]:
        """Each recipient's copy of the latest update (the caps may hold some for later)."""
        latest = relays()[-1].in_reply_to_id
        return {m.address.value: m.body for m in relays() if m.in_reply_to_id == latest}

    # A Spanish teammate reads an English sender's words untouched.
    assert sam.reply_to("UPDATE flyers at the library") == "Sent to 2 teammates on Block Walkers."
    assert copies() == {
        ana.number: "Sam (Block Walkers): flyers at the library",
        luis.number: "Sam (Block Walkers): flyers at the library",
    }
    assert ana.replies()[-1] == "Sam (Block Walkers): flyers at the library"

    # A sender with no name on record is "A teammate", in each recipient's own language.
    db.session.execute(update(Person).where(Person.name.in_(["Ana", "Luis"])).values(name=None))
    db.session.commit()
    assert ana.reply_to("AVISO ¡tocamos 40 puertas!") == "Se lo mandé a 2 personas de Block Walkers."
    assert copies() == {
        sam.number: "A teammate (Block Walkers): ¡tocamos 40 puertas!",
        luis.number: "A teammate (Block Walkers): ¡tocamos 40 puertas!",
    }
    luis.send("UPDATE see you saturday")
    assert copies() == {
        sam.number: "A teammate (Block Walkers): see you saturday",
        ana.number: "Alguien del equipo (Block Walkers): see you saturday",
    }


def test_delete_takes_a_volunteers_name_and_words_out_of_teammates_messages(people: People) -> None:
    samantha = people.volunteer("+12125550101", "Samantha")
    lee = people.volunteer("+12125550102", "Lee")
    lee.send(f"TEAM JOIN {start_team(samantha)}")
    samantha.send("UPDATE talked to my neighbor on Elm St, call 555-201-7777")
    people.worker.run()
    assert "[contact]" in relays()[-1].body and "555-201-7777" not in relays()[-1].body
    samantha.send("DELETE")
    samantha.send("yes")
    bodies = [m.body for m in db.session.scalars(select(Message))]
    assert not [b for b in bodies if "Samantha" in b or "Elm St" in b]
