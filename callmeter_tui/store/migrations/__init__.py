"""Alembic migrations for the store (configured programmatically by store.database)."""
