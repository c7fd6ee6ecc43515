"""Alembic revisions; each adds, never renames or drops (other code relies on the names)."""
