"""Headless ``callmeter-tui serve``: engine + web + webhooks, one log line per event, systemd-friendly.

SIGTERM/SIGINT shut down gracefully within the longest probe timeout (in-flight runs finish; outbox
rows stay in the database). Exit 0 on clean shutdown; on a fatal error one line with the reason and exit 2
when it is the configuration's (restarting cannot help: bad CA bundle, database path, web port in use, wrong
database credentials) or 1 when it is the moment's (database server down or unreachable, anything unexpected).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

from ..bus.events import (
    DeliveriesQueued,
    ExecutionRecorded,
    NotificationRaised,
    PagesChanged,
    ProbesChanged,
    StateChanged,
)
from ..config import ConfigError, SettingError, load_config
from ..config.model import Config
from ..config.reload import restart_keys
from ..domain.isotime import iso_millis
from ..store.database import StoreError
from .runloop import run as run_loop

log = logging.getLogger("callmeter_tui")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": iso_millis(record.created),
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
        }
        event = getattr(record, "event", None)
        if event:
            out.update(event)
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(out, separators=(",", ":"))


def setup_logging(log_format: str, stream: Any = sys.stdout) -> None:
    handler = logging.StreamHandler(stream)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for noisy in ("apscheduler", "aiohttp.access", "httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def describe(event: object) -> tuple[str, dict[str, Any]] | None:
    """One log line (text, structured fields) per engine event."""
    if isinstance(event, ExecutionRecorded):
        m = " ".join(f"{k}={v:g}" for k, v in sorted(event.metrics.items()))
        err = f" error={event.error!r}" if event.error else ""
        code = f" sip={event.sip_code}" if event.sip_code else ""
        return (
            f"execution probe={event.probe_name!r} state={event.state} result={event.execution_state}{code} {m}{err}".rstrip(),
            {
                "event": "execution",
                "probe": event.probe_name,
                "probe_id": event.probe_id,
                "state": event.state,
                "result": event.execution_state,
                "metrics": event.metrics,
                "error": event.error,
                "sip_code": event.sip_code,
            },
        )
    if isinstance(event, StateChanged):
        return (
            f"transition probe={event.probe_name!r} {event.previous} -> {event.current}",
            {
                "event": "transition",
                "probe": event.probe_name,
                "probe_id": event.probe_id,
                "previous": event.previous,
                "current": event.current,
            },
        )
    if isinstance(event, NotificationRaised):
        return (
            f"notification {event.kind}: {event.text}",
            {"event": "notification", "kind": event.kind, "text": event.text},
        )
    if isinstance(event, (ProbesChanged, PagesChanged)):
        return (f"{type(event).__name__}", {"event": type(event).__name__})
    if isinstance(event, DeliveriesQueued):
        return None
    return None


EXIT_FATAL, EXIT_CONFIG = 1, 2  # 2: fix the configuration first (the unit's RestartPreventExitStatus)


def serve(config: Config, *, agent: str = "local", log_format: str = "plain", warnings: Sequence[str] = ()) -> int:
    """Run until SIGTERM/SIGINT. Exit 0 when stopped, 2 for a configuration problem found at start, 1 otherwise."""
    setup_logging(log_format)
    for line in warnings:
        log.warning("config: %s", line)
    try:
        return run_loop(_serve(config, agent))  # uvloop on Linux: the public page's rate (issue 16)
    except SettingError as e:
        log.error("fatal: %s", e)
        return EXIT_CONFIG
    except StoreError as e:
        log.error("fatal: %s", e)
        return EXIT_CONFIG if e.config else EXIT_FATAL
    except Exception as e:  # fatal: one line with the reason
        log.error("fatal: %s: %s", type(e).__name__, e)
        return EXIT_FATAL


async def _serve(config: Config, agent: str) -> int:
    from .runtime import Runtime

    runtime = Runtime(config, agent=agent, web_required=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reloads: set[asyncio.Task[None]] = set()  # held until done: a dropped task can be collected mid-reload

    def on_hup() -> None:
        task = loop.create_task(_reload(runtime))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, on_hup)

    def on_event(event: object) -> None:
        line = describe(event)
        if line:
            log.info(line[0], extra={"event": line[1]})

    runtime.bus.on(on_event)
    try:
        await runtime.start()
    except BaseException:  # stop what did start (prober workers, dispatcher) before reporting why
        try:
            await runtime.stop()
        except Exception:
            log.exception("stopping after a failed start failed")
        raise
    log.info(
        "serving %d probes (agent %s)%s",
        len(runtime.monitor.probe_views()),
        agent,
        f"; status pages at {runtime.monitor.web_url()}" if runtime.monitor.web_url() else "",
        extra={"event": {"event": "serving", "loop": type(loop).__module__.split(".")[0]}},
    )
    await stop.wait()
    log.info("shutting down")
    await runtime.stop()
    log.info("stopped")
    return 0


async def _reload(runtime: Any) -> None:
    """SIGHUP: apply the file, or refuse it whole (one line) when it changes keys only a restart applies."""
    path = runtime.config.path
    try:
        config, warnings = load_config(path)
    except ConfigError as e:
        for line in e.lines:
            log.error("reload refused: %s", line)
        return
    if path is None:  # the demo's throw-away database is not in the (built-in) file
        config = dataclasses.replace(config, database_url=runtime.config.database_url)
    keys = restart_keys(runtime.config, config)
    if keys:
        log.error("reload refused: %s changed and need a restart; nothing was applied", ", ".join(keys))
        return
    for line in warnings:
        log.warning("config: %s", line)
    await runtime.monitor.reload_config(config)
    runtime.config = config
    log.info("config reloaded from %s", path or "built-in demo config")
