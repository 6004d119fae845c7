"""Realistic fake data for the organizer console (`kindred seed-demo`): volunteers who joined
over the past half year, some brought in by others; the friends they listed and the
conversations they reported; the texts both ways with their delivery history; teams, events
and RSVPs; a few texts the flows left for the inbox; and the email addresses some volunteers
gave, most of them confirmed (an email opt-in), so organizer email has an audience.

Everything is made in memory from `rng` and `now` first (`plan`), so a seed gives the same
data, then written in bulk (`write`): the ids come from the database's own counter, and the rows
go in as executemany batches (COPY on PostgreSQL), so thousands of volunteers take seconds. The
replies are the flows' own. Phone numbers, referral and join codes are checked against the
database, and provider ids are random as the carrier's are, so seeding again adds more. The
numbers are fictional (+1 555), the email addresses are at example.org (reserved, RFC 2606),
friends get no contact details at all, and nothing is sent or queued.
"""

from __future__ import annotations

import random
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import cache
from itertools import accumulate, count
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, Table, func, insert, select
from sqlalchemy.orm import InstrumentedAttribute

from flows import abuse, onboarding, reports
from flows import events as ev
from flows import friends as friend_flow
from flows.messages import say
from flows.teams import CODE_LENGTH, MAX_TEAM_SIZE, is_code
from gateway.community.codes import ALPHABET, REFERRAL_CODE_LENGTH
from gateway.delivery.transports.simulator import SIMULATOR_NUMBER
from gateway.extensions import db
from gateway.models import (
    Address,
    ConsentEvent,
    ConversationReport,
    Event,
    Friend,
    Idea,
    Message,
    MessageStatusEvent,
    Organization,
    Person,
    Rsvp,
    Team,
    TeamMember,
    Thread,
)

CHUNK = 5000  # rows a statement
LOOKUP_CHUNK = 1000  # values an IN (...) looks up at once

# When volunteers joined: over SPAN, more of them lately (the campaign grows).
SPAN = timedelta(weeks=26)
JOIN_SKEW = 0.75  # below 1, joins crowd toward now
NEWEST = timedelta(minutes=30)  # the latest anyone joined before now
QUIET = timedelta(minutes=2)  # nobody texts in the last minutes before now
SETTLING = timedelta(hours=1)  # the join conversation, before texts of other kinds
# How long a volunteer keeps texting after joining: exponential, this on average. About a
# third of them are then active in the last week, fewer the longer ago they joined.
ENGAGED_DAYS = 50
ACTIVE_WEEK = timedelta(days=7)

SPANISH_SHARE = 0.15
CAPITALIZED_SHARE = 0.7  # of volunteers, those who capitalize their name when asked for it
LOCAL_TIMEZONE_SHARE = 0.4  # the rest have none recorded (no ZIP given)
REFERRED_SHARE = 0.33
REFERRAL_REACH = timedelta(days=14)  # a referrer was still active this close to the referral
REFERRER_TRIES = 8  # earlier volunteers looked at for one still active then
LINKED_REFERRAL_SHARE = 0.7  # of referrals, those the referrer had listed as a friend
CHAIN_SHARE = 0.5  # of referrals, those by someone who already brought people in
FRIEND_COUNTS = range(13)  # 0 to 12 friends, about 5 on average
FRIEND_COUNT_ODDS = tuple(accumulate((5, 8, 10, 11, 12, 12, 10, 9, 8, 6, 4, 3, 2)))  # cumulative weights
RELATIONSHIPS = ev.RELATIONSHIPS
RELATIONSHIP_ODDS = tuple(accumulate((30, 25, 15, 12, 4, 10, 4)))  # family, friend, neighbor, ...
JOINER_RELATIONSHIPS = ("friend", "family", "coworker", "neighbor")
# How volunteers name a relationship when they list someone ("Ruth, neighbor"), by relationship,
# in English and Spanish; the friends flow reads it back.
RELATIONSHIP_WORDS = {
    "family": (("cousin", "sister", "mom", "grandma", "uncle", "family"), ("de la familia", "familia")),
    "friend": (("friend", "best friend", "old friend"), ("compa",)),
    "neighbor": (("neighbor", "from the block club"), ("del barrio", "de la cuadra")),
    "coworker": (("coworker", "from work"), ("del trabajo",)),
    "classmate": (("classmate",), ("de la escuela",)),
    "community": (("from church", "from the union"), ("de la iglesia", "del sindicato")),
    "other": (("",), ("",)),
}
ADD_COMMAND = ("ADD ", "AGREGAR ")
# Of volunteers still texting, those whose last text was a report (the others added a friend).
LAST_REPORT_SHARE = 0.2
INTEREST_COUNTS = range(4)  # interests per friend
INTEREST_COUNT_ODDS = tuple(accumulate((15, 45, 28, 12)))
LADDER = ("listed", "talked", "open", "committed")  # as far as friends get by reports alone
MIN_TALK = timedelta(hours=6)  # a friend listed later than this before the end stays listed
TEAM_SIZE = 40  # volunteers per team
TEAM_SHARE = 0.6
TEAM_TRIES = 20  # teams a volunteer looks at before giving up on finding one with room
MUTED_SHARE = 0.05
EVENT_DAYS = (-75, -40, -12, 6, 20)  # from now: three past events, two coming up
RSVP_YES, RSVP_NO = 0.2, 0.03
OPT_OUT_SHARE = 0.03
INBOX_SHARE = 0.02
INBOX_DAYS = 4  # how long ago inbox texts came, on average
ABUSIVE_EVERY = 15  # one inbox text in this many reads as abuse (at least one)
DONE_SHARE = 0.25
IDEA_SHARE = 0.03  # of volunteers, those who texted in a conversation idea for the library
IDEAS = {
    "en": (
        "ask what they'd change on the block if they could change one thing",
        "bring up the rent story from the forum, then ask about theirs",
        "walk the dog together and ask what worries them lately",
        "share why I joined first, then ask what keeps them up at night",
        "ask about their kids' school before anything else",
        "invite them for coffee and just listen for ten minutes",
    ),
    "es": (
        "pregunta primero por su familia y luego por el barrio",
        "cuéntale por qué te uniste y pregúntale qué le preocupa",
        "invítale a un café y escucha diez minutos sin interrumpir",
    ),
}
DELIVERED_SHARE = 0.94  # of texts sent, those the carrier confirmed; the rest stay "sent"
FAILED_EVERY = 150  # volunteers per failed reply in the last week (at least one)
SUPPRESSED_EVERY = 250  # volunteers per follow-up withheld after an opt-out (at least one)
CARRIER_ERRORS = ("30007", "30003", "30005", "30006", "30008")
# Of volunteers, those who also gave an email address; of those, the ones who confirmed it (the
# rest never did), and of those, the ones who later unsubscribed.
EMAIL_SHARE = 0.3
EMAIL_CONFIRMED_SHARE = 0.8
EMAIL_UNSUBSCRIBED_SHARE = 0.05
EMAIL_DOMAIN = "example.org"

# The hundred numbers around the simulator's, one of which its page suggests for playing a
# phone (+1 555-555-0100): seeded numbers stay out of them.
_SIMULATOR_HUNDRED = int(SIMULATOR_NUMBER[-7:]) // 100

