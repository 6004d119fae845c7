"""Alembic, driven from the app: `kindred db upgrade` and the tests use these."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from gateway.extensions import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config() -> Config:
    """Alembic's config for the app in the current app context."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(revision: str = "head") -> None:
    """Migrate the app's database up to `revision`."""
    _run(command.upgrade, revision)


def downgrade(revision: str) -> None:
    """Migrate the app's database down to `revision` ("base": empty)."""
    _run(command.downgrade, revision)


def _run(step: Callable[[Config, str], None], revision: str) -> None:
    """Run an Alembic command in one transaction. On SQLite, foreign keys are off meanwhile:
    to change a table SQLite copies it and drops the old one, and that drop would run every
    ON DELETE action on the rows that point at it (cascading friends away, or clearing the
    message a consent event names as its evidence). They are checked once the copy is done."""
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # a pragma that takes effect only outside a transaction, so before BEGIN
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                config = alembic_config()
                config.attributes["connection"] = connection
                step(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:5]}")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def current() -> str | None:
    """The revision the app's database is at, or None when it is empty."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def heads() -> list[str]:
    """The heads of the migration history (there should be exactly one)."""
    return list(ScriptDirectory.from_config(alembic_config()).get_heads())
