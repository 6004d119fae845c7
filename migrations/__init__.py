"""Alembic migrations for Kindred's database (run with `kindred db upgrade`)."""
