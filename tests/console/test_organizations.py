"""Two organizations on one instance never see each other: every console (and simulator) route,
walked from the app's URL map so a new one cannot be forgotten, asked by an admin of one
organization with the other's ids, numbers, codes and emails, answers 404 (exactly as for a
record that does not exist) or a page, CSV or JSON with nothing of the other's in it, and
changes nothing of the other's. The same walk runs the other way round; and each admin's own
pages show their own organization's people, so the walk can fail.

Each organization is seeded (volunteers, friends, reports, texts, teams, events, inbox
threads, ideas, email addresses), then given one of each record a route takes an id of, and
every name, text and address in it is marked with a word of its own, so a leak shows as the
other organization's word (or number, or email, full or masked) on a page."""

from __future__ import annotations

import csv
import io
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from gateway import clock, create_app
from gateway.community import (
    events,
    ideas,
    inbox,
    organization,
    organizers,
    prompts,
    round_previews,
    rounds,
    seeding,
    teams,
    tips,
)
from gateway.community.exports import EXPORTS
from gateway.delivery.addresses import redact
from gateway.extensions import db, redis_client
from gateway.models import (
    Address,
    AuditEntry,
    Base,
    ConsentEvent,
    ConversationReport,
    EmailSignup,
    Event,
    Friend,
    Idea,
    Invitation,
    Mailing,
    Message,
    Organization,
    Organizer,
    Person,
    Prompt,
    PromptRound,
    Rsvp,
    Team,
    TeamMember,
)
from tests.conftest import app_config, email_config
from tests.console.test_access import console_rules
from tests.doubles.servers import RedisServer
from tests.support import PASSWORD, Browser, SettableClock, csrf_token, organizer, sign_in

SEEDED = 12  # volunteers per organization: enough for teams, referrals and threads, and quick

LOCAL_URL = "http://127.0.0.1:5000"


@dataclass
class Side:
    """One organization as the walk uses it: its word, its records' ids, and what of it must
    never be shown to the other's organizers."""

    org_id: int
    word: str  # in every name and text of theirs
    admin: str  # the admin's email
    person: int = 0
    phone: str = ""
    email: str = ""
    thread: int = 0
    unmatched: int = 0
    event: int = 0
    proposed: int = 0
    prompt: int = 0
    tip: int = 0
    idea: int = 0
    round: int = 0
    mailing: int = 0
    sent_email: int = 0
    team: int = 0
    team_code: str = ""
    organizer: int = 0  # an organizer a thread may be assigned to
    preview: str = ""
    contacts: list[str] = field(default_factory=list)  # every phone number and email of theirs
    secrets: list[str] = field(default_factory=list)


def _mark(org: Organization, word: str, numbers: str) -> None:
    """Every name and text of the organization carries `word`; its numbers are its own
    (`numbers` and three digits: seven digits of it, so the last four, all a masked number
    shows, are their own too) and its emails start with the word."""
    for model, column, value in (
        (Person, "name", lambda row: f"{word} P{row.id}"),
        (Friend, "name", lambda row: f"{word} F{row.id}"),
        (Team, "name", lambda row: f"{word} T{row.id}"),
        (Event, "title", lambda row: f"{word} E{row.id}"),
        (Idea, "body", lambda row: f"{word} idea {row.id}: ask about the park"),
        (ConversationReport, "learned", lambda row: f"{word} worries about bus fares"),
    ):
        for row in db.session.scalars(select(model).where(model.organization_id == org.id)):
            setattr(row, column, value(row))
    for message in db.session.scalars(select(Message).where(Message.organization_id == org.id)):
        message.body = f"{word} says hello {message.id}"
        message.subject = f"{word} subject" if message.channel == "email" else ""
    db.session.execute(
        update(EmailSignup)
        .where(EmailSignup.organization_id == org.id)
        .values(phone_note=None)
        .execution_options(synchronize_session=False)
    )
    addresses = db.session.scalars(
        select(Address).where(Address.organization_id == org.id).order_by(Address.id)
    ).all()
    for n, address in enumerate(addresses):
        if address.channel == "sms" and address.value.startswith("+"):
            address.value = f"{numbers}{n:03d}"
        elif address.channel == "email" and "@" in address.value:
            address.value = f"{word.lower()}{address.id}@example.org"
    org.name = f"{word} Neighbors"


