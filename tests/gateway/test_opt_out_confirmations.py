"""Opt-out confirmations are bounded: at most one per number in ten minutes, however often STOP
comes, even in turn with START; the opt-out itself is recorded every time, at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import Address, ConsentEvent
from tests.support import Phone, SettableClock

NOON = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # noon in New York
UNSUBSCRIBED = "Eastside Neighbors: You're unsubscribed"


@pytest.fixture
def volunteer(phone: Phone, clock: SettableClock) -> Phone:
    clock.set(NOON)
    for text in ("hi", "yes", "Sam"):
        phone.send(text)
    return phone


def ledger(phone: Phone) -> list[str]:
    db.session.rollback()
    address = db.session.scalars(select(Address).where(Address.value == phone.number)).one()
    return list(
        db.session.scalars(
            select(ConsentEvent.kind).where(ConsentEvent.address_id == address.id).order_by(ConsentEvent.id)
        )
    )


def confirmations(replies: list[str]) -> int:
    return sum(reply.startswith(UNSUBSCRIBED) for reply in replies)


def test_stop_and_start_in_turn_get_one_confirmation_in_ten_minutes(
    volunteer: Phone, clock: SettableClock
) -> None:
    replies: list[str] = []
    for _ in range(5):  # five minutes of STOP, START, STOP, START ...
        replies += volunteer.send("STOP")
        assert ledger(volunteer)[-1] == "opt_out"  # recorded at once, every time
        clock.advance(timedelta(seconds=30))
        replies += volunteer.send("START")
        clock.advance(timedelta(seconds=30))
    assert confirmations(replies) == 1
    assert replies[0].startswith(UNSUBSCRIBED)
    assert ledger(volunteer) == ["opt_in"] + ["opt_out", "opt_in"] * 5

    clock.set(NOON + timedelta(minutes=10))  # ten minutes after the one confirmation
    assert confirmations(volunteer.send("STOP")) == 1


def test_stop_again_and_again_is_recorded_each_time_and_confirmed_once(
    volunteer: Phone, clock: SettableClock
) -> None:
    replies: list[str] = []
    for _ in range(4):
        replies += volunteer.send("STOP")
        clock.advance(timedelta(minutes=20))  # past the ten minutes: still no second confirmation
    assert replies == [replies[0]] and replies[0].startswith(UNSUBSCRIBED)  # then silence
    assert ledger(volunteer) == ["opt_in", "opt_out", "opt_out", "opt_out", "opt_out"]