NAMES = (
    "Aaliyah", "Aaron", "Abby", "Aisha", "Alex", "Amara", "Amir", "Andre", "Angela", "Anthony",
    "Ashley", "Ben", "Beth", "Bianca", "Brandon", "Brianna", "Caleb", "Chloe", "Chris", "Dana",
    "Daniel", "Darius", "David", "Dee", "Deja", "Derek", "Devon", "Dmitri", "Eli", "Emily",
    "Emma", "Eric", "Ethan", "Fatima", "Frank", "Gloria", "Grace", "Hannah", "Hao", "Harold",
    "Imani", "Irene", "Isaac", "Jada", "Jake", "Jamal", "James", "Jasmine", "Jason", "Jenna",
    "Jess", "Jordan", "Joy", "Julia", "Justin", "Kai", "Karen", "Keisha", "Kevin", "Kim",
    "Kofi", "Lamar", "Leah", "Linh", "Lisa", "Logan", "Malik", "Marcus", "Maya", "Megan",
    "Mei", "Michael", "Michelle", "Mike", "Monique", "Nadia", "Naomi", "Nate", "Nia", "Noah",
    "Olivia", "Omar", "Pat", "Paul", "Priya", "Quinn", "Rachel", "Rashad", "Ravi", "Rebecca",
    "Ruth", "Ryan", "Sam", "Sarah", "Sean", "Shanice", "Stephanie", "Tanya", "Terrence", "Tiffany",
    "Tom", "Trevor", "Tuan", "Tyler", "Vanessa", "Walter", "Will", "Xavier", "Yvonne", "Zoe",
)  # fmt: skip
SPANISH_NAMES = (
    "Alejandro", "Ana", "Andrea", "Antonio", "Beatriz", "Camila", "Carlos", "Carmen", "Cristina",
    "Daniela", "Diego", "Eduardo", "Elena", "Esperanza", "Fernando", "Gabriela", "Guadalupe",
    "Héctor", "Isabel", "Javier", "Jorge", "José", "Juan", "Juana", "Julio", "Leticia", "Lucía",
    "Luis", "Manuel", "Marco", "María", "Mariana", "Marisol", "Miguel", "Mónica", "Natalia",
    "Pablo", "Patricia", "Pedro", "Rafael", "Ramón", "Raúl", "Ricardo", "Rocío", "Rosa", "Sergio",
    "Silvia", "Sofía", "Teresa", "Valentina", "Verónica", "Ximena", "Yolanda",
)  # fmt: skip
SPANISH_NAME_SHARE = {"en": 0.12, "es": 0.85}

# What volunteers learn, by interest (the keys of flows/data/interests.json), in English and Spanish;
# the reporting flow reads each as about its interest only (a test checks), and the others as
# about none.
LEARNED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "healthcare": (
        (
            "worried about losing Medicaid",
            "a clinic visit cost $300 last month",
            "waiting months to see a doctor",
            "prescriptions keep going up",
            "can't afford insulin",
        ),
        (
            "le preocupa perder el Medicaid",
            "una consulta en la clínica le costó 300 dólares",
            "espera meses para ver al médico",
            "las medicinas están carísimas",
        ),
    ),
    "schools": (
        (
            "two teachers left the kids' school this year",
            "worried about crowded classrooms",
            "worried about cuts to the after-school program",
            "the school board keeps cutting",
        ),
        ("la escuela de sus hijos perdió dos maestros", "le preocupan las escuelas del barrio"),
    ),
    "housing": (
        (
            "worried about rent going up again",
            "landlord won't make repairs",
            "knows families on the block facing eviction",
            "can't find affordable housing nearby",
        ),
        (
            "le preocupa que suba la renta otra vez",
            "el casero no hace reparaciones",
            "conoce familias con miedo al desalojo",
        ),
    ),
    "jobs": (
        (
            "work hours got cut again",
            "wants a fair wage for home care workers",
            "been looking for a job since spring",
            "got laid off in March",
        ),
        ("le recortaron las horas en el trabajo", "busca trabajo desde la primavera"),
    ),
    "climate": (
        (
            "the street floods every time it rains hard",
            "worried about heat waves for the kids",
            "wants clean air on the avenue",
        ),
        ("le preocupa el calor en el verano", "le preocupa la contaminación del aire"),
    ),
    "prices": (
        ("groceries cost way more than last year", "everything costs more this year", "worried about prices"),
        ("la comida cuesta mucho más que el año pasado", "los precios no paran de subir"),
    ),
    "safety": (
        (
            "worried about car break-ins on the block",
            "worried about gun violence near the park",
            "wants traffic safety fixes on the avenue",
        ),
        ("le preocupan los robos en la cuadra", "le preocupa la seguridad en la cuadra"),
    ),
    "voting": (
        (
            "never been asked to vote before",
            "wants to know where to vote this year",
            "wants to register to vote",
        ),
        ("quiere saber dónde votar este año", "quiere registrarse para votar"),
    ),
    "immigration": (
        ("worried about family members' immigration status", "knows neighbors afraid of deportation"),
        ("le preocupan los papeles de su familia", "tiene vecinos con miedo a la deportación"),
    ),
    "childcare": (
        ("can't find daycare that fits their shifts", "the childcare waitlist is a year long"),
        ("la guardería cuesta una fortuna", "la lista de espera de la guardería es de un año"),
    ),
    "transit": (
        ("the 12 bus is always late", "lost a shift because the bus never came"),
        ("el autobús siempre llega tarde", "perdió un turno porque no pasó el autobús"),
    ),
    "seniors": (
        ("worried about an aging parent living alone", "Social Security doesn't stretch far enough"),
        ("le preocupa el seguro social de sus papás", "la pensión no alcanza"),
    ),
}
LEARNED_ANYTHING = (
    (
        "cares a lot about the neighborhood",
        "asked good questions about the campaign",
        "has been thinking about getting involved",
        "knows a lot of people on the block",
    ),
    ("le importa mucho el barrio", "tiene ganas de participar", "conoce a mucha gente en la cuadra"),
)
NOT_INTERESTED = (
    ("says nothing ever changes", "too busy right now", "doesn't trust politicians"),
    ("dice que nada cambia", "no tiene tiempo ahora"),
)
# How a volunteer's report starts, by outcome, in English and Spanish.
# Stands for a friend's name in the flows' replies cached here (the friends flow reads it as one).
NAME_SLOT = "Friendname"
# The flows' replies cached here tell of no event, so their time does not matter.
EPOCH = datetime.fromtimestamp(0, UTC)
OPENERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "committed": (
        ("Talked to {name}, in for the forum!", "{name} said yes to coming!",
         "Great talk with {name}, committed to help."),
        ("Hablé con {name}, ¡se apunta!", "{name} dijo que sí viene."),
    ),
    "open": (
        ("{name} was open to it.", "Talked with {name}, open to hearing more."),
        ("Hablé con {name}, le interesa.", "{name} quiere saber más."),
    ),
    "undecided": (
        ("Talked to {name}, not sure yet.", "Chatted w {name}, still undecided."),
        ("Hablé con {name}, todavía no sabe.", "{name} lo va a pensar."),
    ),
    "not_interested": (
        ("{name} wasn't into it.", "Talked to {name}, not interested right now."),
        ("Hablé con {name}, no le interesa.", "{name} dijo que no por ahora."),
    ),
    "not_reached": (
        ("Haven't reached {name} yet.", "{name} didn't pick up, will try again."),
        ("Todavía no hablo con {name}.", "{name} no contestó, lo intento otra vez."),
    ),
}  # fmt: skip
# The outcomes reported for a friend, oldest first, by the stage they reached (one is picked).
REPORT_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "talked": (("undecided",), ("undecided",), ("not_interested",), ("not_reached", "undecided")),
    "open": (("open",), ("open",), ("undecided", "open"), ("not_reached", "open")),
    "committed": (("committed",), ("open", "committed"), ("not_reached", "committed")),
    "joined": (("committed",),),
}
# Texts the flows could not handle, left for an organizer.
INBOX_TEXTS = (
    ("Can someone call me about the meeting Thursday? I can bring folding chairs",
     "is the forum at the library wheelchair accessible? my dad wants to come",
     "my landlord just gave us 30 days notice, who do I talk to??",
     "I moved to Riverside, can I still help out over there?",
     "got a flyer from another group, are you with them?",
     "do you have anything in Vietnamese? my neighbor asked",
     "my friend wants to volunteer but doesn't text much, can she sign up online?",
     "thanks for the ride to the hearing last week, that meant a lot"),
    ("¿A qué hora es la reunión del jueves?",
     "Mi vecina quiere ayudar pero no tiene celular, ¿cómo le hace?",
     "¿Tienen información sobre abogados para inquilinos?"),
)  # fmt: skip
ABUSIVE_TEXTS = (
    "who gave you this number? go to hell",
    "this is a scam you piece of shit",
    "screw you, nobody asked for your survey",
)
JOIN_WORDS = (("YES", "yes", "Yes!", "yes please"), ("SI", "Sí", "si"))
OPT_OUT_WORDS = ("STOP", "ALTO")
TEAM_PLACES = (
    "Eastside", "Westside", "Northgate", "Riverside", "Southside", "Hillcrest", "Lakeview",
    "Midtown", "Old Town", "Parkside", "Elm Street", "Maple Heights", "Harbor", "Fairview",
    "Brookside", "Cedar Park", "Mission", "Uptown", "Sunnyslope", "Ironbound",
)  # fmt: skip
TEAM_KINDS = (
    "Tenants", "Neighbors", "Parents", "Block Walkers", "Nurses", "Teachers", "Faith Circle",
    "Bus Riders", "Seniors", "Youth Crew", "Workers", "Vecinos Unidos", "Porch Talkers",
)  # fmt: skip
EVENT_IDEAS = (
    ("Community Forum on Rent", "Eastside Library"),
    ("Saturday Door-Knock", "Corner Café, 5th & Main"),
    ("Tenant Rights Workshop", "St. Mark's Parish Hall"),
    ("Potluck & Planning Night", "Rivera Community Center"),
    ("School Board Meeting", "District Office, Room 2"),
    ("Town Hall with Council Member Ortiz", "Eastside Rec Center"),
    ("Bus Riders' Listening Session", "Midtown Transit Hub"),
)
EVENT_HOUR = time(18, 30)


