"""The database layer behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from gateway.extensions import db
from gateway.models import Organization


def test_releasing_a_savepoint_does_not_commit_the_transaction_around_it(app: Flask) -> None:
    # pysqlite used to start no transaction before a SAVEPOINT, so RELEASE committed everything.
    assert db.session.scalar(select(func.count()).select_from(Organization)) == 0
    with db.session.begin_nested():
        db.session.add(Organization(slug="eastside", name="Eastside"))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Organization)) == 0
