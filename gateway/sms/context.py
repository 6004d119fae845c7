"""What the flows know about a person and the organization at the start of a turn: their
friends and which prompts each has had, consent, team, upcoming events, their shared ideas, their
email addresses, the prompt library, and the coaching tips when the text asks for one (TIPS, or
"more" and "otro", which right after a tip ask for the next), as the plain values of flows.events."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from flows import events as ev
from flows import keywords, profile
from flows import teams as team_flows
from gateway import clock
from gateway.community import events, ideas, members, organization, teams, tips
from gateway.community import friends as friend_services
from gateway.community import prompts as prompt_library
from gateway.config import email_on
from gateway.delivery import consent, outbox
from gateway.delivery.addresses import timezone_for_zip
from gateway.extensions import db
from gateway.models import Address, ConversationReport, Friend, Organization, Person, PromptUse


def context(
    org: Organization, person: Person, address: Address, friends: list[Friend], text: str = ""
) -> ev.Context:
    """What the flows know about this person and the organization right now. `text` is the
    inbound text, if a text started the turn: a team join code in it is looked up, and a text
    that starts a team gets an unused join code set aside."""
    now = clock.now()
    used: dict[int, set[int]] = {f.id: set() for f in friends}
    if friends:
        rows = db.session.execute(
            select(PromptUse.friend_id, PromptUse.prompt_id).where(PromptUse.friend_id.in_(used))
        )
        for friend_id, prompt_id in rows:
            used[friend_id].add(prompt_id)
    reports = db.session.scalar(
        select(func.count())
        .select_from(ConversationReport)
        .where(ConversationReport.volunteer_id == person.id)
    )
    return ev.Context(
        organization=ev.Organization(
            org.name,
            org.contact,
            org.frequency,
            tuple(org.interests or ()) or ev.DEFAULT_INTERESTS,
            organization.display_number(org.phone),
            org.help_text,
            current_app.config["DEFAULT_REGION"],
        ),
        now=now,
        consent=consent.status(address),
        name=person.name,
        friends=tuple(friend_services.view(f, used[f.id]) for f in friends),
        prompts=prompt_library.Library(org.id),
        language=person.language,
        timezone=person.timezone or org.timezone,
        joined_at=person.volunteer_since,
        referral_code=person.referral_code,
        report_count=reports or 0,
        team=teams.view(person, address, now),
        joining=teams.joining(org, team_flows.join_code_in(text)),
        zip_timezone=timezone_for_zip(zip_code) if (zip_code := _zip_command(text)) else None,
        new_team_code=teams.unused_code(org) if team_flows.starts_team(text) else None,
        events=events.upcoming(org, person, now),
        ideas_shared=ideas.count(person),
        notices=(*teams.notices(person), *events.notices(person), *ideas.notices(person)) if text else (),
        emails=members.emails_of(person),
        email_on=email_on(current_app.config),
        opt_out_confirmed_at=outbox.last_queued(address, str(ev.ReplyKind.OPT_OUT_CONFIRMATION)),
        tips=tips.for_volunteer(org.id, person.id) if _asks_for_tips(text) else (),
    )


def _zip_command(text: str) -> str | None:
    command = keywords.parse_command(text)
    return profile.zip_in(command.rest) if command and command.name == "zip" else None


def _asks_for_tips(text: str) -> bool:
    """Whether `text` may ask for a tip: TIPS, or "more" that asks for another right after one."""
    return _command(text) == "tips" or keywords.asks_for_another(text)


def _command(text: str) -> str | None:
    """The name of the command `text` gives, if any: what it asks for is looked up only then."""
    command = keywords.parse_command(text)
    return command.name if command else None
