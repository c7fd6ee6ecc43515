"""Assembly of one node: database, prober pool, monitor, webhook dispatcher, web server, demo target.

The dashboard and the headless ``serve`` both start exactly this inside their running loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import os
import socket
from typing import Any

from ..bus.events import EventBus
from ..config import SettingError
from ..config.loader import secrets_env
from ..config.model import Config
from ..engine.incident_desk import IncidentDesk
from ..engine.monitor import Monitor
from ..store.connect import default_sqlite_url
from ..store.database import Database, open_database

log = logging.getLogger("callmeter_tui.engine")


class Runtime:
    """Owns every long-lived part of a node. ``start``/``stop`` run inside the app's event loop."""

    def __init__(
        self,
        config: Config,
        *,
        agent: str = "local",
        prober: Any = None,
        start_web: bool = True,
        start_dispatcher: bool = True,
        web_required: bool = False,
        web_render_child: bool = True,
    ) -> None:
        self.config = config
        self.web_required = web_required  # serve: a web port that cannot be bound stops the start (exit 2)
        self.web_render_child = web_render_child  # the dashboard renders pages in threads (see web.renderproc)
        self.bus = EventBus()
        self.db: Database = open_database(config.database_url or default_sqlite_url(), project_name=config.project_name)
        if prober is None:
            from ..probes.pool import ProberPool

            prober = ProberPool(
                call_concurrency=config.engine.call_concurrency,
                sip_bind=config.engine.sip_bind,
                sip_traces=config.engine.sip_traces,
                on_worker_restart=self._prober_restarted,
            )
        self.prober = prober
        self.monitor = Monitor(config, self.db, prober, bus=self.bus, agent=agent, secrets=secrets_env(config.demo))
        self.incidents = IncidentDesk(self.db, self.bus)  # operator incidents; sees other processes' writes
        self.start_web = start_web and config.web.enabled
        self.start_dispatcher = start_dispatcher
        self.web: Any = None
        self.dispatcher: Any = None
        self.demo_targets: list[Any] = []

    def _prober_restarted(self, reason: str) -> None:
        try:
            self.monitor.notify("prober_restarted", f"prober worker restarted: {reason}")
        except RuntimeError:  # no running loop (shutdown)
            log.warning("prober worker restarted: %s", reason)

    async def start(self) -> None:
        if self.config.demo:
            from .demo_process import DemoTargets

            demo = DemoTargets()
            try:
                await demo.start()
                self.demo_targets.append(demo)
            except OSError as e:
                self.monitor.notify("demo_target", str(e), level="error")
        if hasattr(self.prober, "start"):
            await self.prober.start()
        await self.monitor.start()
        await self.incidents.start()
        if self.start_dispatcher:
            from ..webhooks.dispatcher import Dispatcher

            self.dispatcher = Dispatcher(
                self.db.sessions, self.config.webhooks, bus=self.bus, owner=f"{socket.gethostname()}-{os.getpid()}"
            )
            await self.dispatcher.start()
        if self.start_web:
            await self._start_web()
        # Start-up objects (config, ORM state, templates, pjsua2 proxies) live for the whole run: move
        # them out of the collector's reach so full GC passes stay short and never stall the UI loop.
        gc.collect()
        gc.freeze()

    async def _start_web(self) -> None:
        from ..web.server import WebServer

        try:
            self.web = WebServer(self.db, self.config, self.bus, render_child=self.web_render_child)
            await self.web.start()
            self.monitor.set_web_url(_public_url(self.config, self.web))
            log.info("status pages at %s", self.monitor.web_url())
        except OSError as e:
            self.web = None
            where = f"{self.config.web.host}:{self.config.web.port}"
            if self.web_required:
                raise SettingError(f"web.port: cannot listen on {where}: {e.strerror or e}") from None
            self.monitor.notify("web_failed", f"web server not started on {where}: {e.strerror or e}", level="error")

    async def stop(self) -> None:
        await self.monitor.stop()
        await self.incidents.stop()
        for part in (self.web, self.dispatcher):
            if part is not None:
                try:
                    await part.stop()
                except Exception:
                    log.exception("stopping %s failed", type(part).__name__)
        if hasattr(self.prober, "stop"):
            await self.prober.stop()
        for target in self.demo_targets:
            await target.stop()
        await asyncio.to_thread(self.db.close)


def _public_url(config: Config, web: Any) -> str:
    base = config.web.public_base_url.rstrip("/")
    port = getattr(web, "port", None)
    if config.web.port == 0 and port:
        base = f"http://{config.web.host}:{port}"
    slug = config.status_pages[0].slug if config.status_pages else ""
    return f"{base}/{slug}" if slug else base


def with_database(config: Config, url: str) -> Config:
    return dataclasses.replace(config, database_url=url)
