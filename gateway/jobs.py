"""RQ entry points, and the one hand-off to the queue after a commit.

Each job takes ids, is idempotent, and declares its queue, timeout and retry here. The worker
runs inside the app context (see `kindred worker`); each job gets a fresh database session.

Nothing else talks to the queue: code that writes an outbox row or a follow-up notes it with
gateway.delivery.handoff, and :func:`hand_off` queues what a transaction noted once it commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import update_wrapper
from typing import Any

from flask import Flask, current_app
from flask_sqlalchemy.session import Session as FlaskSession
from redis.exceptions import RedisError
from rq import Retry
from rq.job import Job, JobStatus
from sqlalchemy import event
from sqlalchemy.orm import Session

from gateway import clock
from gateway.community import privacy, round_previews, rounds
from gateway.delivery import addresses, handoff, outbox, sender
from gateway.delivery import status as delivery_status
from gateway.extensions import (
    INITIATED_QUEUE,
    MAINTENANCE_QUEUE,
    OUTBOX_QUEUE,
    ROUNDS_QUEUE,
    db,
    pause_redis,
    queue,
    redis_client,
    redis_paused,
)
from gateway.sms import inbound, scheduled

log = logging.getLogger(__name__)
SWEEP_EVERY = timedelta(minutes=1)
SWEEP_JOB_ID = "kindred-sweep-outbox"
ROUND_JOB_ID = "kindred-round-{}"
_PENDING = frozenset({JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED})


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


# How the worker's senders answer the texts the webhook stored.
ANSWERING = sender.Answering(inbound.waiting, inbound.answer)


def drain() -> int:
    """Answer every text waiting to be answered, then send every message due, in this thread,
    one after another: `kindred worker --burst`'s way, and the test worker's. Returns how many
    texts were answered and messages claimed."""
    return inbound.answer_waiting() + sender.drain()


@job(OUTBOX_QUEUE, timeout=60)
def send_message(message_id: int) -> str:
    """Send one outbox message if it is still queued (see outbox.send_queued_message). The
    worker's senders claim messages from the outbox itself; this job is what versions before
    them queued for each message, kept so jobs still queued at an upgrade do no harm."""
    return outbox.send_queued_message(message_id)


@job(INITIATED_QUEUE, timeout=60)
def send_initiated_message(message_id: int) -> str:
    """The same, from the queue those versions served after replies."""
    return outbox.send_queued_message(message_id)


@job(OUTBOX_QUEUE, timeout=60)
def send_follow_up(follow_up_id: int) -> str:
    """Text a volunteer the follow-up they asked for (see gateway.sms.scheduled)."""
    return scheduled.send_follow_up(follow_up_id)


@job(ROUNDS_QUEUE, timeout=900)
def plan_round_preview(preview_id: str) -> str:
    """Plan a prompt round's preview for the console (see gateway.community.round_previews)."""
    return round_previews.plan(preview_id)


@job(ROUNDS_QUEUE, timeout=3600)
def start_round(round_id: int) -> str:
    """Check a round started from the console and queue its texts, or end it with nothing
    sent if its count changed (see gateway.community.rounds.queue_started)."""
    return rounds.queue_started(round_id)


@job(MAINTENANCE_QUEUE, timeout=120)
def sweep_outbox() -> dict[str, int]:
    """Settle outbox rows whose send was cut off, apply statuses that came before their send was
    recorded, answer texts the worker's senders left waiting (a hundred at a time), start
    follow-ups whose job was lost, finish erasures, purge message bodies past their retention,
    queue due event reminders (and withdraw ones too late to help), queue again the check of
    console rounds whose job was lost, then schedule the next sweep."""
    try:
        counts = outbox.sweep()
        # Committed on its own, before the erasures: it locks messages before their addresses,
        # as a sender does, where the erasures below touch addresses first.
        counts["early_statuses"] = delivery_status.apply_left_early()
        db.session.commit()
        counts["answered"] = inbound.answer_unanswered(clock.now() - inbound.UNANSWERED_AFTER)
        counts["follow_ups"] = scheduled.send_overdue()
        counts["erased"] = addresses.complete_pending_erasures()
        retention = timedelta(days=current_app.config["MESSAGE_RETENTION_DAYS"])
        counts["purged"] = privacy.purge_old_bodies(clock.now() - retention)
        counts["stale_statuses"] = delivery_status.forget_stale(clock.now())
        db.session.commit()
        counts.update(scheduled.sweep_reminders())
        counts["rounds_started"] = ensure_rounds_started(clock.now())
        return counts
    finally:
        schedule_sweep()


