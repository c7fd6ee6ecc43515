"""``callmeter-tui maintenance schedule|list|cancel``: scheduled windows from the command line.

Works against the database a running ``serve`` or dashboard uses: they notice the change within a few
seconds (engine.maintenance_watch) without a restart. Bad input is one line naming the key, exit 2.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from ..config.model import Config
from ..config.recurrence import next_occurrences, window_status
from ..domain.isotime import iso_seconds
from ..domain.maintenance import MaintenanceError
from ..store.database import Database
from ..store.maintenance import WindowView, cancel, list_windows, schedule

EXIT_OK, EXIT_INPUT = 0, 2


def _with_db(config: Config, work: Callable[[Database], int]) -> int:
    from ..store.connect import default_sqlite_url
    from ..store.database import open_database
    from ..store.sync import sync_config

    db = open_database(config.database_url or default_sqlite_url(), project_name=config.project_name)
    try:
        with db.session() as s:
            sync_config(s, config)
        return work(db)
    finally:
        db.close()


def _refused(exc: MaintenanceError, err: TextIO) -> int:
    print(f"maintenance: {exc}", file=err)
    return EXIT_INPUT


def schedule_command(config: Config, args: Any, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    def work(db: Database) -> int:
        try:
            with db.session() as s:
                w = schedule(
                    s,
                    page=args.page,
                    component=args.component,
                    title=args.title,
                    start=args.start,
                    end=args.end,
                    rrule=args.rrule,
                )
        except MaintenanceError as exc:
            return _refused(exc, err)
        print(w.id, file=out)
        return EXIT_OK

    return _with_db(config, work)


def cancel_command(config: Config, window_id: int, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    def work(db: Database) -> int:
        try:
            with db.session() as s:
                w = cancel(s, window_id)
        except MaintenanceError as exc:
            return _refused(exc, err)
        print(f"maintenance {w.id} cancelled: {w.title}", file=out)
        return EXIT_OK

    return _with_db(config, work)


def window_json(w: WindowView, now: float) -> dict[str, Any]:
    nxt = next_occurrences(w.rule, now)
    return {
        "id": w.id,
        "page": w.page_slug,
        "component": w.component,
        "title": w.title,
        "status": window_status(w.rule, now),
        "start": w.rule.start,
        "end": w.rule.end,
        "timezone": w.rule.timezone,
        "rrule": w.rule.rrule,
        "next_start": iso_seconds(nxt[0].start) if nxt else None,
        "next_end": iso_seconds(nxt[0].end) if nxt else None,
        "source": w.source,
        "cancelled_at": None if w.cancelled_at is None else iso_seconds(w.cancelled_at),
    }


def list_command(
    config: Config,
    *,
    page: str | None = None,
    as_json: bool = False,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    def work(db: Database) -> int:
        now = time.time()
        try:
            with db.session() as s:
                rows = [window_json(w, now) for w in list_windows(s, page=page)]
        except MaintenanceError as exc:
            return _refused(exc, err)
        if as_json:
            print(json.dumps(rows, ensure_ascii=False, indent=2), file=out)
            return EXIT_OK
        for r in rows:
            when = f"{r['start']} – {r['end']} {r['timezone']}" + (f" {r['rrule']}" if r["rrule"] else "")
            print(f"{r['id']:>4}  {r['status']:<11}  {r['page']}/{r['component']}  {when}  {r['title']}", file=out)
        if not rows:
            print("no maintenance windows", file=out)
        return EXIT_OK

    return _with_db(config, work)


__all__ = ["cancel_command", "list_command", "schedule_command", "window_json"]