def build(org: Organization, word: str, numbers: str, seed: int) -> Side:
    """Seed the organization, add one of each record a route takes an id of, and mark it all."""
    now = clock.now()
    seeding.seed(org, SEEDED, random.Random(seed), now)
    db.session.flush()
    admin = organizer("admin", f"admin@{word.lower()}.example.org", org)
    organizer("organizer", f"helper@{word.lower()}.example.org", org)
    person = db.session.scalars(
        select(Person)
        .join(Address, Address.person_id == Person.id)
        .where(
            Person.organization_id == org.id, Person.volunteer_since.is_not(None), Address.channel == "sms"
        )
        .order_by(Person.id)
    ).first()
    assert person is not None
    sms = db.session.scalars(
        select(Address).where(Address.person_id == person.id, Address.channel == "sms")
    ).first()
    assert sms is not None
    question = Message(
        organization_id=org.id, direction="inbound", channel="sms", address_id=sms.id, body="?",
        status="received",
    )  # fmt: skip
    db.session.add(question)
    db.session.flush()
    thread = inbox.keep(question, person)
    stranger = Address(organization_id=org.id, channel="email", value=f"{word.lower()}-stranger@example.org")
    db.session.add(stranger)
    db.session.flush()
    unmatched = Message(
        organization_id=org.id, direction="inbound", channel="email", address_id=stranger.id, body="?",
        status="received",
    )  # fmt: skip
    db.session.add(unmatched)
    inbox.keep_unmatched(unmatched)
    team = teams.create(org, "team", teams.unused_code(org), person, None, now)
    event = events.create(org, events.EventDraft("picnic", now + timedelta(days=7)), now)
    db.session.add(Rsvp(event_id=event.id, person_id=person.id))
    proposed = Event(
        organization_id=org.id, title="proposal", starts_at=now + timedelta(days=9), status="proposed",
        team_id=team.id, proposed_by_id=person.id,
    )  # fmt: skip
    db.session.add(proposed)
    prompt = prompts.create(org, {"key": f"{word.lower()}-prompt", "body": "Ask {friend} about the park."})
    tip = tips.create(org, {"key": f"{word.lower()}-tip", "body": f"{word} says: listen first."})
    idea = ideas.share(org, person, "an idea", None)
    prompt_round = PromptRound(organization_id=org.id, audience="all", status="paused", planned=1)
    mailing = Mailing(
        organization_id=org.id, audience="all", subject=f"{word} news", body=f"{word} news", status="done"
    )
    db.session.add_all([prompt_round, mailing])
    email = Address(organization_id=org.id, person_id=person.id, channel="email", value="x@example.org")
    db.session.add(email)
    db.session.flush()
    sent = Message(
        organization_id=org.id, direction="outbound", channel="email", address_id=email.id, body="news",
        subject="news", status="delivered", reason="mailing", mailing_id=mailing.id,
    )  # fmt: skip
    db.session.add(sent)
    db.session.flush()
    _mark(org, word, numbers)
    db.session.commit()
    helper = db.session.scalars(
        select(Organizer).where(Organizer.email == f"helper@{word.lower()}.example.org")
    )
    side = Side(
        org_id=org.id, word=word, admin=admin, person=person.id, phone=sms.value, email=email.value,
        thread=thread.id if thread else 0, unmatched=unmatched.id, event=event.id, proposed=proposed.id,
        prompt=prompt.id, tip=tip.id, idea=idea.id, round=prompt_round.id, mailing=mailing.id,
        sent_email=sent.id, team=team.id, team_code=team.join_code, organizer=helper.one().id,
    )  # fmt: skip
    side.preview = round_previews.ask(org, rounds.Audience("all"), None).id
    db.session.commit()
    phones = db.session.scalars(
        select(Address.value).where(Address.organization_id == org.id, Address.value.like("+%"))
    ).all()
    emails = db.session.scalars(
        select(Address.value).where(Address.organization_id == org.id, Address.value.like("%@%"))
    ).all()
    side.contacts = [*phones, *emails]
    side.secrets = [
        word,
        *phones,
        *(phone[1:] for phone in phones),  # as a URL writes "+" (%2B)
        *map(redact, phones),
        *emails,
        *map(redact, emails),
        org.phone,
    ]
    return side


