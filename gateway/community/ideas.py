"""Conversation ideas volunteers text in (`IDEA ...`): the review queue, adopting an idea into
the prompt library (credited to its volunteer) or dismissing it, and telling the volunteer,
once, that theirs was adopted. Every review is audited, without the idea's text."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from flows import events as ev
from gateway import clock
from gateway.community import audit, prompts
from gateway.extensions import db
from gateway.models import Idea, Message, Organization, Organizer, Person, Prompt

PENDING, ADOPTED, DISMISSED = "pending", "adopted", "dismissed"
QUEUE_LIMIT = 200


class IdeaError(ValueError):
    """An idea cannot be reviewed as asked (someone else already did)."""


def share(org: Organization, person: Person, text: str, inbound: Message | None) -> Idea:
    """Queue an idea a volunteer texted (its contacts already masked by the flow)."""
    idea = Idea(
        organization_id=org.id,
        person_id=person.id,
        body=text,
        language=person.language,
        message_id=inbound.id if inbound else None,
    )
    db.session.add(idea)
    return idea


def queue(org: Organization) -> list[tuple[Idea, Person]]:
    """The ideas waiting for review, oldest first, with who sent each."""
    rows = db.session.execute(
        select(Idea, Person)
        .join(Person, Person.id == Idea.person_id)
        .where(Idea.organization_id == org.id, Idea.status == PENDING)
        .order_by(Idea.created_at, Idea.id)
        .limit(QUEUE_LIMIT)
    )
    return [(idea, person) for idea, person in rows]


def find(org: Organization, idea_id: int, lock: bool = False) -> Idea | None:
    """The organization's idea `idea_id`, locked for review if `lock`."""
    query = select(Idea).where(Idea.id == idea_id, Idea.organization_id == org.id)
    return db.session.scalar(query.with_for_update() if lock else query)


def adopt(
    org: Organization,
    idea: Idea,
    item: Mapping[str, Any],
    organizer: Organizer | None,
    actor: str = "",
    ip: str = "",
) -> Prompt:
    """Add the idea, as the organizer edited it into a prompt, to the library, credited to the
    volunteer (the caller commits). PromptError if the prompt is invalid, IdeaError if the idea
    was reviewed already."""
    _pending(idea)
    prompt = prompts.create(org, item, credited_person_id=idea.person_id)
    _reviewed(idea, ADOPTED, organizer)
    idea.prompt_id = prompt.id
    audit.record(org, "idea_adopted", organizer, ip=ip, actor=actor, idea=idea.id, key=prompt.key)
    return prompt


def dismiss(
    org: Organization, idea: Idea, organizer: Organizer | None, actor: str = "", ip: str = ""
) -> None:
    """Take the idea off the queue without adopting it (the caller commits)."""
    _pending(idea)
    _reviewed(idea, DISMISSED, organizer)
    audit.record(org, "idea_dismissed", organizer, ip=ip, actor=actor, idea=idea.id)


def notices(person: Person) -> list[ev.Notice]:
    """News for `person`: each idea of theirs adopted since they were last told."""
    query = select(Idea.id).where(Idea.person_id == person.id, Idea.status == ADOPTED, Idea.told_at.is_(None))
    return [
        ev.Notice(ev.NoticeKind.IDEA_ADOPTED, "", idea_id)
        for idea_id in db.session.scalars(query.order_by(Idea.id))
    ]


def count(person: Person) -> int:
    """How many ideas the person shared that are kept."""
    query = select(func.count()).select_from(Idea).where(Idea.person_id == person.id)
    return db.session.scalar(query) or 0


def mark_told(person: Person, idea_ids: list[int], now: datetime) -> None:
    """The person was told these ideas of theirs were adopted."""
    db.session.execute(
        update(Idea)
        .where(Idea.id.in_(idea_ids), Idea.person_id == person.id, Idea.told_at.is_(None))
        .values(told_at=now)
        .execution_options(synchronize_session=False)
    )


def _pending(idea: Idea) -> None:
    if idea.status != PENDING:
        raise IdeaError(f"This idea was already {idea.status}; nothing was changed.")


def _reviewed(idea: Idea, status: str, organizer: Organizer | None) -> None:
    idea.status = status
    idea.reviewed_by_id = organizer.id if organizer else None
    idea.reviewed_at = clock.now()
