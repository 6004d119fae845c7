"""The one hand-off to the queue: the senders are woken for what a transaction wrote when, and
only when, it commits; a savepoint is not a commit; a reader never holds up a writer on SQLite; and
the worker puts back an outbox sweep that a Redis failure left unscheduled."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from gateway import jobs
from gateway.community import organization
from gateway.delivery import outbox, sender
from gateway.delivery.transports.simulator import SIMULATOR_NUMBER
from gateway.extensions import MAINTENANCE_QUEUE, READER, db, queue, redis_client
from gateway.models import Address, Organization
from tests.support import KINDRED_NUMBER, Phone


def queued_jobs() -> int:
    """Wake-ups waiting for the senders (the list holds one at most)."""
    return redis_client().llen(sender.WAKE_KEY)


@pytest.fixture
def address(phone: Phone) -> Address:
    phone.send("hi")
    redis_client().delete(sender.WAKE_KEY)
    return db.session.scalars(select(Address).where(Address.value == phone.number)).one()


def test_a_message_goes_on_the_queue_when_its_transaction_commits_and_not_before(address: Address) -> None:
    outbox.queue_sms(address, "Welcome back", "reply")
    with db.session.begin_nested():  # a savepoint released is not a commit
        db.session.execute(text("SELECT 1"))
    assert queued_jobs() == 0
    db.session.commit()
    assert queued_jobs() == 1


def test_a_savepoint_rolled_back_keeps_what_the_transaction_wrote_before_it(address: Address) -> None:
    outbox.queue_sms(address, "Welcome back", "reply")
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(Address(organization_id=address.organization_id, channel="sms", value=address.value))
        db.session.flush()
    db.session.commit()
    assert queued_jobs() == 1


def test_a_message_rolled_back_never_goes_on_the_queue(address: Address) -> None:
    outbox.queue_sms(address, "Welcome back", "reply")
    db.session.rollback()
    db.session.commit()
    assert queued_jobs() == 0


def test_a_long_read_does_not_hold_up_a_text(app: Flask, phone: Phone) -> None:
    with db.engine.connect().execution_options(**{READER: True}) as reader:
        assert reader.execute(text("SELECT count(*) FROM message")).scalar() == 0  # an export, midway
        assert phone.post("hi").status_code == 200
    phone.worker.run()
    assert len(phone.replies()) == 1


def test_the_worker_schedules_the_sweep_again_if_nothing_has(app: Flask) -> None:
    assert queue(MAINTENANCE_QUEUE).fetch_job(jobs.SWEEP_JOB_ID) is None  # say Redis lost it
    assert jobs.ensure_sweep_scheduled() is True
    assert jobs.SWEEP_JOB_ID in queue(MAINTENANCE_QUEUE).scheduled_job_registry.get_job_ids()
    assert jobs.ensure_sweep_scheduled() is False  # one is waiting: nothing to do


def test_the_number_taken_from_the_simulator_gives_way_to_the_real_one(app: Flask, phone: Phone) -> None:
    org = organization.default()
    org.phone = organization.display_number(SIMULATOR_NUMBER)  # set up while the simulator was on
    db.session.commit()
    phone.post("hi", To=KINDRED_NUMBER)  # the real number, now that Twilio sends
    db.session.rollback()
    assert db.session.scalars(select(Organization)).one().phone == KINDRED_NUMBER