@dataclass(frozen=True)
class Ask:
    """One request of the walk, and the status it must get."""

    path: str
    status: int
    data: dict[str, str] | None = None  # a form, sent with the session's CSRF token
    json: dict[str, Any] | None = None

    def carries(self, text: str) -> bool:
        """Whether the request itself names `text` (a page may show what was asked)."""
        asked = f"{self.path} {self.data or ''} {self.json or ''}".lower()
        return text.lower() in asked


Asks = Callable[[Side, Side], list[Ask]]


def _event_form(title: str = "moved") -> dict[str, str]:
    return {"title": title, "starts_at": "2031-05-01 18:00", "location": "", "capacity": ""}


def _mail_form(audience: str) -> dict[str, str]:
    """A confirmed email to `audience`, as the preview's form sends it."""
    previewed = clock.now().isoformat()
    return {
        "audience": audience,
        "subject": "s",
        "body": "b",
        "previewed_at": previewed,
        "expected": "1",
        "count": "1",
    }


def _settings_form(me: Side) -> dict[str, str]:
    form = {
        "name": f"{me.word} Neighbors", "contact": "", "phone": "", "help_text": "Office hours Mon-Fri",
        "frequency": "About 3 msgs/week", "timezone": "America/New_York", "window_start": "9",
        "window_end": "20", "daily_cap": "1", "weekly_cap": "4", "interests": "rent",
    }  # fmt: skip
    return form