@dataclass(eq=False)
class _Message:
    volunteer: _Volunteer
    direction: str
    body: str
    at: datetime
    status: str
    reason: str = ""
    in_reply_to: _Message | None = None
    reply: _Message | None = None
    error_code: str | None = None
    needs_attention: bool = False
    provider_id: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)  # for a text sent: its statuses
    id: int | None = None


@dataclass(eq=False)
class _Volunteer:
    name: str
    language: str
    timezone: str | None
    joined: datetime
    until: datetime  # when they stop texting: what they text is at or before it
    referrer: _Volunteer | None = None
    phone: str = ""
    code: str = ""
    joined_by: _Message | None = None  # their YES, the evidence of the opt-in
    opted_out: _Message | None = None  # their STOP
    friends: list[_Friend] = field(default_factory=list)
    id: int | None = None
    address_id: int | None = None

    @property
    def spanish(self) -> bool:
        return self.language == "es"


@dataclass(eq=False)
class _Friend:
    volunteer: _Volunteer
    name: str
    relationship: str
    interests: list[str]
    added_at: datetime
    stage: str = "listed"
    joined: _Volunteer | None = None
    reports: list[_Report] = field(default_factory=list)
    id: int | None = None


@dataclass(eq=False)
class _Report:
    friend: _Friend
    outcome: str
    text: str
    tags: list[str]  # the interests the text names
    message: _Message


@dataclass(eq=False)
class _Member:
    volunteer: _Volunteer
    evidence: _Message  # their TEAM NEW or TEAM JOIN text
    muted: bool = False


@dataclass(eq=False)
class _Team:
    name: str
    code: str
    created_by: _Volunteer
    created_at: datetime
    members: list[_Member] = field(default_factory=list)
    id: int | None = None


@dataclass(eq=False)
class _Rsvp:
    volunteer: _Volunteer
    status: str
    at: datetime


@dataclass(eq=False)
class _Event:
    title: str
    location: str
    starts_at: datetime
    created_at: datetime
    rsvps: list[_Rsvp] = field(default_factory=list)
    id: int | None = None


@dataclass(eq=False)
class _Email:
    """An email address a volunteer gave, when they confirmed it and when they unsubscribed."""

    volunteer: _Volunteer
    value: str
    given: datetime
    confirmed: datetime | None = None
    unsubscribed: datetime | None = None
    address_id: int | None = None


@dataclass(eq=False)
class _Idea:
    text: _Message  # their IDEA text
    body: str


@dataclass(eq=False)
class _Thread:
    message: _Message
    done_at: datetime | None


class _Texts:
    """The texts made so far, both ways. A reply follows its text by a few seconds."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.all: list[_Message] = []

    def exchange(
        self, volunteer: _Volunteer, text: str, at: datetime, reply: str, reason: str = "reply"
    ) -> _Message:
        """A text from `volunteer` and the reply it got; returns the text."""
        inbound = _Message(volunteer, "inbound", text, at, "received")
        self.all.append(inbound)
        inbound.reply = self.send(volunteer, reply, at + timedelta(seconds=self.rng.uniform(1, 4)), reason)
        inbound.reply.in_reply_to = inbound
        return inbound

    def send(self, volunteer: _Volunteer, body: str, at: datetime, reason: str) -> _Message:
        """A text to `volunteer`, as the carrier reported it."""
        status = "delivered" if self.rng.random() < DELIVERED_SHARE else "sent"
        message = _Message(volunteer, "outbound", body, at, status, reason)
        self.all.append(message)
        return message


@dataclass(eq=False)
class Plan:
    """Fake data made in memory, with values the database does not hold yet, ready to write."""

    volunteers: list[_Volunteer]
    friends: list[_Friend]
    texts: list[_Message]
    teams: list[_Team]
    events: list[_Event]
    threads: list[_Thread]
    ideas: list[_Idea] = field(default_factory=list)
    emails: list[_Email] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many of each thing it makes."""
        return {
            "volunteers": len(self.volunteers),
            "friends": len(self.friends),
            "reports": sum(len(friend.reports) for friend in self.friends),
            "messages": len(self.texts),
            "teams": len(self.teams),
            "team_members": sum(len(team.members) for team in self.teams),
            "events": len(self.events),
            "rsvps": sum(len(event.rsvps) for event in self.events),
            "threads": len(self.threads),
            "ideas": len(self.ideas),
            "opt_outs": sum(volunteer.opted_out is not None for volunteer in self.volunteers),
            "emails": len(self.emails),
            "email_opt_ins": sum(email.confirmed is not None for email in self.emails),
        }


