"""One handle on the database: engine, sessions, and migrations applied on open."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from .connect import open_engine, session_factory
from .models import Project

T = TypeVar("T")


@contextmanager
def transaction(sessions: Callable[[], Session]) -> Iterator[Session]:
    """The one unit of work, for the engine, the dispatcher and the commands alike: a session that commits on
    normal exit and rolls back on error."""
    s = sessions()
    try:
        yield s
        s.commit()
    except BaseException:
        s.rollback()
        raise
    finally:
        s.close()


def in_transaction(sessions: Callable[[], Session], fn: Callable[[Session], T]) -> T:
    """``fn(session)`` as one unit of work (see ``transaction``): what a writer thread runs."""
    with transaction(sessions) as s:
        return fn(s)


MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Alembic keeps its running context in module globals: one migration at a time per process.
_MIGRATE_LOCK = threading.Lock()


class StoreError(Exception):
    """The database cannot be opened; the message is one line naming the config key ``database.url``.

    ``config`` says whose fault it is: True for the configuration (bad URL, a directory or an unwritable path,
    wrong credentials or database name: exit 2, restarting cannot help), False for the moment (the server is
    down or unreachable: exit 1, a restart later may well succeed).
    """

    def __init__(self, message: str, *, config: bool = True) -> None:
        super().__init__(message)
        self.config = config


# PostgreSQL answers that no restart will change: the URL's credentials or database name are wrong.
_PG_CONFIG_ERRORS = ("authentication failed", "does not exist", "no password supplied", "invalid connection option")


@dataclass
class Database:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self.engine.dialect.name

    def session(self) -> AbstractContextManager[Session]:
        """A session that commits on normal exit and rolls back on error (one unit of work)."""
        return transaction(self.sessions)

    def close(self) -> None:
        self.engine.dispose()


def alembic_config(url: str | None = None) -> AlembicConfig:
    """Alembic configured in code: the packaged migrations, no alembic.ini."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """``alembic upgrade <revision>``: only applies what is missing, so it is safe on any existing DB.

    A database made by ``Base.metadata.create_all`` (no version table but our tables) is stamped
    at head first instead of failing on "table exists".
    """
    cfg = alembic_config()
    with _MIGRATE_LOCK, engine.begin() as conn:
        cfg.attributes["connection"] = conn
        names = set(inspect(conn).get_table_names())
        if "alembic_version" not in names and "probe" in names:
            command.stamp(cfg, "head")
        else:
            command.upgrade(cfg, revision)


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return repr(url)


def open_database(url: str, project_name: str = "Default Project") -> Database:
    """Open (SQLite pragmas / PG pool), migrate to head, and make sure the Project row exists.

    Raises StoreError (one line, password hidden) for an unusable URL or an unreachable database.
    """
    if not url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
        raise StoreError(f"database.url: only sqlite:///PATH and postgresql://... are supported, got {_shown(url)}")
    try:
        engine = open_engine(url)
    except (ArgumentError, NoSuchModuleError, OSError, ValueError) as exc:
        raise StoreError(f"database.url: cannot use {_shown(url)}: {_first_line(exc)}") from exc
    try:
        migrate(engine)
        db = Database(url=url, engine=engine, sessions=session_factory(engine))
        with db.session() as s:
            if s.scalar(select(Project.id).limit(1)) is None:
                s.add(Project(name=project_name))
    except OperationalError as exc:
        engine.dispose()
        reason = _first_line(exc.orig or exc)
        config = engine.dialect.name == "sqlite" or any(m in reason for m in _PG_CONFIG_ERRORS)
        raise StoreError(f"database.url: cannot open {_shown(url)}: {reason}", config=config) from exc
    except BaseException:
        engine.dispose()
        raise
    return db


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def project_id(session: Session) -> int:
    """The single Project's id (created by open_database)."""
    pid = session.scalar(select(Project.id).order_by(Project.id).limit(1))
    if pid is None:
        pid_row = Project(name="Default Project")
        session.add(pid_row)
        session.flush()
        pid = pid_row.id
    return pid