# Every console and simulator route, with what an admin of `me` asks of it naming `other`'s
# records, and what it must answer. A route missing here fails the walk.
ROUTES: dict[tuple[str, str], Asks] = {
    ("console.dashboard", "GET"): lambda me, other: [Ask("/console/", 200)],
    ("console.audit_log", "GET"): lambda me, other: [Ask("/console/audit", 200)],
    ("console.consent", "GET"): lambda me, other: [
        Ask(f"/console/consent?address={other.phone}", 200),
        Ask(f"/console/consent?address={other.email}", 200),
    ],
    ("console.consent_opt_out", "POST"): lambda me, other: [
        Ask("/console/consent/opt-out", 404, {"address": other.phone, "reason": "they called"}),
        Ask("/console/consent/opt-out", 404, {"address": other.email, "reason": "they called"}),
    ],
    ("console.events", "GET"): lambda me, other: [Ask("/console/events", 200)],
    ("console.create_event", "POST"): lambda me, other: [Ask("/console/events", 302, _event_form("ours"))],
    ("console.event", "GET"): lambda me, other: [
        Ask(f"/console/events/{other.event}", 404),
        Ask(f"/console/events/{other.proposed}", 404),
    ],
    ("console.edit_event", "POST"): lambda me, other: [
        Ask(f"/console/events/{other.event}", 404, _event_form())
    ],
    ("console.review_event", "POST"): lambda me, other: [
        Ask(f"/console/events/{other.proposed}/review", 404, {"decision": "approve"})
    ],
    ("console.exports_page", "GET"): lambda me, other: [Ask("/console/exports", 200)],
    ("console.export_download", "GET"): lambda me, other: [
        Ask(f"/console/exports/download?kind={kind}", 200) for kind in EXPORTS
    ],
    ("console.inbox", "GET"): lambda me, other: [
        Ask(f"/console/inbox?show={show}", 200) for show in inbox.FILTERS
    ],
    ("console.thread", "GET"): lambda me, other: [Ask(f"/console/inbox/{other.thread}?confirm=1", 404)],
    ("console.answer_thread", "POST"): lambda me, other: [
        Ask(f"/console/inbox/{other.thread}/answer", 404, {"body": "hello", "channel": "sms"})
    ],
    ("console.assign_thread", "POST"): lambda me, other: [
        Ask(f"/console/inbox/{other.thread}/assign", 404, {"to": str(me.organizer)}),
        Ask(f"/console/inbox/{me.thread}/assign", 400, {"to": str(other.organizer)}),
    ],
    ("console.thread_status", "POST"): lambda me, other: [
        Ask(f"/console/inbox/{other.thread}/status", 404, {"status": "done"})
    ],
    ("console.unmatched_done", "POST"): lambda me, other: [
        Ask(f"/console/inbox/unmatched/{other.unmatched}/done", 404, {})
    ],
    # Public: what they show depends on the token or the form, never on who is signed in.
    ("console.accept_invitation", "GET"): lambda me, other: [Ask("/console/invitation?token=none", 404)],
    ("console.accept_invitation", "POST"): lambda me, other: [Ask("/console/invitation?token=none", 404, {})],
    ("console.login", "GET"): lambda me, other: [Ask("/console/login", 302)],
    ("console.login", "POST"): lambda me, other: [
        Ask("/console/login", 401, {"email": other.admin, "password": "not theirs", "organization": "x"})
    ],
    ("console.static", "GET"): lambda me, other: [Ask("/console/static/console.css", 200)],
    ("console.login_code", "GET"): lambda me, other: [Ask("/console/login/code", 302)],
    ("console.login_code", "POST"): lambda me, other: [Ask("/console/login/code", 302, {"code": "123456"})],
    # One's own account: no id to give, nobody else's to reach.
    ("console.account", "GET"): lambda me, other: [Ask("/console/account", 200)],
    ("console.change_password", "POST"): lambda me, other: [Ask("/console/account/password", 400, {})],
    ("console.enable_two_factor", "POST"): lambda me, other: [Ask("/console/account/two-factor", 400, {})],
    ("console.disable_two_factor", "POST"): lambda me, other: [
        Ask("/console/account/two-factor/off", 302, {})
    ],
    ("console.learned", "GET"): lambda me, other: [
        Ask("/console/learned?phrase=bus+fares", 200),
        Ask("/console/learned?period=month&interest=rent", 200),
    ],
    ("console.logout", "POST"): lambda me, other: [Ask("/console/logout", 302, {})],
    ("console.mail_page", "GET"): lambda me, other: [Ask("/console/mail", 200)],
    ("console.mail_send", "POST"): lambda me, other: [
        Ask("/console/mail", 400, _mail_form(f"event:{other.event}"))
    ],
    ("console.mailing_page", "GET"): lambda me, other: [Ask(f"/console/mail/{other.mailing}", 404)],
    ("console.mail_preview", "POST"): lambda me, other: [
        Ask(
            "/console/mail/preview",
            400,
            {"kind": "event", "event": str(other.event), "subject": "s", "body": "b"},
        ),
        Ask(
            "/console/mail/preview",
            400,
            {"kind": "team", "team": other.team_code, "subject": "s", "body": "b"},
        ),
    ],
    ("console.network", "GET"): lambda me, other: [
        Ask("/console/network", 200),
        Ask(f"/console/network?team={other.team}", 404),
        Ask("/console/network?team=none", 200),
    ],
    ("console.organizers_page", "GET"): lambda me, other: [Ask("/console/organizers", 200)],
    # An email is unique within an organization only: theirs may be invited here too.
    ("console.organizers_page", "POST"): lambda me, other: [
        Ask("/console/organizers", 200, {"email": other.admin, "role": "viewer"})
    ],
    ("console.prompts_page", "GET"): lambda me, other: [Ask("/console/prompts", 200)],
    ("console.create_prompt", "POST"): lambda me, other: [
        Ask("/console/prompts", 303, {"key": "from-the-walk", "body": "Ask {friend} how the week went."})
    ],
    ("console.prompt_page", "GET"): lambda me, other: [Ask(f"/console/prompts/{other.prompt}", 404)],
    ("console.edit_prompt", "POST"): lambda me, other: [
        Ask(f"/console/prompts/{other.prompt}", 404, {"body": "Ask {friend} anything."})
    ],
    ("console.retire_prompt", "POST"): lambda me, other: [
        Ask(f"/console/prompts/{other.prompt}/retire", 404, {})
    ],
    ("console.restore_prompt", "POST"): lambda me, other: [
        Ask(f"/console/prompts/{other.prompt}/restore", 404, {})
    ],
    ("console.tips_page", "GET"): lambda me, other: [Ask("/console/prompts/tips", 200)],
    ("console.create_tip", "POST"): lambda me, other: [
        Ask("/console/prompts/tips", 303, {"key": "from-the-walk", "body": "Listen first.", "language": "en"})
    ],
    ("console.tip_page", "GET"): lambda me, other: [Ask(f"/console/prompts/tips/{other.tip}", 404)],
    ("console.edit_tip", "POST"): lambda me, other: [
        Ask(f"/console/prompts/tips/{other.tip}", 404, {"body": "Listen.", "language": "en"})
    ],
    ("console.retire_tip", "POST"): lambda me, other: [
        Ask(f"/console/prompts/tips/{other.tip}/retire", 404, {})
    ],
    ("console.restore_tip", "POST"): lambda me, other: [
        Ask(f"/console/prompts/tips/{other.tip}/restore", 404, {})
    ],
    ("console.idea_page", "GET"): lambda me, other: [
        Ask(f"/console/prompts/ideas/{other.idea}?confirm=1", 404)
    ],
    ("console.adopt_idea", "POST"): lambda me, other: [
        Ask(f"/console/prompts/ideas/{other.idea}/adopt", 404, {"key": "adopted", "body": "Ask {friend}."})
    ],
    ("console.dismiss_idea", "POST"): lambda me, other: [
        Ask(f"/console/prompts/ideas/{other.idea}/dismiss", 404, {})
    ],
    ("console.new_prompt", "GET"): lambda me, other: [Ask("/console/prompts/new", 200)],
    ("console.preview_prompt", "POST"): lambda me, other: [
        Ask("/console/prompts/preview", 200, {"key": "x", "body": "Ask {friend}."})
    ],
    ("console.rounds_page", "GET"): lambda me, other: [Ask("/console/rounds", 200)],
    ("console.round_send", "POST"): lambda me, other: [
        Ask("/console/rounds", 400, {"preview": other.preview, "count": "0"})
    ],
    ("console.round_page", "GET"): lambda me, other: [Ask(f"/console/rounds/{other.round}", 404)],
    ("console.round_progress", "GET"): lambda me, other: [
        Ask(f"/console/rounds/{other.round}/progress", 404)
    ],
    ("console.round_status", "POST"): lambda me, other: [
        Ask(f"/console/rounds/{other.round}/status", 404, {"action": "cancel"})
    ],
    ("console.round_preview", "POST"): lambda me, other: [
        Ask("/console/rounds/preview", 400, {"kind": "team", "team": other.team_code})
    ],
    ("console.round_preview_page", "GET"): lambda me, other: [
        Ask(f"/console/rounds/preview/{other.preview}", 404)
    ],
    ("console.settings", "GET"): lambda me, other: [Ask("/console/settings", 200)],
    ("console.settings", "POST"): lambda me, other: [Ask("/console/settings", 302, _settings_form(me))],
    ("console.teams_page", "GET"): lambda me, other: [Ask("/console/teams", 200)],
    ("console.team", "GET"): lambda me, other: [Ask(f"/console/teams/{other.team}", 404)],
    ("console.team_lead", "POST"): lambda me, other: [
        Ask(f"/console/teams/{other.team}/lead", 404, {"person": str(other.person), "lead": "1"}),
        Ask(f"/console/teams/{me.team}/lead", 400, {"person": str(other.person), "lead": "1"}),
    ],
    ("console.volunteers", "GET"): lambda me, other: [
        Ask(f"/console/volunteers?team={other.team}", 200),
        Ask(f"/console/volunteers?q={other.phone[-7:]}", 200),
        Ask("/console/volunteers?stage=listed", 200),
    ],
    ("console.volunteer", "GET"): lambda me, other: [Ask(f"/console/volunteers/{other.person}", 404)],
    ("console.erase_volunteer", "POST"): lambda me, other: [
        Ask(f"/console/volunteers/{other.person}/erase", 404, {"confirm": "ERASE"})
    ],
    ("simulator.page", "GET"): lambda me, other: [Ask("/simulator", 200)],
    ("simulator.send", "POST"): lambda me, other: [
        Ask("/simulator/send", 202, json={"phone": other.phone, "body": "HELP"})
    ],
    ("simulator.thread", "POST"): lambda me, other: [
        Ask("/simulator/thread", 200, json={"phone": other.phone})
    ],
    ("simulator.mailbox", "GET"): lambda me, other: [Ask("/simulator/mail", 200)],
    ("simulator.mail_messages", "POST"): lambda me, other: [
        Ask("/simulator/mail/messages", 200, json={"email": other.email})
    ],
    ("simulator.mail_reply", "POST"): lambda me, other: [
        Ask(
            "/simulator/mail/reply",
            404,
            json={"email": other.email, "message": other.sent_email, "body": "hi"},
        )
    ],
}