def seed(org: Organization, volunteers: int, rng: random.Random, now: datetime) -> dict[str, int]:
    """Add `volunteers` fake volunteers to `org` with their networks, reports, texts, teams,
    events and inbox threads, as of `now`; returns how many of each were made (the caller
    commits)."""
    made = plan(org, volunteers, rng, now)
    write(org, made)
    return made.counts()


def plan(org: Organization, volunteers: int, rng: random.Random, now: datetime) -> Plan:
    """Make, in memory, what `seed` adds. It only reads the database (which values are taken),
    so a caller can make it without holding up anyone who writes."""
    people = _volunteers(org, volunteers, rng, now)
    _refer(people, rng)
    texts = _Texts(rng)
    for volunteer in people:
        _join(volunteer, rng, texts)
    friends = _friends(org, people, rng, texts)
    teams = _teams(org, people, rng, texts)
    events = _events(org, people, rng, now)
    opted_out = _opt_outs(org, people, rng, now, texts)
    threads = _inbox(people, opted_out, rng, now, texts)
    ideas = _ideas(people, opted_out, rng, now, texts)
    _failures(people, opted_out, rng, now, texts)
    _deliver(texts.all, rng)
    emails = _emails(org, people, rng, now)  # last: what a seed made before emails stays the same
    texts_in_order = sorted(texts.all, key=lambda text: text.at)
    return Plan(people, friends, texts_in_order, teams, events, threads, ideas, emails)


def _emails(
    org: Organization, people: Sequence[_Volunteer], rng: random.Random, now: datetime
) -> list[_Email]:
    """Some volunteers gave an email address (named after them and their number, so no two
    alike) sometime after joining; most confirmed it, and a few of those later unsubscribed."""
    giving = [volunteer for volunteer in people if rng.random() < EMAIL_SHARE]
    made = []
    for volunteer in giving:
        local = unicodedata.normalize("NFKD", volunteer.name).encode("ascii", "ignore").decode().lower()
        given = volunteer.joined + (now - QUIET - volunteer.joined) * rng.random()
        email = _Email(volunteer, f"{local}.{volunteer.phone[-7:]}@{EMAIL_DOMAIN}", given)
        if rng.random() < EMAIL_CONFIRMED_SHARE:
            email.confirmed = given + (now - QUIET - given) * rng.random() / 10
            if rng.random() < EMAIL_UNSUBSCRIBED_SHARE:
                email.unsubscribed = email.confirmed + (now - QUIET - email.confirmed) * rng.random()
        made.append(email)
    taken: set[str] = set()
    for part in _chunks([email.value for email in made], LOOKUP_CHUNK):
        taken.update(
            db.session.scalars(
                select(Address.value).where(
                    Address.organization_id == org.id, Address.channel == "email", Address.value.in_(part)
                )
            )
        )
    return [email for email in made if email.value not in taken]


def _ideas(
    people: Sequence[_Volunteer],
    opted_out: Sequence[_Volunteer],
    rng: random.Random,
    now: datetime,
    texts: _Texts,
) -> list[_Idea]:
    """A few volunteers texted IDEA with a conversation idea that worked for them, waiting for
    an organizer's review."""
    gone = set(opted_out)
    sharing = [v for v in people if v not in gone and rng.random() < IDEA_SHARE]
    made = []
    for volunteer in sharing:
        at = _settled(volunteer) + (volunteer.until - _settled(volunteer)) * rng.random()
        body = rng.choice(IDEAS[volunteer.language])
        text = texts.exchange(volunteer, f"IDEA {body}", at, say(volunteer.language, "ideas.thanks"))
        made.append(_Idea(text, body))
    return made


def _volunteers(org: Organization, n: int, rng: random.Random, now: datetime) -> list[_Volunteer]:
    """`n` volunteers, earliest joined first, each with the time they stop texting."""
    people = []
    for _ in range(n):
        joined = now - NEWEST - (SPAN - NEWEST) * (1 - rng.random() ** JOIN_SKEW)
        end = joined + timedelta(days=rng.expovariate(1 / ENGAGED_DAYS))
        if end >= now - ACTIVE_WEEK:  # still at it: texted sometime this week
            end = now - min(ACTIVE_WEEK, now - joined) * rng.random()
        until = max(joined, min(end, now - QUIET))
        language = "es" if rng.random() < SPANISH_SHARE else "en"
        timezone = org.timezone if rng.random() < LOCAL_TIMEZONE_SHARE else None
        people.append(_Volunteer(_first_name(language, rng), language, timezone, joined, until))
    people.sort(key=lambda volunteer: volunteer.joined)
    phones = _unused(
        n, rng, _phone, Address.value, Address.organization_id == org.id, Address.channel == "sms"
    )
    codes = _unused(n, rng, _referral_code, Person.referral_code, Person.organization_id == org.id)
    for volunteer, phone, code in zip(people, phones, codes, strict=True):
        volunteer.phone, volunteer.code = phone, code
    return people


def _join(volunteer: _Volunteer, rng: random.Random, texts: _Texts) -> None:
    """The texts that made them a volunteer: YES to the terms (the evidence of their opt-in),
    then their first name."""
    welcome = say(volunteer.language, "onboarding.welcome")
    yes = rng.choice(JOIN_WORDS[volunteer.spanish])
    volunteer.joined_by = texts.exchange(volunteer, yes, volunteer.joined, welcome)
    name = volunteer.name if rng.random() < CAPITALIZED_SHARE else volunteer.name.lower()
    at = volunteer.joined + timedelta(seconds=rng.uniform(15, 50))
    texts.exchange(volunteer, name, at, _name_reply(volunteer.language, name))


def _phone(rng: random.Random) -> str:
    """A fictional number: +1 555 and seven digits, none in the simulator's block."""
    while True:
        digits = rng.randrange(10**7)
        if digits // 100 != _SIMULATOR_HUNDRED:
            return f"+1555{digits:07d}"


def _referral_code(rng: random.Random) -> str:
    return "".join(rng.choices(ALPHABET, k=REFERRAL_CODE_LENGTH))


def _first_name(language: str, rng: random.Random) -> str:
    return rng.choice(SPANISH_NAMES if rng.random() < SPANISH_NAME_SHARE[language] else NAMES)


def _refer(people: Sequence[_Volunteer], rng: random.Random) -> None:
    """About a third were brought in by an earlier volunteer who was still active then. Those who
    brought people in bring more, and the people they brought bring others: trees and chains."""
    recruiters: list[_Volunteer] = []  # once per person brought in, and the people brought
    for i, volunteer in enumerate(people):
        if i == 0 or rng.random() >= REFERRED_SHARE:
            continue
        for _ in range(REFERRER_TRIES):
            chained = recruiters and rng.random() < CHAIN_SHARE
            referrer = rng.choice(recruiters) if chained else people[rng.randrange(i)]
            if referrer.until >= volunteer.joined - REFERRAL_REACH:
                break
        volunteer.referrer = referrer
        recruiters += (referrer, volunteer)


