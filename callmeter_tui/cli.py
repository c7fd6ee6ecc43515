"""Command line: the dashboard (default), serve, check, probe, trace, webhooks, incident, maintenance, report,
demo-target."""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .config import Config, ConfigError, load_config, resolve_config_path
from .config.loader import secrets_env
from .store.database import StoreError

COMMANDS = (
    "run",
    "serve",
    "check",
    "probe",
    "trace",
    "recording",
    "webhooks",
    "incident",
    "maintenance",
    "report",
    "demo-target",
)
EXIT_OK, EXIT_FATAL, EXIT_CONFIG = 0, 1, 2


class _OneLineParser(argparse.ArgumentParser):
    """A bad argument is one line naming it (not the usage block), exit 2 like every bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _OneLineParser(prog="callmeter-tui", description="SIP/VoIP monitoring console.")
    p.add_argument("--version", action="version", version=f"callmeter-tui {__version__}")
    common = _OneLineParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $CALLMETER_CONFIG, ~/.config/callmeter-tui/config.toml, built-in demo)",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", parents=[common], help="the live dashboard (default command)")
    _demo_flag(run)
    run.add_argument(
        "--kiosk", action="store_true", help="wall-screen mode: no footer, auto-cycle, alert flash, read-only"
    )
    run.add_argument(
        "--theme",
        choices=("dark", "light", "high-contrast"),
        default=None,
        help="colour theme (default: dashboard.theme in the config, else dark)",
    )
    run.add_argument("--agent", default="local", help="run only the probes of this agent (default: local)")

    serve = sub.add_parser("serve", parents=[common], help="headless: engine + web + webhooks, one log line per event")
    _demo_flag(serve)
    serve.add_argument("--agent", default="local", help="run only the probes whose agent is this (default: local)")
    serve.add_argument("--log-format", choices=("plain", "json"), default="plain")

    sub.add_parser("check", parents=[common], help="validate the config; exit 0 if clean, 2 if not")

    probe = sub.add_parser("probe", parents=[common], help="run one probe once and print its execution")
    probe.add_argument("name", help="the probe's name in the config")
    probe.add_argument("--json", action="store_true", help="print the execution as JSON")
    _demo_flag(probe)

    trace = sub.add_parser("trace", parents=[common], help="one execution's SIP messages: a ladder or a pcap")
    trace.add_argument("name", help="the probe's name")
    trace.add_argument("--execution", type=int, metavar="ID", help="the execution's id (default: the latest)")
    trace.add_argument("--format", choices=("text", "pcap"), default="text", help="text ladder (default) or pcap")
    trace.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    rec = sub.add_parser("recording", parents=[common], help="a call probe's last recording: its path and scores")
    rec.add_argument("name", help="the probe's name")

    hooks = sub.add_parser("webhooks", parents=[common], help="list webhooks (secrets masked)")
    hooks.add_argument("--reveal", action="store_true", help="print the secrets in full")

    report = sub.add_parser("report", parents=[common], help="a status page's monthly SLA report")
    report.add_argument("--page", required=True, metavar="SLUG", help="the status page's slug")
    report.add_argument("--month", required=True, metavar="YYYY-MM", help="the month, in the page's time zone")
    report.add_argument("--format", choices=("text", "csv", "json", "html", "pdf"), default="text")
    report.add_argument("--component", action="append", default=[], metavar="NAME", help="only this component")
    report.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    from .commands.incident import add_parser as add_incident_parser

    add_incident_parser(sub, common)

    _maintenance_parser(sub, common)
    sub.add_parser("demo-target", help="run the demo SIP target (see demo-target --help)", add_help=False)
    return p


def _maintenance_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    m = sub.add_parser("maintenance", help="schedule, list or cancel maintenance windows")
    msub = m.add_subparsers(dest="maintenance_command", metavar="ACTION", required=True)
    sch = msub.add_parser("schedule", parents=[common], help="schedule a window; prints its id")
    sch.add_argument("--page", required=True, metavar="SLUG")
    sch.add_argument("--component", required=True, metavar="NAME")
    sch.add_argument(
        "--start", required=True, metavar="ISO8601", help="wall-clock in the page's zone unless it has an offset"
    )
    sch.add_argument("--end", required=True, metavar="ISO8601")
    sch.add_argument("--title", required=True)
    sch.add_argument("--rrule", metavar="RULE", help="RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=SU")
    ls = msub.add_parser("list", parents=[common], help="list windows")
    ls.add_argument("--page", metavar="SLUG")
    ls.add_argument("--json", action="store_true")
    cancel = msub.add_parser("cancel", parents=[common], help="cancel a window from now on")
    cancel.add_argument("id", type=int)


def _maintenance(config: Config, args: argparse.Namespace) -> int:
    from .commands import maintenance as m

    if args.maintenance_command == "schedule":
        return m.schedule_command(config, args)
    if args.maintenance_command == "cancel":
        return m.cancel_command(config, args.id)
    return m.list_command(config, page=args.page, as_json=args.json)


def _demo_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--demo", action="store_true", help="built-in demo config and a throw-away database")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["demo-target"]:
        from .commands.demo_target import main as demo_main

        return demo_main(argv[1:])
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "run")
    args = _parser().parse_args(argv)
    try:
        config, warnings = _load(args)
    except ConfigError as e:
        print("\n".join(e.lines), file=sys.stderr)
        return EXIT_CONFIG
    key_problems = _check_keys(config)
    if key_problems:
        print("\n".join(key_problems), file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "check":
        for w in warnings:
            print(w, file=sys.stderr)
        where = config.path or "built-in demo config"
        print(f"{where}: OK ({len(config.probes)} probes, {len(config.status_pages)} status pages)")
        return EXIT_OK
    try:
        if args.command == "serve":
            from .commands.serve import serve

            return serve(config, agent=args.agent, log_format=args.log_format, warnings=warnings)
        if args.command == "probe":
            from .commands.oneshot import probe_command

            return probe_command(config, args.name, as_json=args.json)
        if args.command == "trace":
            from .commands.trace import trace_command

            return trace_command(config, args.name, execution_id=args.execution, fmt=args.format, output=args.output)
        if args.command == "report":
            from .commands.report import report_command

            return report_command(
                config, args.page, args.month, args.format, args.output, components=tuple(args.component)
            )

        if args.command == "incident":
            from .commands.incident import incident_command

            return incident_command(config, args)

        if args.command == "maintenance":
            return _maintenance(config, args)

        if args.command == "recording":
            from .commands.recording import recording_command

            return recording_command(config, args.name)
        if args.command == "webhooks":
            from .commands.oneshot import webhooks_command

            return webhooks_command(config, reveal=args.reveal)
        from .commands.dashboard import run_dashboard

        d = config.dashboard
        return run_dashboard(
            config,
            kiosk=args.kiosk,
            theme=args.theme or d.theme,
            agent=args.agent,
            keys=d.keys,
            kiosk_cycle_s=d.kiosk_cycle_s,
        )
    except KeyboardInterrupt:
        return EXIT_OK
    except BrokenPipeError:  # `callmeter-tui webhooks | head`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except StoreError as e:  # unusable database.url: one line, no traceback
        print(e, file=sys.stderr)
        return EXIT_CONFIG if e.config else EXIT_FATAL


def _check_keys(config: Config) -> list[str]:
    """dashboard.keys must name known actions and not collide (the action list lives with the dashboard)."""
    from .tui.keys import keymap_problems

    label = config.path.name if config.path else "<built-in demo config>"
    return [f"{label}: dashboard.keys.{k}: {msg}" for k, msg in keymap_problems(config.dashboard.keys).items()]


def _load(args: argparse.Namespace) -> tuple[Config, list[str]]:
    demo = getattr(args, "demo", False)
    path = None if demo else resolve_config_path(getattr(args, "config", None))
    config, warnings = load_config(path, env=secrets_env(path is None))
    if path is None and args.command in ("run", "serve") and demo:
        # --demo: a throw-away database, so the demo never mixes with real history.
        tmp = Path(tempfile.mkdtemp(prefix="callmeter-demo-"))
        atexit.register(shutil.rmtree, tmp, True)  # throw-away: gone when the process ends (q, SIGTERM, crash)
        if not os.environ.get("CALLMETER_DATABASE_URL"):
            config = _replace_db(config, f"sqlite:///{tmp / 'demo.db'}")
    return config, warnings


def _replace_db(config: Config, url: str) -> Config:
    import dataclasses

    return dataclasses.replace(config, database_url=url)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