# The same routes with one's own ids: each page shows one's own organization's records.
OWN_PAGES: list[Callable[[Side], str]] = [
    lambda me: "/console/",
    lambda me: "/console/volunteers",
    lambda me: f"/console/volunteers/{me.person}",
    lambda me: "/console/network",
    lambda me: f"/console/network?team={me.team}",
    lambda me: "/console/inbox?show=all",
    lambda me: f"/console/inbox/{me.thread}?confirm=1",
    lambda me: "/console/inbox?show=unmatched",
    lambda me: "/console/prompts",
    lambda me: f"/console/prompts/{me.prompt}",
    lambda me: "/console/prompts/tips",
    lambda me: f"/console/prompts/tips/{me.tip}",
    lambda me: f"/console/prompts/ideas/{me.idea}?confirm=1",
    lambda me: "/console/mail",
    lambda me: f"/console/mail/{me.mailing}",
    lambda me: "/console/events",
    lambda me: f"/console/events/{me.event}",
    lambda me: f"/console/events/{me.proposed}",
    lambda me: "/console/teams",
    lambda me: f"/console/teams/{me.team}",
    lambda me: "/console/learned?phrase=bus+fares",
    lambda me: "/console/organizers",
    lambda me: "/console/audit",
    lambda me: "/console/settings",
    lambda me: "/console/account",
    lambda me: "/console/exports/download?kind=volunteers",
    lambda me: "/console/exports/download?kind=friends",
]
OWN_FOUND = [
    lambda me: f"/console/rounds/{me.round}",
    lambda me: f"/console/rounds/{me.round}/progress",
    lambda me: f"/console/rounds/preview/{me.preview}",
    lambda me: f"/console/consent?address={me.phone}",
]