def _friends(
    org: Organization, people: Sequence[_Volunteer], rng: random.Random, texts: _Texts
) -> list[_Friend]:
    """Each volunteer's list, climbed as far as their time allows, with the reports that moved
    each friend up. Whoever kept texting for more than a day last texted at the end of it: a
    report, or a friend they added then."""
    interests = list(org.interests) or list(ev.DEFAULT_INTERESTS)
    organization = ev.Organization(name=org.name, contact=org.contact, interests=tuple(interests))
    brought: dict[_Volunteer, list[_Volunteer]] = {volunteer: [] for volunteer in people}
    for volunteer in people:
        if volunteer.referrer is not None and rng.random() < LINKED_REFERRAL_SHARE:
            brought[volunteer.referrer].append(volunteer)
    made: list[_Friend] = []
    for volunteer in people:
        for joiner in brought[volunteer]:
            _list_joiner(volunteer, joiner, interests, organization, rng, texts)
        span = volunteer.until - volunteer.joined
        engaged = span / timedelta(weeks=1)
        # Of the LADDER: the longer they kept at it, the further their friends got.
        odds = tuple(accumulate((5, 2.5 + 0.1 * engaged, 1.2 + 0.08 * engaged, 0.6 + 0.06 * engaged)))
        wanted = rng.choices(FRIEND_COUNTS, cum_weights=FRIEND_COUNT_ODDS)[0]
        still_texting = span >= timedelta(days=1)
        adds_last = still_texting and len(brought[volunteer]) < wanted and rng.random() >= LAST_REPORT_SHARE
        for i in range(wanted - len(brought[volunteer]) - adds_last):
            onboarding = i == 0 and not volunteer.friends  # the friend the join conversation asks for
            after = timedelta(minutes=rng.uniform(1, 20)) if onboarding else span * rng.random() ** 2
            added = min(volunteer.joined + after, volunteer.until)
            stage = (
                rng.choices(LADDER, cum_weights=odds)[0] if volunteer.until - added >= MIN_TALK else "listed"
            )
            friend = _new_friend(volunteer, interests, added, stage, rng)
            if onboarding:
                _list_by_text(friend, "", organization, rng, texts)
        _report_on(volunteer, still_texting and not adds_last, organization, rng, texts)
        if adds_last:
            friend = _new_friend(volunteer, interests, volunteer.until, "listed", rng)
            _list_by_text(friend, ADD_COMMAND[volunteer.spanish], organization, rng, texts)
        made += volunteer.friends
    return made


def _list_joiner(
    volunteer: _Volunteer,
    joiner: _Volunteer,
    interests: Sequence[str],
    organization: ev.Organization,
    rng: random.Random,
    texts: _Texts,
) -> None:
    """A friend `volunteer` listed and talked into joining: `joiner`, a later volunteer."""
    latest = min(volunteer.until, joiner.joined)
    added = volunteer.joined + (latest - volunteer.joined) * rng.random() / 2
    relationship = rng.choice(JOINER_RELATIONSHIPS)
    chosen = _interests(interests, rng)
    friend = _Friend(volunteer, joiner.name, relationship, chosen, added, "joined", joiner)
    volunteer.friends.append(friend)
    if latest - added >= timedelta(hours=2):
        _report(friend, REPORT_PATHS["joined"][0], latest, organization, rng, texts)


def _new_friend(
    volunteer: _Volunteer, interests: Sequence[str], added: datetime, stage: str, rng: random.Random
) -> _Friend:
    relationship = rng.choices(RELATIONSHIPS, cum_weights=RELATIONSHIP_ODDS)[0]
    listed = {friend.name for friend in volunteer.friends}
    while (name := _first_name(volunteer.language, rng)) in listed:  # two Marias would confuse reports
        pass
    chosen = _interests(interests, rng)
    friend = _Friend(volunteer, name, relationship, chosen, added, stage)
    volunteer.friends.append(friend)
    return friend


def _list_by_text(
    friend: _Friend, command: str, organization: ev.Organization, rng: random.Random, texts: _Texts
) -> None:
    """The text that listed `friend` ("Ruth, neighbor"), with the friends flow's reply; the
    relationship is as the flow reads it from the text."""
    volunteer = friend.volunteer
    words = rng.choice(RELATIONSHIP_WORDS[friend.relationship][volunteer.spanish])
    reply, friend.relationship = _listing_reply(organization, volunteer.language, words)
    said = f"{friend.name}, {words}" if words else friend.name
    texts.exchange(volunteer, command + said, friend.added_at, reply.replace(NAME_SLOT, friend.name))


@cache
def _name_reply(language: str, name: str) -> str:
    """The join conversation's reply to a volunteer's first name."""
    context = ev.Context(organization=ev.Organization(name="", contact=""), now=EPOCH, language=language)
    return onboarding.take_name(ev.State("ask_name"), name, context).replies[0].body


@cache
def _listing_reply(organization: ev.Organization, language: str, words: str) -> tuple[str, str]:
    """The friends flow's reply to a text listing NAME_SLOT with these words for how they know
    them, and the relationship it reads in the words."""
    context = ev.Context(organization=organization, now=EPOCH, language=language)
    outcome = friend_flow.add(ev.State(), f"{NAME_SLOT}, {words}" if words else NAME_SLOT, context)
    assert outcome is not None, words
    (added, *_) = (effect for effect in outcome.effects if isinstance(effect, ev.AddFriend))
    assert added.name == NAME_SLOT, added
    return outcome.replies[0].body, added.relationship


def _report_on(
    volunteer: _Volunteer,
    reports_last: bool,
    organization: ev.Organization,
    rng: random.Random,
    texts: _Texts,
) -> None:
    """The reports on each of a volunteer's friends past listed; with `reports_last`, at least
    one, and the latest at the end of the time they kept texting."""
    talkable = [f for f in volunteer.friends if not f.joined and volunteer.until - f.added_at >= MIN_TALK]
    if reports_last and talkable and all(f.stage == "listed" for f in talkable):
        rng.choice(talkable).stage = "talked"
    latest: _Message | None = None
    for friend in talkable:
        if friend.stage != "listed":
            _report(friend, rng.choice(REPORT_PATHS[friend.stage]), volunteer.until, organization, rng, texts)
            last = friend.reports[-1].message
            latest = last if latest is None or last.at > latest.at else latest
    if reports_last and latest is not None:
        _move(latest, volunteer.until)


def _interests(interests: Sequence[str], rng: random.Random) -> list[str]:
    """What a friend cares about: none to three of the organization's interests, its first
    (the common ones) more often."""
    wanted = min(rng.choices(INTEREST_COUNTS, cum_weights=INTEREST_COUNT_ODDS)[0], len(interests))
    odds = _interest_odds(len(interests))
    chosen: list[str] = []
    while len(chosen) < wanted:
        interest = rng.choices(interests, cum_weights=odds)[0]
        if interest not in chosen:
            chosen.append(interest)
    return chosen


@cache
def _interest_odds(count: int) -> tuple[int, ...]:
    return tuple(accumulate(range(count + 2, 2, -1)))  # the first interests (common ones) more often


