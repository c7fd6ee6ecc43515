"""``callmeter-tui incident open|update|resolve|list``: operator incidents from the command line.

Writes go straight to the database; a running ``serve`` or dashboard (this machine or another node on
the same PostgreSQL) notices within seconds (engine.incident_watch), so no restart and no API server.
Bad input (unknown page, component or incident, empty title) is one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from ..config.model import Config
from ..domain.incident_status import IncidentStatus, OperatorIncident
from ..domain.isotime import iso_seconds
from ..store.incidents import (
    ComponentChoice,
    IncidentError,
    load_incidents,
    open_incident,
    parse_impact,
    parse_status,
    resolve_incident,
    update_incident,
)

EXIT_BAD_INPUT = 2


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``incident`` sub-commands, on the CLI's sub-parser set."""
    inc = sub.add_parser("incident", help="operator incidents: open, update, resolve, list")
    verbs = inc.add_subparsers(dest="verb", metavar="VERB", required=True)
    op = verbs.add_parser("open", parents=[common], help="open an incident (prints its id)")
    op.add_argument("--page", required=True, metavar="SLUG")
    op.add_argument("--title", required=True)
    op.add_argument("--impact", default="none", help="none | minor | major | critical (default: none)")
    op.add_argument("--status", default="investigating", help="investigating (default) | identified | monitoring")
    op.add_argument(
        "--component", action="append", default=[], metavar="NAME[=STATUS]", help="affected component (repeatable)"
    )
    op.add_argument("--message", required=True)
    op.add_argument("--json", action="store_true", help="print the incident as JSON")
    up = verbs.add_parser("update", parents=[common], help="add an update (status + message)")
    up.add_argument("id", type=int, metavar="ID")
    up.add_argument("--status", required=True, help="investigating | identified | monitoring | resolved")
    up.add_argument("--message", required=True)
    up.add_argument("--impact", default=None)
    up.add_argument("--component", action="append", default=[], metavar="NAME[=STATUS]")
    up.add_argument("--postmortem", default=None, help="postmortem text shown with the incident")
    up.add_argument("--json", action="store_true")
    rs = verbs.add_parser("resolve", parents=[common], help="resolve an incident")
    rs.add_argument("id", type=int, metavar="ID")
    rs.add_argument("--message", default=None)
    rs.add_argument("--json", action="store_true")
    ls = verbs.add_parser("list", parents=[common], help="list incidents, newest first")
    ls.add_argument("--page", default=None, metavar="SLUG")
    ls.add_argument("--json", action="store_true")


def incident_json(inc: OperatorIncident) -> dict[str, Any]:
    def iso(ts: float | None) -> str | None:
        return None if ts is None else iso_seconds(ts)

    return {
        "id": inc.id,
        "page": inc.page_slug,
        "title": inc.title,
        "impact": inc.impact.value,
        "status": inc.status.value,
        "created_at": iso(inc.created_at),
        "updated_at": iso(inc.updated_at),
        "resolved_at": iso(inc.resolved_at),
        "components": [{"name": c.name, "status": c.status.value} for c in inc.components],
        "updates": [
            {"id": u.id, "status": u.status.value, "body": u.body, "created_at": iso(u.created_at)} for u in inc.updates
        ],
        "postmortem": inc.postmortem,
    }


def _line(inc: OperatorIncident) -> str:
    latest = inc.latest.body.splitlines()[0] if inc.latest and inc.latest.body else ""
    return (
        f"{inc.id}\t{inc.page_slug}\t{inc.status.value}\t{inc.impact.value}\t{iso_seconds(inc.created_at)}\t"
        f"{inc.title}\t{latest}"
    )


def incident_command(config: Config, args: argparse.Namespace) -> int:
    from ..store.connect import default_sqlite_url
    from ..store.database import open_database, transaction
    from ..store.sync import sync_config

    db = open_database(config.database_url or default_sqlite_url(), project_name=config.project_name)
    try:
        with transaction(db.sessions) as s:
            sync_config(s, config)  # the config's pages exist even before the first serve
        with transaction(db.sessions) as s:
            shown = _run(s, args, time.time())
        if shown is None:
            return 0
        if args.json:
            print(json.dumps([incident_json(i) for i in shown] if args.verb == "list" else incident_json(shown[0])))
        elif args.verb == "list":
            for inc in shown:
                print(_line(inc))
        else:
            print(shown[0].id)
        return 0
    except IncidentError as e:
        print(f"incident {args.verb}: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        db.close()


def _run(s: Any, args: argparse.Namespace, now: float) -> list[OperatorIncident] | None:
    comps = [ComponentChoice.parse(c) for c in getattr(args, "component", [])]
    if args.verb == "open":
        status = parse_status(args.status)
        if status is IncidentStatus.RESOLVED:
            raise IncidentError("--status: an incident cannot be opened resolved")
        incident_id = open_incident(
            s,
            slug=args.page,
            title=args.title,
            message=args.message,
            now=now,
            impact=parse_impact(args.impact),
            status=status,
            components=comps,
        )
    elif args.verb == "update":
        incident_id = args.id
        update_incident(
            s,
            incident_id,
            status=parse_status(args.status),
            message=args.message,
            now=now,
            components=comps,
            impact=parse_impact(args.impact) if args.impact else None,
            postmortem=args.postmortem,
        )
    elif args.verb == "resolve":
        incident_id = args.id
        resolve_incident(s, incident_id, now=now, message=args.message)
    else:
        return load_incidents(s, slug=args.page)
    return [i for i in load_incidents(s) if i.id == incident_id]


__all__ = ["add_parser", "incident_command", "incident_json"]