def snapshot(org_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the organization has (but its audit log, which records sign-ins), to show
    nothing of it changed."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for table in Base.metadata.sorted_tables:
        if "organization_id" in table.c and table.name != "audit_entry":
            query = (
                select(table).where(table.c.organization_id == org_id).order_by(*table.primary_key.columns)
            )
            rows[table.name] = [tuple(row) for row in db.session.execute(query)]
    rows["organization"] = [
        tuple(db.session.execute(select(Organization.__table__).where(Organization.id == org_id)))
    ]
    rows["team_member"] = [
        tuple(row)
        for row in db.session.execute(
            select(TeamMember.__table__)
            .join(Team.__table__)
            .where(Team.organization_id == org_id)
            .order_by(TeamMember.id)
        )
    ]
    return rows


def walk(browser: FlaskClient, me: Side, other: Side) -> None:
    """Ask every route, as an admin of `me`, about `other`'s records (see module)."""
    token = csrf_token(browser, "/console/")
    browser.environ_base["HTTP_X_CSRFTOKEN"] = token  # as the simulator's page sends its JSON
    for path in (page(me) for page in OWN_PAGES):
        response = browser.get(path)
        assert response.status_code == 200, path
        assert me.word.lower() in response.get_data(as_text=True).lower(), f"nothing of our own on {path}"
    for path in (page(me) for page in OWN_FOUND):
        assert browser.get(path).status_code == 200, path
    assert "No record of" not in browser.get(f"/console/consent?address={me.phone}").get_data(as_text=True)
    ordered = sorted(ROUTES.items(), key=lambda item: item[0] == ("console.logout", "POST"))
    for (endpoint, method), asks in ordered:
        for ask in asks(me, other):
            form = None if ask.data is None else {**ask.data, "csrf_token": token}
            response = browser.open(ask.path, method=method, data=form, json=ask.json)
            where = f"{me.word} {method} {ask.path}"
            assert response.status_code == ask.status, f"{where}: {response.status_code}"
            page = response.get_data(as_text=True).lower()
            shown = [secret for secret in other.secrets if secret.lower() in page and not ask.carries(secret)]
            assert shown == [], f"{where} shows {other.word}'s {shown}"
            if endpoint == "console.consent":
                assert "no record of" in page, where
            if endpoint == "console.export_download":
                assert _contacts(response.get_data(as_text=True)) <= set(me.contacts), where


def _contacts(csv_text: str) -> set[str]:
    """The phone numbers and emails in an export's address columns."""
    columns = ("address", "phone", "volunteer_phone")
    return {row[c] for row in csv.DictReader(io.StringIO(csv_text)) for c in columns if row.get(c)}


@pytest.fixture
def console(
    database_url: str, redis_server: RedisServer, clock: SettableClock, tmp_path: Path
) -> Iterator[Flask]:
    """The app with the simulator's phone and mailbox on too, so every route is mounted."""
    config = {
        **app_config(database_url, redis_server.url, "", tmp_path),
        **email_config("", ""),
        "SMS_TRANSPORT": "simulator",
        "EMAIL_TRANSPORT": "simulator",
        "PUBLIC_BASE_URL": LOCAL_URL,  # the simulator serves only a machine of one's own
        "CLOCK": clock,
    }
    app = create_app(config)
    app.test_client_class = Browser
    with app.app_context():
        redis_client().flushdb()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_two_organizations_never_see_each_others_people_messages_or_exports(console: Flask) -> None:
    with console.app_context():
        first = build(organization.default(), "Oakfield", "+14155551", seed=1)
        second = build(
            organization.create("pinecrest", "Pinecrest", "+15005550009", "America/Chicago"),
            "Pinecrest",
            "+12125552",
            2,
        )
        db.session.commit()
    walked = {(rule.endpoint, method) for rule, method in console_rules(console)}
    assert walked == set(ROUTES), f"routes not walked: {walked - set(ROUTES)}; gone: {set(ROUTES) - walked}"
    browsers = {}
    for side in (first, second):
        browsers[side.word] = console.test_client()
        assert sign_in(browsers[side.word], side.admin).status_code == 302
    for me, other in ((first, second), (second, first)):
        with console.app_context():
            before = snapshot(other.org_id)
        walk(browsers[me.word], me, other)
        with console.app_context():
            assert snapshot(other.org_id) == before, f"{me.word}'s walk changed {other.word}'s records"
    with console.app_context():  # what each walk did went to its own organization
        for side in (first, second):
            org = db.session.get(Organization, side.org_id)
            assert org is not None and org.help_text == "Office hours Mon-Fri"
            assert db.session.scalar(
                select(Event.id).where(Event.organization_id == side.org_id, Event.title == "ours")
            )
        invited = db.session.scalars(select(Invitation.organization_id)).all()
        assert sorted(invited) == sorted([first.org_id, second.org_id])
        assert not db.session.scalar(select(ConsentEvent.id).where(ConsentEvent.source == "organizer"))


def kindred(app: Flask, *args: str, input: str | None = None) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    return result.exit_code, result.output


def second_organization(app: Flask) -> Organization:
    code, output = kindred(app, "org", "create", "--slug", "pinecrest", "--name", "Pinecrest Neighbors",
                           "--phone", "(500) 555-0009")  # fmt: skip
    assert code == 0, output
    org = organization.by_slug("pinecrest")
    assert org is not None
    return org


def test_the_organization_field_is_asked_only_when_the_instance_serves_several(console: Flask) -> None:
    browser = console.test_client()
    organization.default()
    db.session.commit()
    assert 'name="organization"' not in browser.get("/console/login").get_data(as_text=True)
    second_organization(console)
    assert 'name="organization"' in browser.get("/console/login").get_data(as_text=True)


def test_an_email_with_accounts_in_two_organizations_signs_in_to_the_right_one(console: Flask) -> None:
    first, second = organization.default(), second_organization(console)
    organizer("admin", "dana@example.org", first)
    other_password = "a different long passphrase"
    organizers.create(second, "dana@example.org", other_password, "admin")
    db.session.commit()

    def organization_name(browser: FlaskClient) -> str:
        page = browser.get("/console/settings").get_data(as_text=True)
        found = re.search(r'name="name"[^>]*value="([^"]+)"', page)
        assert found, page
        return found.group(1)

    for password, name in ((PASSWORD, "Eastside Neighbors"), (other_password, "Pinecrest Neighbors")):
        browser = console.test_client()
        assert sign_in(browser, "dana@example.org", password).status_code == 302
        assert organization_name(browser) == name
    theirs = organizers.find(second, "dana@example.org")
    assert theirs is not None
    organizers.set_password(theirs, PASSWORD)
    db.session.commit()
    browser = console.test_client()
    same = sign_in(browser, "dana@example.org")  # the password opens both: which one?
    assert same.status_code == 400 and "more than one organization" in same.get_data(as_text=True)
    assert browser.get("/console/").status_code == 302
    assert sign_in(browser, "dana@example.org", organization="nowhere").status_code == 401
    assert sign_in(browser, "dana@example.org", organization="pinecrest").status_code == 302
    assert organization_name(browser) == "Pinecrest Neighbors"
    wrong = sign_in(console.test_client(), "dana@example.org", "not it at all", organization="pinecrest")
    assert wrong.status_code == 401
    db.session.rollback()
    failed = db.session.scalars(select(AuditEntry.organization_id).where(AuditEntry.action == "login_failed"))
    assert sorted(failed) == [first.id, second.id]  # "nowhere" to the first; a wrong password to its own


def test_kindred_org_create_makes_an_organization_with_its_own_number_and_prompts(app: Flask) -> None:
    first = organization.default()
    db.session.commit()
    second = second_organization(app)
    assert (second.name, second.phone) == ("Pinecrest Neighbors", "+15005550009")
    assert db.session.scalars(select(Prompt.id).where(Prompt.organization_id == second.id)).first()
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "organization_created")).one()
    assert entry.organization_id == second.id and entry.actor.endswith("(command line)")
    code, output = kindred(app, "org", "list")
    assert output.splitlines()[0].startswith(f"{first.slug}\t") and "pinecrest\tPinecrest Neighbors" in output
    for args, complaint in (
        (["--slug", "pinecrest", "--name", "Again"], "already"),
        (["--slug", "Not A Slug!", "--name", "X"], "lower-case"),
        (["--slug", "third", "--name", "X", "--phone", "+15005550006"], "each needs its own number"),
        (["--slug", "third", "--name", "X", "--phone", "call us"], "phone"),
        (["--slug", "third", "--name", "X", "--timezone", "Mars/Base"], "time zone"),
    ):
        code, output = kindred(app, "org", "create", *args)
        assert code != 0 and complaint in output, (args, output)
    assert kindred(app, "org", "show", "--org", "pinecrest")[1].startswith("name: Pinecrest Neighbors")
    assert kindred(app, "org", "set", "--org", "pinecrest", "--contact", "Call Jo")[0] == 0
    db.session.rollback()
    assert (second.contact, first.contact) == ("Call Jo", "organizers@eastside.example.org")
    code, output = kindred(app, "org", "show", "--org", "nowhere")
    assert code != 0 and "no organization 'nowhere'" in output


