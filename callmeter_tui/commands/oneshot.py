"""One-shot commands: ``probe NAME`` (run once, print, exit by health) and ``webhooks`` (list)."""

from __future__ import annotations

import asyncio
import sys

from ..config.model import Config
from ..domain.health import HealthState
from ..domain.probe import ProbeKind, ProbeSpec
from ..domain.thresholds import evaluate

EXIT_BY_STATE = {HealthState.HEALTHY: 0, HealthState.DEGRADED: 1, HealthState.UNHEALTHY: 2}


def probe_command(config: Config, name: str, *, as_json: bool = False) -> int:
    """Run one probe once; exit 0 healthy, 1 degraded, 2 unhealthy."""
    spec = next((p for p in config.probes if p.name == name), None)
    if spec is None:
        names = ", ".join(repr(p.name) for p in config.probes) or "none"
        print(f"probe: no probe named {name!r} in the config (probes: {names})", file=sys.stderr)
        return 2
    return asyncio.run(_probe(config, spec, as_json))


async def _probe(config: Config, spec: ProbeSpec, as_json: bool) -> int:
    from ..config.loader import secrets_env
    from ..probes import run_once
    from ..probes.result_text import format_result, result_json

    secrets = secrets_env(config.demo)
    targets = []
    if config.demo:
        from ..probes.demo_target import start_demo_targets

        try:
            targets = await start_demo_targets()
        except OSError as e:  # another instance holds the demo ports: probe whatever answers there
            print(
                f"probe: demo SIP target not started ({e.strerror or e}); using what listens on 5070-5072",
                file=sys.stderr,
            )
    try:
        password = secrets.get(spec.password_env) if spec.password_env else None
        if spec.password_env and password is None:
            print(f"probe: auth.password_env: environment variable {spec.password_env} is not set", file=sys.stderr)
            return 2
        result = await run_once(spec, password, sip_bind=config.engine.sip_bind)
    finally:
        for t in targets:
            await t.stop()
    if ProbeKind(spec.kind).places_call and "call_answered" in result.details:
        result.metrics.setdefault("asr_pct", 100.0 if result.details["call_answered"] else 0.0)
    evaluation = evaluate(result, spec.thresholds)
    print(result_json(spec, result, evaluation) if as_json else format_result(spec, result, evaluation))
    return EXIT_BY_STATE.get(evaluation.state, 2)


def webhooks_command(config: Config, *, reveal: bool = False) -> int:
    """List webhooks with masked secrets (``--reveal`` prints them) after importing the config."""
    from ..store.connect import default_sqlite_url
    from ..store.database import open_database
    from ..store.sync import sync_config
    from ..webhooks.listing import list_webhooks

    db = open_database(config.database_url or default_sqlite_url(), project_name=config.project_name)
    try:
        with db.session() as s:
            sync_config(s, config)
        list_webhooks(db, reveal, sys.stdout)
    finally:
        db.close()
    return 0


__all__ = ["probe_command", "webhooks_command"]
