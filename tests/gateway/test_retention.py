"""Retention: the scheduled sweep purges message bodies older than MESSAGE_RETENTION_DAYS. The
counts, outcomes and delivery history stay, and so does the text that is the evidence of a
consent event (the opt-in a sender must be able to show)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from gateway import jobs
from gateway.config import ConfigError, load
from gateway.extensions import MAINTENANCE_QUEUE, db
from gateway.models import ConsentEvent, ConversationReport, Friend, Message, MessageStatusEvent
from tests.conftest import LOCAL, SECRET_KEY
from tests.support import Phone, SettableClock


@pytest.fixture
def volunteer(phone: Phone) -> Phone:
    for body in (
        "hi",
        "yes",
        "Sam",
        "ADD Maria, neighbor, cares about schools",
        "talked to Maria, she's in!",
    ):
        phone.send(body)
    return phone


def _sweep(volunteer: Phone) -> None:
    jobs.sweep_outbox.enqueue()
    volunteer.worker.run(MAINTENANCE_QUEUE)


def test_bodies_past_retention_are_purged_and_the_counts_stay(
    app: Flask, volunteer: Phone, clock: SettableClock
) -> None:
    messages = db.session.scalar(select(func.count()).select_from(Message))
    history = db.session.scalar(select(func.count()).select_from(MessageStatusEvent))
    evidence_id = db.session.scalars(select(ConsentEvent.evidence_message_id)).one()

    clock.advance(timedelta(days=364))
    _sweep(volunteer)
    assert "talked to Maria, she's in!" in db.session.scalars(select(Message.body))

    clock.advance(timedelta(days=2))
    _sweep(volunteer)
    kept = {m.id: m.body for m in db.session.scalars(select(Message))}
    assert kept.pop(evidence_id) == "yes"  # the opt-in's evidence
    assert set(kept.values()) == {""}
    assert db.session.scalar(select(func.count()).select_from(Message)) == messages
    assert db.session.scalar(select(func.count()).select_from(MessageStatusEvent)) == history
    report = db.session.scalars(select(ConversationReport)).one()
    assert (report.outcome, db.session.scalars(select(Friend.stage)).one()) == ("committed", "committed")

    # New texts are kept in full; the app goes on answering.
    assert volunteer.reply_to("FRIENDS").startswith("Your people: Maria")
    assert "FRIENDS" in db.session.scalars(select(Message.body))


def test_a_shorter_retention_is_honoured(app: Flask, volunteer: Phone, clock: SettableClock) -> None:
    app.config["MESSAGE_RETENTION_DAYS"] = 30
    clock.advance(timedelta(days=31))
    _sweep(volunteer)
    assert "Sam" not in db.session.scalars(select(Message.body))


@pytest.mark.parametrize("raw", ["0", "-5", "forever", "1.5", "36501"])
def test_a_retention_that_is_not_a_number_of_days_stops_the_start(raw: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="MESSAGE_RETENTION_DAYS"):
        load(str(tmp_path), {**LOCAL, "SECRET_KEY": SECRET_KEY, "MESSAGE_RETENTION_DAYS": raw})


def test_retention_defaults_to_a_year(tmp_path: Path) -> None:
    assert load(str(tmp_path), {**LOCAL, "SECRET_KEY": SECRET_KEY}).MESSAGE_RETENTION_DAYS == 365
