"""Migrations: one head, upgrade from empty and downgrade to empty on SQLite and PostgreSQL, and
the migrated schema is exactly what the models describe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect, text

from gateway import create_app, migrate
from gateway.extensions import db
from gateway.models import Base
from tests.conftest import SECRET_KEY


@pytest.fixture
def empty_app(empty_database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app on an empty database (no migration has run)."""
    app = create_app(
        {"SECRET_KEY": SECRET_KEY, "DATABASE_URL": empty_database_url, "INSTANCE_PATH": str(tmp_path)}
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def test_the_history_has_a_single_head(tmp_path: Path) -> None:
    app = create_app({"SECRET_KEY": SECRET_KEY, "INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        assert len(migrate.heads()) == 1


def test_upgrade_from_empty_matches_the_models_and_downgrades_to_empty(empty_app: Flask) -> None:
    with empty_app.app_context():
        assert migrate.current() is None
        migrate.upgrade("head")
        assert migrate.current() == migrate.heads()[0]
        assert set(inspect(db.engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []

        migrate.downgrade("base")
        assert migrate.current() is None
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}

        migrate.upgrade("head")  # and back up again, cleanly
        assert migrate.current() == migrate.heads()[0]


def test_upgrading_keeps_existing_rows_and_gives_them_the_defaults(empty_app: Flask) -> None:
    with empty_app.app_context():
        migrate.upgrade("0001_core")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO organization (slug, name, contact, frequency, interests, timezone, created_at)"
                    " VALUES ('eastside', 'Eastside', '', 'weekly', '[]', 'America/Chicago', CURRENT_TIMESTAMP)"
                )
            )
        migrate.upgrade("head")
        with db.engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT name, window_start_hour, window_end_hour, daily_cap, weekly_cap FROM organization"
                )
            ).one()
        assert tuple(row) == ("Eastside", 9, 20, 1, 4)


def test_upgrading_clears_the_placeholder_contact_older_versions_stored(empty_app: Flask) -> None:
    with empty_app.app_context():
        migrate.upgrade("0004_early_status")
        with db.engine.begin() as connection:
            for slug, contact in (("eastside", "reply to this number"), ("westside", "hi@westside.example")):
                connection.execute(
                    text(
                        "INSERT INTO organization (slug, name, contact, frequency, interests, timezone, created_at)"
                        " VALUES (:slug, :slug, :contact, 'weekly', '[]', 'America/Chicago', CURRENT_TIMESTAMP)"
                    ),
                    {"slug": slug, "contact": contact},
                )
        migrate.upgrade("head")
        with db.engine.connect() as connection:
            rows = connection.execute(text("SELECT slug, contact FROM organization ORDER BY slug")).all()
        assert [tuple(row) for row in rows] == [("eastside", ""), ("westside", "hi@westside.example")]