def schedule_sweep() -> None:
    """Schedule the next sweep. The id is fixed, so however many workers do this, one waits."""
    sweep_outbox.enqueue_in(SWEEP_EVERY, job_id=SWEEP_JOB_ID)


def ensure_sweep_scheduled() -> bool:
    """Schedule the sweep if no run of it is waiting or running (a Redis outage at the wrong
    moment breaks the chain of sweeps, each scheduling the next); returns whether it did."""
    job = queue(MAINTENANCE_QUEUE).fetch_job(SWEEP_JOB_ID)
    if job is not None and job.get_status(refresh=False) in _PENDING:
        return False
    schedule_sweep()
    log.info("jobs: the outbox sweep was not scheduled; scheduled it again")
    return True


def ensure_rounds_started(now: datetime) -> int:
    """Queue again the check of each console round still `starting` a sweep after it started
    whose job Redis has no record of (its hand-off was lost to a Redis failure); returns how
    many. A job that ran and failed is kept by RQ, so it is not run again and again."""
    queued = 0
    for round_id in rounds.starting_before(now - SWEEP_EVERY):
        job_id = ROUND_JOB_ID.format(round_id)
        if queue(ROUNDS_QUEUE).fetch_job(job_id) is None:
            start_round.enqueue(round_id, job_id=job_id)
            queued += 1
    if queued:
        log.info("jobs: queued the check of %s started round(s) again", queued)
    return queued


# What each kind of hand-off runs, and the job id it runs under (None: any number may wait).
_HANDOFF_JOBS: dict[str, tuple[JobSpec, str | None]] = {
    handoff.FOLLOW_UP: (send_follow_up, "kindred-follow-up-{}"),
    handoff.ROUND_PREVIEW: (plan_round_preview, "kindred-round-preview-{}"),
    handoff.ROUND_START: (start_round, ROUND_JOB_ID),
}


def init_app(app: Flask) -> None:
    """Hand what each transaction noted to the queue once it commits; forget it on rollback."""
    if not event.contains(FlaskSession, "after_commit", hand_off):
        event.listen(FlaskSession, "after_commit", hand_off)
        event.listen(FlaskSession, "after_rollback", _forget)


def hand_off(session: Session) -> None:
    """Queue the jobs a committed transaction noted. If Redis fails, what is left is queued by
    the sweeper later: the failure is logged, never raised into the commit that succeeded, and
    when Redis hangs (a timeout rather than a refusal), nobody here waits on it again for a
    while: a hung Redis must not hold up the webhooks behind it."""
    if session.in_nested_transaction():
        return  # a savepoint released: nothing is committed yet
    noted = handoff.take(session)
    if not noted:
        return
    if redis_paused():
        log.info("jobs: queue paused after a Redis failure; the sweeper will queue %s job(s)", len(noted))
        return
    try:
        if any(item.job in handoff.WAKES_SENDERS for item in noted):
            sender.wake(redis_client())
    except (RedisError, OSError) as exc:
        pause_redis(exc)
        log.warning("jobs: could not wake the senders; they poll for what was queued", exc_info=True)
        return
    for item in noted:
        if item.job in handoff.WAKES_SENDERS:
            continue
        spec, job_id = _HANDOFF_JOBS[item.job]
        job_id = job_id and job_id.format(item.row_id)
        try:
            if item.at is None:
                spec.enqueue(item.row_id, job_id=job_id)
            else:
                spec.enqueue_at(item.at, item.row_id, job_id=job_id)
        except (RedisError, OSError) as exc:
            pause_redis(exc)
            log.warning("jobs: could not queue %s %s; the sweeper will", item.job, item.row_id, exc_info=True)
            return


def _forget(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's rollback leaves the rest to commit
        handoff.take(session)
