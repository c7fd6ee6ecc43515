"""Persistence: SQLAlchemy 2 models and queries. SQLite by default, PostgreSQL by URL."""
