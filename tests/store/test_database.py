"""Opening, migrating and SQLite settings, against real SQLite files and a real PostgreSQL server."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from callmeter_tui.store.connect import open_engine
from callmeter_tui.store.database import StoreError, current_revision, head_revision, migrate, open_database
from callmeter_tui.store.models import Base, Execution, Probe, Project, Transition
from tests.fixtures import postgres as pg_fixture

from .conftest import T0, add_probe


def test_open_migrates_to_head_and_matches_models(database) -> None:  # type: ignore[no-untyped-def]
    assert current_revision(database.engine) == head_revision() != "0001"
    with database.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    with database.session() as s:
        assert s.scalars(select(Project.name)).all() == ["Default Project"]


def test_reopen_keeps_data_and_single_project(db_url: str) -> None:
    db = open_database(db_url)
    with db.session() as s:
        add_probe(s, "keep-me")
    db.close()
    db = open_database(db_url)
    try:
        with db.session() as s:
            assert s.scalars(select(Probe.name)).all() == ["keep-me"]
            assert s.scalar(select(text("count(*)")).select_from(Project)) == 1
    finally:
        db.close()


def test_database_at_older_revision_upgrades_with_data_intact(db_url: str) -> None:
    engine = open_engine(db_url)
    migrate(engine, "0001")
    assert current_revision(engine) == "0001"
    assert "rollup_mark" not in inspect(engine).get_table_names()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO project (id, name) VALUES (1, 'Acme')"))
        conn.execute(
            text(
                "INSERT INTO probe (id, project_id, name, kind, target, interval_s, timeout_s, enabled, agent, thresholds,"
                ' confirm, options, source, position, "group", state, pending_count, created_at, updated_at) VALUES'
                " (7, 1, 'old', 'sip_options', 'sip:a', 60, 10, true, 'local', '{}', 1, '{}', 'config', 0, '', 'HEALTHY',"
                " 0, 1, 1)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO transition (probe_id, at, previous_state, current_state, metrics, breaches)"
                " VALUES (7, 5.0, 'UNKNOWN', 'HEALTHY', '{}', '[]')"
            )
        )
    engine.dispose()

    db = open_database(db_url)
    try:
        assert current_revision(db.engine) == head_revision()
        with db.session() as s:
            assert s.scalars(select(Project.name)).all() == ["Acme"]
            probe = s.get(Probe, 7)
            assert (probe.name, probe.state) == ("old", "HEALTHY")
            tr = s.scalars(select(Transition)).one()
            assert (tr.at, tr.current_state, tr.reason) == (5.0, "HEALTHY", None)
    finally:
        db.close()


def test_database_made_by_create_all_is_adopted_without_loss(db_url: str) -> None:
    engine = open_engine(db_url)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO project (id, name) VALUES (1, 'Made by create_all')"))
    engine.dispose()
    db = open_database(db_url)
    try:
        assert current_revision(db.engine) == head_revision()
        with db.session() as s:
            assert s.scalars(select(Project.name)).all() == ["Made by create_all"]
    finally:
        db.close()


@pytest.mark.postgres
def test_two_nodes_opening_one_postgres_database_at_once(pg_server) -> None:  # type: ignore[no-untyped-def]
    """Separate processes, as separate nodes are: the advisory lock serialises their migrations."""
    url = pg_server.create_database()
    code = "import sys; from callmeter_tui.store.database import open_database; open_database(sys.argv[1]).close()"
    nodes = [subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outcomes = [(n.wait(timeout=120), n.stderr.read() if n.stderr else "") for n in nodes]
    assert [rc for rc, _ in outcomes] == [0, 0, 0], outcomes
    db = open_database(url)
    try:
        with db.session() as s:
            assert s.scalar(select(text("count(*)")).select_from(Project)) >= 1
        assert current_revision(db.engine) == head_revision()
    finally:
        db.close()
        pg_server.drop_database(url)


def test_sqlite_pragmas_and_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "callmeter.db"
    db = open_database(f"sqlite:///{path}")
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        with db.session() as s:
            add_probe(s)
        wal = Path(str(path) + "-wal")
        assert wal.exists() and stat.S_IMODE(os.stat(wal).st_mode) == 0o600
        with pytest.raises(IntegrityError):  # foreign keys really enforced
            with db.session() as s:
                s.add(Execution(probe_id=999, started_at=T0, state="HEALTHY", ok=True))
    finally:
        db.close()


def test_existing_sqlite_file_with_loose_mode_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "loose.db"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    open_database(f"sqlite:///{path}").close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_postgres_fixture_fails_clearly_without_binaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg_fixture, "PG_BIN", tmp_path)
    with pytest.raises(RuntimeError, match="PostgreSQL 15 binaries not found"):
        pg_fixture.start_pg_server()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://u:hunter2@127.0.0.1/db", "only sqlite:///PATH and postgresql://"),
        ("postgresql://u:hunter2@127.0.0.1:1/db", "cannot open postgresql://u:***@127.0.0.1:1/db"),
        ("sqlite:////proc/no-such-dir/x.db", "cannot use sqlite:////proc/no-such-dir/x.db"),
    ],
)
def test_unusable_database_url_is_one_clear_line(url: str, expected: str) -> None:
    with pytest.raises(StoreError) as err:
        open_database(url)
    message = str(err.value)
    assert message.startswith("database.url: ") and expected in message
    assert "\n" not in message and "hunter2" not in message