def test_an_invitation_from_the_command_line_joins_its_organization(console: Flask) -> None:
    second = second_organization(console)
    code, link = kindred(
        console, "organizer", "invite", "jo@example.org", "--role", "admin", "--org", "pinecrest"
    )
    assert code == 0 and link.startswith(f"{LOCAL_URL}/console/invitation?token="), link
    path = link.strip().removeprefix(LOCAL_URL)
    browser = console.test_client()
    form = {"name": "Jo", "password": PASSWORD, "csrf_token": csrf_token(browser, path)}
    assert browser.post(path, data=form).status_code == 302
    assert "Pinecrest Neighbors" in browser.get("/console/settings").get_data(as_text=True)
    db.session.rollback()
    jo = db.session.scalars(select(Organizer).where(Organizer.email == "jo@example.org")).one()
    assert jo.organization_id == second.id
    actions = db.session.execute(select(AuditEntry.action, AuditEntry.organization_id)).all()
    assert ("invitation_made", second.id) in actions and ("invitation_accepted", second.id) in actions
    code, output = kindred(console, "organizer", "create", "jo@example.org", "--role", "viewer",
                           "--password-stdin", input=PASSWORD + "\n")  # fmt: skip
    assert code == 0, output  # the first organization has no Jo: emails are unique per organization
    assert kindred(console, "organizer", "disable", "jo@example.org", "--org", "pinecrest")[0] == 0
    db.session.rollback()
    assert [o.active for o in db.session.scalars(select(Organizer).order_by(Organizer.id))] == [True, False][
        ::-1
    ]


def test_kindred_export_writes_one_organizations_rows(app: Flask) -> None:
    second = second_organization(app)
    for org, number in ((organization.default(), "+15555550101"), (second, "+15555550202")):
        person = Person(organization_id=org.id, name="Vol", volunteer_since=clock.now())
        db.session.add(person)
        db.session.flush()
        db.session.add(Address(organization_id=org.id, person_id=person.id, channel="sms", value=number))
    db.session.commit()
    assert _contacts(kindred(app, "export", "volunteers")[1]) == {"+15555550101"}
    assert _contacts(kindred(app, "export", "volunteers", "--org", "pinecrest")[1]) == {"+15555550202"}