def _report(
    friend: _Friend,
    outcomes: Sequence[str],
    latest: datetime,
    organization: ev.Organization,
    rng: random.Random,
    texts: _Texts,
) -> None:
    """Reports of `outcomes` on `friend`, between an hour after they were listed and `latest`,
    with the texts that made them and the replies the reporting flow gives to those texts."""
    volunteer = friend.volunteer
    start = friend.added_at + timedelta(hours=1)
    times = sorted(start + (latest - start) * rng.random() for _ in outcomes)
    for outcome, at in zip(outcomes, times, strict=True):
        text = rng.choice(OPENERS[outcome][volunteer.spanish]).format(name=NAME_SLOT)
        if outcome != "not_reached":
            learned = rng.choice(_learned(friend, outcome, rng)[volunteer.spanish])
            text = f"{text} {learned[0].upper()}{learned[1:]}."
        reply, tags = _report_reply(organization, volunteer.language, outcome, text)
        text, reply = (t.replace(NAME_SLOT, friend.name) for t in (text, reply))
        friend.reports.append(
            _Report(friend, outcome, text, tags, texts.exchange(volunteer, text, at, reply))
        )


@cache
def _report_reply(
    organization: ev.Organization, language: str, outcome: str, text: str
) -> tuple[str, list[str]]:
    """The reporting flow's reply to `text` about NAME_SLOT, and the interests it tags it with."""
    context = ev.Context(organization=organization, now=EPOCH, language=language)
    logged = reports.log([ev.Friend(id=0, name=NAME_SLOT)], outcome, text, context)
    (report, *_) = (effect for effect in logged.effects if isinstance(effect, ev.LogReport))
    return logged.replies[0].body, list(report.tags)


def _learned(friend: _Friend, outcome: str, rng: random.Random) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if outcome == "not_interested":
        return NOT_INTERESTED
    known = [interest for interest in friend.interests if interest in LEARNED]
    return LEARNED[rng.choice(known)] if known else LEARNED_ANYTHING


def _move(text: _Message, at: datetime) -> None:
    """Move a text, and the reply to it, to `at`."""
    if text.reply is not None:
        text.reply.at += at - text.at
    text.at = at


def _teams(org: Organization, people: Sequence[_Volunteer], rng: random.Random, texts: _Texts) -> list[_Team]:
    """About one team per TEAM_SIZE volunteers, each started by a volunteer who stayed a while,
    and joined (each by their own text) by about TEAM_SHARE of all volunteers, up to the size
    limit."""
    settled = [v for v in people if v.until - v.joined >= timedelta(days=7)] or list(people)
    wanted = min(len(settled), max(1, round(len(people) / TEAM_SIZE)))
    starters = sorted(rng.sample(settled, wanted), key=lambda volunteer: volunteer.joined)
    codes = _unused(len(starters), rng, _join_code, Team.join_code, Team.organization_id == org.id)
    names = _team_names(org, rng)
    teams: list[_Team] = []
    for starter, code in zip(starters, codes, strict=True):
        at = _settled(starter) + min(starter.until - _settled(starter), timedelta(days=21)) * rng.random()
        name = next(names)
        text = f"{'EQUIPO NUEVO' if starter.spanish else 'TEAM NEW'} {name}"
        reply = say(starter.language, "teams.started", left="", name=name, code=code)
        team = _Team(name, code, starter, at)
        team.members.append(_Member(starter, texts.exchange(starter, text, at, reply)))
        teams.append(team)
    popularity = list(accumulate(rng.uniform(0.5, 1.5) for _ in teams))
    started = set(starters)
    joining = (TEAM_SHARE * len(people) - len(teams)) / max(1, len(people) - len(teams))
    for volunteer in people:
        if volunteer in started or rng.random() >= joining:
            continue
        for _ in range(TEAM_TRIES):
            team = rng.choices(teams, cum_weights=popularity)[0]
            start = max(_settled(volunteer), team.created_at)
            if len(team.members) < MAX_TEAM_SIZE and start <= volunteer.until:
                break
        else:
            continue
        at = start + (volunteer.until - start) * rng.random()
        text = f"{'EQUIPO UNIRME' if volunteer.spanish else 'TEAM JOIN'} {team.code}"
        reply = say(volunteer.language, "teams.welcome", left="", team=team.name, members="")
        evidence = texts.exchange(volunteer, text, at, reply)
        team.members.append(_Member(volunteer, evidence, rng.random() < MUTED_SHARE))
    return teams


def _settled(volunteer: _Volunteer) -> datetime:
    """When a volunteer is past the join conversation and may text about other things."""
    return min(volunteer.joined + SETTLING, volunteer.until)


def _join_code(rng: random.Random) -> str:
    """A team join code, shaped as the flows read one."""
    while True:
        code = "".join(rng.choices(ALPHABET, k=CODE_LENGTH))
        if is_code(code):
            return code


def _team_names(org: Organization, rng: random.Random) -> Iterator[str]:
    """Team names no team of the organization has, numbered once the combinations run out."""
    taken = set(db.session.scalars(select(Team.name).where(Team.organization_id == org.id)))
    names = [f"{place} {kind}" for place in TEAM_PLACES for kind in TEAM_KINDS]
    rng.shuffle(names)
    for round_ in count(1):
        for name in names:
            numbered = name if round_ == 1 else f"{name} {round_}"
            if numbered not in taken:
                yield numbered


def _events(
    org: Organization, people: Sequence[_Volunteer], rng: random.Random, now: datetime
) -> list[_Event]:
    """A few events, past and coming, at 6:30 p.m. on the organization's clock, with the RSVPs of
    volunteers who were texting between the announcement and the event."""
    zone = ZoneInfo(org.timezone)
    made = []
    for days, (title, location) in zip(EVENT_DAYS, rng.sample(EVENT_IDEAS, len(EVENT_DAYS)), strict=True):
        day = (now + timedelta(days=days + rng.randint(-2, 2))).astimezone(zone).date()
        starts = datetime.combine(day, EVENT_HOUR, zone).astimezone(UTC)
        announced = min(starts - timedelta(days=21), now - timedelta(days=rng.randint(1, 10)))
        event = _Event(title, location, starts, announced)
        for volunteer in people:
            start, end = max(volunteer.joined, announced), min(volunteer.until, starts)
            draw = rng.random()
            if end >= start and draw < RSVP_YES + RSVP_NO:
                answer = "yes" if draw < RSVP_YES else "no"
                event.rsvps.append(_Rsvp(volunteer, answer, start + (end - start) * rng.random()))
        made.append(event)
    return made


def _opt_outs(
    org: Organization, people: Sequence[_Volunteer], rng: random.Random, now: datetime, texts: _Texts
) -> list[_Volunteer]:
    """A few volunteers texted STOP sometime after their last other text."""
    chosen = rng.sample(list(people), round(len(people) * OPT_OUT_SHARE))
    for volunteer in chosen:
        cap = min(volunteer.until + timedelta(days=20), now - QUIET / 2)
        at = volunteer.until + (cap - volunteer.until) * rng.uniform(0.05, 1)
        reply = say(volunteer.language, "compliance.opted_out", organization=org.name)
        word = OPT_OUT_WORDS[volunteer.spanish]
        volunteer.opted_out = texts.exchange(volunteer, word, at, reply, "opt_out_confirmation")
    return chosen


