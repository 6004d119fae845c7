"""Follow-ups a volunteer asks for ("remind me Friday", "later", "not this week"), sent at a
reasonable hour on their clock, paced like every message the system starts: inside the calling
window, within the caps, deferred rather than dropped."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from gateway import jobs
from gateway.delivery import outbox
from gateway.extensions import OUTBOX_QUEUE, db, queue
from gateway.models import Address, FollowUp, Friend, Message, Person
from gateway.sms import scheduled
from tests.doubles.twilio_api import TwilioApiDouble
from tests.support import Phone, SettableClock, Worker

NEW_YORK = ZoneInfo("America/New_York")
MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=NEW_YORK)


@pytest.fixture
def volunteer(
    client: FlaskClient, twilio_api: TwilioApiDouble, worker: Worker, clock: SettableClock
) -> Phone:
    """Sam, on a New York number, with Ruth on the list and an idea for her just sent."""
    clock.set(MONDAY_10AM)
    phone = Phone(client, twilio_api, worker, "+12125550143")
    for text in ("hi", "yes", "Sam", "my grandma Ruth, cares about healthcare"):
        phone.send(text)
    assert db.session.scalars(select(Person)).one().timezone == "America/New_York"
    return phone


def pending() -> FollowUp:
    return db.session.scalars(select(FollowUp).where(FollowUp.status == "pending")).one()


def test_remind_me_friday_checks_back_friday_morning_with_an_idea(
    volunteer: Phone, clock: SettableClock
) -> None:
    assert volunteer.reply_to("remind me Friday").startswith("No problem. I'll check back on Friday.")
    follow_up = pending()
    friday_10am = datetime(2026, 11, 27, 10, 0, tzinfo=NEW_YORK)
    assert follow_up.due_at == friday_10am
    ruth = db.session.scalars(select(Friend)).one()
    assert follow_up.friend_id == ruth.id
    # RQ's scheduler holds the job for that moment.
    registry = ScheduledJobRegistry(queue=queue(OUTBOX_QUEUE))
    assert registry.get_scheduled_time(f"kindred-follow-up-{follow_up.id}") == friday_10am

    clock.set(friday_10am)
    assert jobs.send_follow_up(follow_up.id) == "done"  # what the scheduler runs at that time
    volunteer.worker.run()
    nudge = volunteer.replies()[-1]
    assert nudge.startswith("Hi Sam! Checking back as you asked. Idea for Ruth:")
    sent = db.session.get(Message, pending_or_done(follow_up.id).message_id)
    assert (sent.reason, sent.status, sent.in_reply_to_id) == ("follow_up", "sent", None)
    assert jobs.send_follow_up(follow_up.id) == "done"  # idempotent
    volunteer.worker.run()
    assert volunteer.replies()[-1] == nudge and volunteer.replies().count(nudge) == 1


def pending_or_done(follow_up_id: int) -> FollowUp:
    follow_up = db.session.get(FollowUp, follow_up_id)
    db.session.refresh(follow_up)
    return follow_up


def test_later_in_the_evening_means_tomorrow_morning(volunteer: Phone, clock: SettableClock) -> None:
    clock.set(datetime(2026, 11, 23, 18, 30, tzinfo=NEW_YORK))
    assert "tomorrow" in volunteer.reply_to("later")
    assert pending().due_at == datetime(2026, 11, 24, 10, 0, tzinfo=NEW_YORK)


def test_a_follow_up_due_at_night_waits_for_the_morning_and_is_not_dropped(
    volunteer: Phone, clock: SettableClock
) -> None:
    volunteer.send("remind me in 3 hours")
    follow_up = pending()
    # The worker was down; it comes back at 10:30 p.m. and the sweeper finds the follow-up.
    clock.set(datetime(2026, 11, 23, 22, 30, tzinfo=NEW_YORK))
    assert scheduled.send_overdue() == 1
    volunteer.worker.run()
    held = db.session.get(Message, pending_or_done(follow_up.id).message_id)
    assert (held.status, held.next_attempt_at) == ("queued", datetime(2026, 11, 24, 9, 0, tzinfo=NEW_YORK))
    assert [e.status for e in held.history] == ["queued", "deferred"]
    assert not volunteer.replies()[-1].startswith("Hi Sam!")

    clock.set(datetime(2026, 11, 24, 9, 5, tzinfo=NEW_YORK))
    outbox.sweep()
    volunteer.worker.run()
    db.session.refresh(held)
    assert held.status == "sent" and volunteer.replies()[-1].startswith("Hi Sam!")


def test_at_most_one_initiated_message_a_day(volunteer: Phone, clock: SettableClock) -> None:
    for _ in range(2):
        volunteer.send("remind me in 1 hour")
        follow_up = pending()
        clock.advance(timedelta(hours=1))
        jobs.send_follow_up(follow_up.id)
        volunteer.worker.run()
    first, second = db.session.scalars(
        select(Message).where(Message.reason == "follow_up").order_by(Message.id)
    )
    assert first.status == "sent"
    sent_at = next(e.at for e in first.history if e.status == "sent")
    assert (second.status, second.next_attempt_at) == ("queued", sent_at + timedelta(days=1))
    # A reply to the volunteer's own text is never held back by the cap.
    assert volunteer.reply_to("FRIENDS").startswith("Your people:")


def test_not_this_week_snoozes_the_friend_until_monday(volunteer: Phone, clock: SettableClock) -> None:
    volunteer.send("ADD Maria, neighbor")
    volunteer.send("SKIP")  # an idea for Maria now
    assert "Monday" in volunteer.reply_to("not this week")
    maria = db.session.scalars(select(Friend).where(Friend.name == "Maria")).one()
    assert maria.snoozed_until == datetime(2026, 11, 30, 10, 0, tzinfo=NEW_YORK)
    assert volunteer.reply_to("PROMPT").startswith("Idea for Ruth")


def test_no_follow_up_after_the_volunteer_opts_out(volunteer: Phone, clock: SettableClock) -> None:
    volunteer.send("remind me tomorrow")
    follow_up = pending()
    volunteer.send("STOP")
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=NEW_YORK))
    before = len(volunteer.replies())
    jobs.send_follow_up(follow_up.id)
    volunteer.worker.run()
    assert len(volunteer.replies()) == before


def test_a_zip_code_retimes_what_the_system_sends(volunteer: Phone, clock: SettableClock) -> None:
    # Sam kept a New York number but lives in San Francisco.
    assert volunteer.reply_to("ZIP 94110") == "Thanks! I'll time my texts to Pacific time (ZIP 94110)."
    assert db.session.scalars(select(Person)).one().timezone == "America/Los_Angeles"
    volunteer.send("remind me tomorrow")
    assert pending().due_at == datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles"))


def test_delete_withdraws_a_deferred_follow_up_and_still_erases_the_number(
    volunteer: Phone, clock: SettableClock
) -> None:
    volunteer.send("remind me in 1 hour")
    clock.set(datetime(2026, 11, 23, 21, 0, tzinfo=NEW_YORK))  # too late: it waits for the morning
    jobs.send_follow_up(pending().id)
    volunteer.worker.run()
    held = db.session.scalars(select(Message).where(Message.reason == "follow_up")).one()
    assert held.status == "queued"
    volunteer.send("DELETE")
    volunteer.send("yes")
    db.session.refresh(held)
    assert (held.status, held.error_code) == ("suppressed", "erased")
    address = db.session.get(Address, held.address_id)
    assert address.value.startswith("hmac:")


def test_a_send_stamped_by_a_worker_whose_clock_ran_ahead_still_counts_toward_the_cap(
    volunteer: Phone, clock: SettableClock
) -> None:
    address = db.session.scalars(select(Address)).one()
    first, second = (outbox.queue_sms(address, f"Idea {n}", "follow_up") for n in (1, 2))
    db.session.commit()
    clock.set(MONDAY_10AM + timedelta(seconds=5))  # one worker's clock is a little ahead...
    assert outbox.send_queued_message(first.id) == "sent"
    clock.set(MONDAY_10AM)  # ...the other's isn't: the first send is "in its future"
    assert outbox.send_queued_message(second.id) == "deferred"
