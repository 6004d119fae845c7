"""Migrations: one head, upgrade from empty and downgrade to empty on SQLite and PostgreSQL, and
the migrated schema is exactly what the models describe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect, text

from gateway import create_app, migrate
from gateway.extensions import db
from gateway.models import Base
from tests.conftest import LOCAL, SECRET_KEY


def test_the_history_has_a_single_head(tmp_path: Path) -> None:
    app = create_app({**LOCAL, "SECRET_KEY": SECRET_KEY, "INSTANCE_PATH": str(tmp_path)})
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


def test_upgrading_opens_threads_for_recent_kept_texts_and_knows_who_was_active(empty_app: Flask) -> None:
    now = datetime.now(UTC)
    with empty_app.app_context():
        migrate.upgrade("0006_console_access")
        at = ":{}" if db.engine.dialect.name == "sqlite" else "CAST(:{} AS TIMESTAMPTZ)"
        with db.engine.begin() as connection:

            def insert(sql: str, **values: object) -> int:
                for name, value in values.items():
                    if isinstance(value, datetime):
                        values[name] = f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}"
                        sql = sql.replace(f":{name}", at.format(name))
                return connection.execute(text(sql + " RETURNING id"), values).scalar_one()

            org = insert(
                "INSERT INTO organization (slug, name, contact, frequency, interests, timezone, phone, window_start_hour,"
                " window_end_hour, daily_cap, weekly_cap, created_at) VALUES ('e', 'E', '', 'w', '[]', 'UTC', '', 9, 20,"
                " 1, 4, :now)",
                now=now,
            )
            texts = {}
            for name, ago, body, kept in (
                ("Recent", timedelta(days=2), "can someone call me?", True),
                ("Old", timedelta(days=40), "what is this?", True),
                ("Stopped", timedelta(days=3), "hello", False),
            ):
                person = insert(
                    "INSERT INTO person (organization_id, name, language, created_at) VALUES (:org, :name, 'en', :now)",
                    org=org, name=name, now=now,
                )  # fmt: skip
                address = insert(
                    "INSERT INTO address (organization_id, person_id, channel, value, pending_erasure, created_at)"
                    " VALUES (:org, :person, 'sms', :value, FALSE, :now)",
                    org=org, person=person, value=f"+1555000{person:04}", now=now,
                )  # fmt: skip
                texts[name] = insert(
                    "INSERT INTO message (organization_id, direction, channel, address_id, body, num_media, status,"
                    " reason, needs_attention, attempts, created_at, updated_at) VALUES (:org, 'inbound', 'sms',"
                    " :address, :body, 0, 'received', '', :kept, 0, :at, :at)",
                    org=org, address=address, body=body, kept=kept, at=now - ago,
                )  # fmt: skip
                if name == "Stopped":  # a later STOP, which opted them out: not activity
                    stop = insert(
                        "INSERT INTO message (organization_id, direction, channel, address_id, body, num_media,"
                        " status, reason, needs_attention, attempts, created_at, updated_at) VALUES (:org,"
                        " 'inbound', 'sms', :address, 'STOP', 0, 'received', '', FALSE, 0, :at, :at)",
                        org=org, address=address, at=now - timedelta(days=1),
                    )  # fmt: skip
                    insert(
                        "INSERT INTO consent_event (organization_id, address_id, channel, kind, source, detail,"
                        " evidence_message_id, at) VALUES (:org, :address, 'sms', 'opt_out', 'sms_keyword', 'STOP',"
                        " :stop, :at)",
                        org=org, address=address, stop=stop, at=now - timedelta(days=1),
                    )  # fmt: skip
        migrate.upgrade("head")
        with db.engine.connect() as connection:
            threads = connection.execute(
                text(
                    "SELECT person.name, thread.status, thread.last_message_id FROM thread"
                    " JOIN person ON person.id = thread.person_id ORDER BY person.name"
                )
            ).all()
            active = dict(connection.execute(text("SELECT name, last_active_at FROM person")).all())
            evidence = connection.execute(text("SELECT evidence_message_id FROM consent_event")).scalar_one()
    # On SQLite a changed table is copied and the old one dropped: that must not clear what
    # points at it (the STOP that is this opt-out's evidence).
    assert evidence is not None
    assert [tuple(row) for row in threads] == [
        ("Old", "done", texts["Old"]),
        ("Recent", "open", texts["Recent"]),
    ]
    stopped = active["Stopped"]
    stopped = datetime.fromisoformat(stopped) if isinstance(stopped, str) else stopped
    assert abs(stopped.replace(tzinfo=UTC) - (now - timedelta(days=3))) < timedelta(seconds=1)  # not the STOP