def _inbox(
    people: Sequence[_Volunteer],
    opted_out: Sequence[_Volunteer],
    rng: random.Random,
    now: datetime,
    texts: _Texts,
) -> list[_Thread]:
    """Texts the flows could not handle, mostly in the last days, each opening its sender's
    thread; a few read as abuse, and some threads are done."""
    gone = set(opted_out)
    candidates = [volunteer for volunteer in people if volunteer not in gone]
    chosen = rng.sample(candidates, min(len(candidates), max(1, round(len(people) * INBOX_SHARE))))
    abusive = max(1, len(chosen) // ABUSIVE_EVERY)
    threads = []
    for i, volunteer in enumerate(chosen):
        text = rng.choice(ABUSIVE_TEXTS if i < abusive else INBOX_TEXTS[volunteer.spanish])
        latest = now - QUIET
        earliest = min(_settled(volunteer), latest)
        at = max(latest - timedelta(days=rng.expovariate(1 / INBOX_DAYS)), earliest)
        message = texts.exchange(volunteer, text, at, say(volunteer.language, "engine.not_understood"))
        message.needs_attention = True
        done = at + (now - at) * rng.random() if rng.random() < DONE_SHARE else None
        threads.append(_Thread(message, done))
    return threads


def _failures(
    people: Sequence[_Volunteer],
    opted_out: Sequence[_Volunteer],
    rng: random.Random,
    now: datetime,
    texts: _Texts,
) -> None:
    """The dashboard's delivery problems of the last week: replies the carrier refused, and
    follow-ups the outbox withheld because their volunteer had opted out."""
    week = now - ACTIVE_WEEK
    replies = [m for m in texts.all if m.direction == "outbound" and m.reason == "reply" and m.at >= week]
    for message in rng.sample(replies, min(len(replies), max(1, len(people) // FAILED_EVERY))):
        message.status, message.error_code = "failed", rng.choice(CARRIER_ERRORS)
    stopped = [v for v in opted_out if v.opted_out is not None and v.opted_out.at < now - timedelta(hours=1)]
    for volunteer in rng.sample(stopped, min(len(stopped), max(1, len(people) // SUPPRESSED_EVERY))):
        assert volunteer.opted_out is not None
        start = max(volunteer.opted_out.at, week)
        greeting = say(volunteer.language, "followups.greeting", name=volunteer.name)
        lead = say(volunteer.language, "followups.checking_back", greeting=greeting)
        body = say(volunteer.language, "followups.ask_friend", lead=lead)
        message = texts.send(volunteer, body, start + (now - QUIET - start) * rng.random(), "follow_up")
        message.status, message.error_code = "suppressed", "opted_out"


def write(org: Organization, made: Plan) -> None:
    """Write what `plan` made, in bulk, oldest first within each table (the caller commits)."""
    _number(Person, made.volunteers)
    _number(Address, [*made.volunteers, *made.emails], "address_id")
    _number(Message, made.texts)
    _number(Friend, made.friends)
    _number(Team, made.teams)
    _number(Event, made.events)
    _write_people(org, made)
    _write_texts(org, made)
    _write_network(org, made.friends)
    _write_teams_and_events(org, made.teams, made.events)
    _insert(
        Idea,
        [
            {
                "organization_id": org.id,
                "person_id": idea.text.volunteer.id,
                "body": idea.body,
                "language": idea.text.volunteer.language,
                "status": "pending",
                "message_id": idea.text.id,
                "created_at": idea.text.at,
            }
            for idea in sorted(made.ideas, key=lambda idea: idea.text.at)
        ],
    )
    _insert(
        Thread,
        [
            {
                "organization_id": org.id,
                "person_id": thread.message.volunteer.id,
                "status": "done" if thread.done_at else "open",
                "assigned_to_id": None,
                "flagged": abuse.flagged(thread.message.body),
                "channel": "sms",
                "last_message_id": thread.message.id,
                "last_message_at": thread.message.at,
                "done_at": thread.done_at,
                "done_by_id": None,
                "created_at": thread.message.at,
            }
            for thread in sorted(made.threads, key=lambda thread: thread.message.at)
        ],
    )


def _write_people(org: Organization, made: Plan) -> None:
    """The volunteers, each last active at their latest text (an opt-out is not activity, as
    when a real one arrives), with their numbers."""
    active: dict[_Volunteer, datetime] = {}
    for text in made.texts:
        if text.direction == "inbound" and text is not text.volunteer.opted_out:
            active[text.volunteer] = max(text.at, active.get(text.volunteer, text.at))
    people = made.volunteers
    _insert(
        Person,
        [
            {
                "id": volunteer.id,
                "organization_id": org.id,
                "name": volunteer.name,
                "timezone": volunteer.timezone,
                "language": volunteer.language,
                "volunteer_since": volunteer.joined,
                "referral_code": volunteer.code,
                "referred_by_id": volunteer.referrer.id if volunteer.referrer else None,
                "last_active_at": active[volunteer],
                "created_at": volunteer.joined,
            }
            for volunteer in people
        ],
    )
    _insert(
        Address,
        [
            {
                "id": volunteer.address_id,
                "organization_id": org.id,
                "person_id": volunteer.id,
                "channel": "sms",
                "value": volunteer.phone,
                "pending_erasure": False,
                "created_at": volunteer.joined,
            }
            for volunteer in people
        ],
    )
    _insert(
        Address,
        [
            {
                "id": email.address_id,
                "organization_id": org.id,
                "person_id": email.volunteer.id,
                "channel": "email",
                "value": email.value,
                "pending_erasure": False,
                "created_at": email.given,
            }
            for email in made.emails
        ],
    )
    said = [(email, "opt_in", "email_confirmed", email.confirmed) for email in made.emails] + [
        (email, "opt_out", "email_one_click", email.unsubscribed) for email in made.emails
    ]
    _insert(
        ConsentEvent,
        [
            {
                "organization_id": org.id,
                "address_id": email.address_id,
                "channel": "email",
                "kind": kind,
                "source": source,
                "detail": "seed",
                "evidence_message_id": None,
                "at": at,
            }
            for email, kind, source, at in sorted((s for s in said if s[3] is not None), key=lambda s: s[3])
        ],
    )


def _write_texts(org: Organization, made: Plan) -> None:
    """The texts, their delivery histories, and the consent they are evidence of."""
    _insert(
        Message,
        [
            {
                "id": text.id,
                "organization_id": org.id,
                "direction": text.direction,
                "channel": "sms",
                "address_id": text.volunteer.address_id,
                "body": text.body,
                "num_media": 0,
                "provider_id": text.provider_id,
                "status": text.status,
                "reason": text.reason,
                "in_reply_to_id": text.in_reply_to.id if text.in_reply_to else None,
                "needs_attention": text.needs_attention,
                "organizer_id": None,
                "attempts": int(text.direction == "outbound" and text.provider_id is not None),
                "next_attempt_at": None,
                "error_code": text.error_code,
                "answered_at": text.at if text.direction == "inbound" else None,  # as its turn did
                "created_at": text.at,
                "updated_at": text.history[-1]["at"] if text.history else text.at,
            }
            for text in made.texts
        ],
    )
    _insert(
        MessageStatusEvent, [{**step, "message_id": text.id} for text in made.texts for step in text.history]
    )
    said = [(v.joined_by, "opt_in") for v in made.volunteers] + [
        (v.opted_out, "opt_out") for v in made.volunteers
    ]
    evidence = sorted(((text, kind) for text, kind in said if text is not None), key=lambda pair: pair[0].at)
    _insert(
        ConsentEvent,
        [
            {
                "organization_id": org.id,
                "address_id": text.volunteer.address_id,
                "channel": "sms",
                "kind": kind,
                "source": "sms_keyword",
                "detail": text.body.strip().upper()[:40],
                "evidence_message_id": text.id,
                "at": text.at,
            }
            for text, kind in evidence
        ],
    )


def _deliver(messages: Sequence[_Message], rng: random.Random) -> None:
    """The provider ids of the texts that went through the carrier (random, as the carrier's
    are: no two alike, whatever the seed), and the delivery history of those sent."""
    for message in messages:
        if message.status != "suppressed":
            message.provider_id = f"SM{secrets.token_hex(16)}"
        if message.direction == "outbound":
            message.history = _history(message, rng)


def _history(message: _Message, rng: random.Random) -> list[dict[str, Any]]:
    """The delivery history of a text sent: queued, then what the outbox and carrier said."""
    at = message.at
    steps = [{"status": "queued", "error_code": None, "source": "outbox", "at": at}]
    if message.status == "suppressed":
        at += timedelta(seconds=rng.uniform(0.2, 1))
        return [
            *steps,
            {"status": "suppressed", "error_code": message.error_code, "source": "outbox", "at": at},
        ]
    at += timedelta(seconds=rng.uniform(0.5, 2))
    steps.append({"status": "sent", "error_code": None, "source": "outbox", "at": at})
    if message.status != "sent":
        at += timedelta(seconds=rng.uniform(2, 9))
        steps.append(
            {"status": message.status, "error_code": message.error_code, "source": "provider", "at": at}
        )
    return steps


def _write_network(org: Organization, friends: Sequence[_Friend]) -> None:
    """The friends, and the reports on them."""
    _insert(
        Friend,
        [
            {
                "id": friend.id,
                "organization_id": org.id,
                "volunteer_id": friend.volunteer.id,
                "name": friend.name,
                "relationship": friend.relationship,
                "interests": friend.interests,
                "stage": friend.stage,
                "joined_person_id": friend.joined.id if friend.joined else None,
                "added_at": friend.added_at,
                "last_prompted_at": None,
                "last_reported_at": friend.reports[-1].message.at if friend.reports else None,
                "snoozed_until": None,
            }
            for friend in friends
        ],
    )
    _insert(
        ConversationReport,
        [
            {
                "organization_id": org.id,
                "volunteer_id": report.friend.volunteer.id,
                "friend_id": report.friend.id,
                "outcome": report.outcome,
                "learned": report.text,
                "tags": report.tags,
                "message_id": report.message.id,
                "reported_at": report.message.at,
            }
            for report in sorted((r for f in friends for r in f.reports), key=lambda r: r.message.at)
        ],
    )


def _write_teams_and_events(org: Organization, teams: Sequence[_Team], events: Sequence[_Event]) -> None:
    _insert(
        Team,
        [
            {
                "id": team.id,
                "organization_id": org.id,
                "name": team.name,
                "join_code": team.code,
                "created_by_id": team.created_by.id,
                "created_at": team.created_at,
            }
            for team in teams
        ],
    )
    members = sorted(((team, m) for team in teams for m in team.members), key=lambda tm: tm[1].evidence.at)
    _insert(
        TeamMember,
        [
            {
                "team_id": team.id,
                "person_id": member.volunteer.id,
                "muted": member.muted,
                "evidence_message_id": member.evidence.id,
                "joined_at": member.evidence.at,
                # Whoever started a team leads it, and was told so long ago.
                "lead": member.volunteer is team.created_by,
                "lead_told_at": member.evidence.at if member.volunteer is team.created_by else None,
            }
            for team, member in members
        ],
    )
    _insert(
        Event,
        [
            {
                "id": event.id,
                "organization_id": org.id,
                "title": event.title,
                "starts_at": event.starts_at,
                "location": event.location,
                "details": "",
                "created_at": event.created_at,
            }
            for event in events
        ],
    )
    _insert(
        Rsvp,
        [
            {
                "event_id": event.id,
                "person_id": rsvp.volunteer.id,
                "status": rsvp.status,
                "reminded_at": None,
                "reminder_message_id": None,
                "created_at": rsvp.at,
            }
            for event in events
            for rsvp in sorted(event.rsvps, key=lambda rsvp: rsvp.at)
        ],
    )


def _number(model: type[Any], made: Sequence[Any], attribute: str = "id") -> None:
    """Give what was made the ids its rows will have, from the database's own counter: the
    next ones on SQLite (whose write lock this transaction holds), the sequence's on
    PostgreSQL (which never hands them out again). Rows written with their ids need no
    RETURNING, which would be a statement a row on SQLite and slow on psycopg."""
    if not made:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(model.__tablename__, "id")
        series = func.generate_series(1, len(made)).table_valued("n")
        ids = sorted(db.session.scalars(select(func.nextval(sequence)).select_from(series)))
    else:
        first = (db.session.scalar(select(func.max(model.id))) or 0) + 1
        ids = list(range(first, first + len(made)))
    for thing, number in zip(made, ids, strict=True):
        setattr(thing, attribute, number)


def _unused(
    n: int,
    rng: random.Random,
    make: Callable[[random.Random], str],
    column: InstrumentedAttribute[Any],
    *where: ColumnElement[bool],
) -> list[str]:
    """`n` different values from `make` that no row has in `column` yet (among rows `where`).
    They are drawn from a stream of their own, so values the database already holds change
    these values only, not the rest of what a seed makes."""
    draw = random.Random(rng.getrandbits(64))  # noqa: S311 (fake data, repeatable on purpose)
    chosen: list[str] = []
    seen: set[str] = set()
    while len(chosen) < n:
        fresh: list[str] = []
        while len(fresh) < n - len(chosen):
            value = make(draw)
            if value not in seen:
                seen.add(value)
                fresh.append(value)
        taken: set[str] = set()
        for part in _chunks(fresh, LOOKUP_CHUNK):
            taken.update(db.session.scalars(select(column).where(column.in_(part), *where)))
        chosen += [value for value in fresh if value not in taken]
    return chosen


def _insert(model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `model`'s table: a chunk a statement as an
    executemany, or on PostgreSQL by COPY, its bulk load, since psycopg sends an executemany to
    the server a row at a time, five times slower."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        _copy(connection, model.__table__, rows)
        return
    for part in _chunks(rows):
        # With NULLs rendered, every row has the same columns, so a chunk is one batch.
        db.session.execute(insert(model).execution_options(render_nulls=True), part)


def _copy(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """COPY `rows` into `table`, each value through its column's type as an INSERT would."""
    dialect = connection.dialect
    names = list(rows[0])
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
    quote = dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(name) for name in names)}) FROM STDIN"
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(
                [process(row[n]) if process else row[n] for n, process in zip(names, processors, strict=True)]
            )


def _chunks(rows: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    return (rows[start : start + size] for start in range(0, len(rows), size))
