"""What a transaction leaves for the job queue once it commits.

Code that writes an outbox row, defers one, or schedules a follow-up notes it here, in the
session. `gateway.jobs`, the one place that talks to the queue, hands everything noted over
right after the commit and forgets it on a rollback. So no producer can forget to enqueue,
and nothing is enqueued that was not committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from gateway.extensions import db

# Messages are waiting in the outbox: wake the worker's senders, which claim due rows from the
# table (row_id names one, for the log). A lost wake-up delays a message by one poll at most.
SEND = "send_message"
# An inbound text is stored: wake the worker, whose senders answer it (row_id: the text's id).
ANSWER = "answer_text"
WAKES_SENDERS = frozenset({SEND, ANSWER})
FOLLOW_UP = "send_follow_up"
ROUND_PREVIEW = "plan_round_preview"  # row_id: a stored preview's id (gateway.community.round_previews)
ROUND_START = "start_round"
_KEY = "kindred.handoff"


@dataclass(frozen=True)
class Handoff:
    """One job to queue after the commit: which job, for which row, and when (None: now)."""

    job: str
    row_id: int | str
    at: datetime | None = None


def after_commit(job: str, row_id: int | str, at: datetime | None = None) -> None:
    """Queue `job` for `row_id` once the current transaction commits."""
    db.session.info.setdefault(_KEY, []).append(Handoff(job, row_id, at))


def take(session: Session) -> list[Handoff]:
    """Everything noted in `session` since its last commit or rollback, now forgotten there."""
    return session.info.pop(_KEY, [])
