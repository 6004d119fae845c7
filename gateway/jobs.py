"""RQ entry points. Each takes ids, is idempotent, and declares its queue and timeout here.

The worker runs inside the app context (see `kindred worker`); each job gets a fresh database
session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import update_wrapper
from typing import Any

from rq import Retry
from rq.job import Job

from gateway import clock, followups, outbox, privacy, provider_status, reminders
from gateway.extensions import MAINTENANCE_QUEUE, OUTBOX_QUEUE, db, queue

log = logging.getLogger(__name__)
SWEEP_EVERY = timedelta(minutes=1)


@dataclass
class JobSpec:
    """A function run by RQ, with where and how long it runs."""

    func: Callable[..., Any]
    queue: str
    timeout: int
    retry: Retry | None = None

    def __call__(self, *args: Any) -> Any:
        try:
            return self.func(*args)
        finally:
            db.session.remove()

    @property
    def path(self) -> str:
        """Where RQ finds this job: by name, so nothing but ids is pickled."""
        return f"{self.func.__module__}.{self.func.__name__}"

    def enqueue(self, *args: Any, job_id: str | None = None) -> Job:
        """Put a run of this job on its queue."""
        return queue(self.queue).enqueue(
            self.path,
            *args,
            job_id=job_id,
            job_timeout=self.timeout,
            retry=self.retry,
            result_ttl=3600,
        )

    def enqueue_at(self, when: datetime, *args: Any, job_id: str | None = None) -> Job:
        """Schedule a run of this job at `when` (the worker's scheduler starts it)."""
        return queue(self.queue).enqueue_at(
            when, self.path, *args, job_id=job_id, job_timeout=self.timeout, retry=self.retry
        )

    def enqueue_in(self, delay: timedelta, *args: Any, job_id: str | None = None) -> Job:
        """Schedule a run of this job (the worker's scheduler starts it)."""
        return queue(self.queue).enqueue_in(delay, self.path, *args, job_id=job_id, job_timeout=self.timeout)


def job(queue: str, timeout: int, retry: Retry | None = None) -> Callable[[Callable[..., Any]], JobSpec]:
    """Declare a function as an RQ job on `queue` with `timeout` seconds."""

    def wrap(func: Callable[..., Any]) -> JobSpec:
        spec = JobSpec(func, queue, timeout, retry)
        update_wrapper(spec, func)
        return spec

    return wrap


@job(
    OUTBOX_QUEUE,
    timeout=60,
    retry=Retry(max=outbox.MAX_ATTEMPTS - 1, interval=list(outbox.RETRY_DELAYS)),
)
def send_message(message_id: int) -> str:
    """Send one outbox message (see gateway.outbox.send_queued_message)."""
    return outbox.send_queued_message(message_id)


@job(OUTBOX_QUEUE, timeout=60)
def send_follow_up(follow_up_id: int) -> str:
    """Text a volunteer the follow-up they asked for (see gateway.followups)."""
    return followups.send_follow_up(follow_up_id)


def schedule_follow_ups(follow_ups: list[tuple[int, datetime]]) -> None:
    """Schedule follow-ups at their due time. If Redis is down, the sweeper starts them."""
    for follow_up_id, due_at in follow_ups:
        try:
            send_follow_up.enqueue_at(due_at, follow_up_id, job_id=f"kindred-follow-up-{follow_up_id}")
        except Exception:
            log.warning(
                "jobs: could not schedule follow-up %s; the sweeper will",
                follow_up_id,
                exc_info=True,
            )


@job(MAINTENANCE_QUEUE, timeout=120)
def sweep_outbox() -> dict[str, int]:
    """Re-queue outbox rows nobody picked up, start follow-ups whose job was lost, finish
    erasures, queue due event reminders (and withdraw ones too late to help), then schedule the
    next sweep."""
    try:
        counts = outbox.sweep()
        counts["follow_ups"] = followups.send_overdue()
        counts["erased"] = privacy.complete_pending_erasures()
        counts["stale_statuses"] = provider_status.forget_stale(clock.now())
        db.session.commit()
        counts.update(reminders.sweep_reminders())
        return counts
    finally:
        schedule_sweep()


def schedule_sweep() -> None:
    """Schedule the next sweep. The id is fixed, so however many workers do this, one waits."""
    sweep_outbox.enqueue_in(SWEEP_EVERY, job_id="kindred-sweep-outbox")
