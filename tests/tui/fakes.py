"""An in-memory MonitorAPI for the dashboard's tests, the tmux demo and the benchmark.

It keeps the Protocol exactly and publishes on a real EventBus, so the app is driven the same
way as by the engine. Every mutating call is recorded in ``calls`` for assertions.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, replace
from typing import Any

from callmeter_tui.bus.events import (
    EventBus,
    ExecutionRecorded,
    NotificationRaised,
    PagesChanged,
    ProbesChanged,
    StateChanged,
)
from callmeter_tui.config.model import Config
from callmeter_tui.domain.health import HealthState
from callmeter_tui.domain.probe import ProbeKind, ProbeSpec, StatusPageSpec, WebhookFormat
from callmeter_tui.domain.results import ProbeResult
from callmeter_tui.domain.siptrace import Direction, SipMessage, cap
from callmeter_tui.domain.spans import HealthSpan
from callmeter_tui.domain.thresholds import Threshold, evaluate
from callmeter_tui.engine.api import (
    AttemptRow,
    DeliveryView,
    ExecutionRow,
    HistoryView,
    ProbeDetail,
    ProbeView,
    RecentTransition,
    StatusPageView,
    TraceView,
    TransitionRow,
    WebhookView,
)

try:
    from callmeter_tui.domain.bars import BarSegment  # type: ignore[attr-defined]
except ImportError:  # the domain module may land later; same fields

    @dataclass(frozen=True)
    class BarSegment:  # type: ignore[no-redef]
        start: float
        end: float
        state: str
        healthy_s: float = 0.0
        degraded_s: float = 0.0
        unhealthy_s: float = 0.0
        unknown_s: float = 0.0


T0 = 1_780_000_000.0  # fixed "now" for deterministic screens (2026-05-28)
CALL_THRESHOLDS = {
    "mos": Threshold(3.8, 3.0),
    "jitter_ms": Threshold(20, 50),
    "packet_loss_pct": Threshold(1, 5),
    "setup_time_ms": Threshold(1500, 4000),
}
GOOD = {"mos": 4.38, "jitter_ms": 2.1, "packet_loss_pct": 0.0, "rtt_ms": 18.0, "setup_time_ms": 142.0}
WARN = {"mos": 3.52, "jitter_ms": 27.4, "packet_loss_pct": 1.8, "rtt_ms": 64.0, "setup_time_ms": 380.0}
BAD = {"mos": 2.41, "jitter_ms": 71.0, "packet_loss_pct": 9.5, "rtt_ms": 210.0, "setup_time_ms": 4200.0}
METRICS_FOR = {"HEALTHY": GOOD, "DEGRADED": WARN, "UNHEALTHY": BAD, "UNKNOWN": {}}


def thresholds_dict(th: dict[str, Threshold]) -> dict[str, dict[str, float | None]]:
    return {k: {"warning": v.warning, "critical": v.critical} for k, v in th.items()}


class FakeMonitor:
    """MonitorAPI in memory. ``now`` is the clock used for timestamps (fixed by default)."""

    def __init__(self, project_name: str = "Fake Project", now: float = T0, web_url: str | None = None) -> None:
        self.config = Config(project_name=project_name)
        self.bus = EventBus()
        self.now = now
        self._web_url = web_url
        self.views: dict[int, ProbeView] = {}
        self.specs: dict[int, ProbeSpec] = {}
        self.pages: dict[int, StatusPageView] = {}
        self.webhooks: dict[int, WebhookView] = {}
        self.notifications: list[NotificationRaised] = []
        self.stored_transitions: list[RecentTransition] = []  # what the store holds (oldest first)
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self._ids = itertools.count(1)
        self._exec_ids = itertools.count(1000)
        self.history_calls = 0
        self.detail_calls = 0
        self.trace_calls: list[tuple[int, int | None]] = []
        self.sip_reason = "Service Unavailable"  # what the fake peer answers on failed calls

    # --- building fixtures ----------------------------------------------------------------------
    def add(
        self,
        name: str,
        state: str = "HEALTHY",
        *,
        group: str = "",
        kind: str = "sip_call",
        source: str = "config",
        enabled: bool = True,
        agent: str = "local",
        checked_ago: float = 12.0,
    ) -> int:
        pid = next(self._ids)
        spec = ProbeSpec(
            name=name,
            kind=ProbeKind(kind),
            target=f"sip:echo@127.0.0.1:{5000 + pid}",
            interval_s=30.0,
            thresholds=dict(CALL_THRESHOLDS),
            source=source,
            group=group,
            agent=agent,
            enabled=enabled,
        )
        self.specs[pid] = spec
        metrics = dict(METRICS_FOR[state])
        ev = evaluate(
            ProbeResult(ok=state != "UNHEALTHY" or True, started_at=self.now, duration_ms=1.0, metrics=metrics),
            spec.thresholds,
        )
        self.views[pid] = ProbeView(
            id=pid,
            name=name,
            kind=kind,
            target=spec.target,
            enabled=enabled,
            agent=agent,
            source=source,
            group=group,
            position=pid,
            interval_s=spec.interval_s,
            state=state,
            state_since=self.now - 3600,
            last_execution_at=None if state == "UNKNOWN" else self.now - checked_ago,
            last_execution_id=None,
            metrics=metrics,
            breaches=ev.breaches,
            thresholds=thresholds_dict(spec.thresholds),
            mos_history=tuple(round(metrics.get("mos", 4.0) + 0.3 * ((i * 7) % 5 - 2) / 2, 2) for i in range(20))
            if metrics
            else (),
        )
        return pid

    def record(self, pid: int, state: str, metrics: dict[str, float] | None = None, at: float | None = None) -> None:
        """A probe run finished: update the snapshot and publish like the engine does."""
        at = self.now if at is None else at
        old = self.views[pid]
        metrics = dict(METRICS_FOR[state] if metrics is None else metrics)
        ev = evaluate(ProbeResult(ok=True, started_at=at, duration_ms=1.0, metrics=metrics), self.specs[pid].thresholds)
        eid = next(self._exec_ids)
        self.views[pid] = replace(
            old,
            state=state,
            last_execution_at=at,
            last_execution_id=eid,
            metrics=metrics,
            breaches=ev.breaches,
            state_since=at if state != old.state else old.state_since,
            mos_history=(old.mos_history + ((metrics["mos"],) if "mos" in metrics else ()))[-60:],
        )
        self.bus.publish(ExecutionRecorded(pid, old.name, eid, at, state, state, metrics, ev.breaches))
        if state != old.state:
            self.stored_transitions.append(
                RecentTransition(at, pid, old.name, HealthState.parse(old.state), HealthState.parse(state))
            )
            self.bus.publish(StateChanged(pid, old.name, old.state, state, at, eid, eid))

    def notify(self, level: str, text: str) -> None:
        n = NotificationRaised(len(self.notifications) + 1, level, "state", text, self.now)
        self.notifications.append(n)
        self.bus.publish(n)

    # --- MonitorAPI -----------------------------------------------------------------------------
    def probe_views(self) -> list[ProbeView]:
        return list(self.views.values())

    def web_url(self) -> str | None:
        return self._web_url

    async def run_now(self, probe_id: int) -> None:
        self.calls.append(("run_now", (probe_id,)))

    async def add_probe(self, spec: ProbeSpec) -> int:
        self.calls.append(("add_probe", (spec,)))
        pid = self.add(
            spec.name,
            "UNKNOWN",
            group=spec.group,
            kind=spec.kind.value,
            source=spec.source,
            enabled=spec.enabled,
            agent=spec.agent,
        )
        self.specs[pid] = spec
        self.views[pid] = replace(
            self.views[pid], target=spec.target, interval_s=spec.interval_s, thresholds=thresholds_dict(spec.thresholds)
        )
        self.bus.publish(ProbesChanged((pid,)))
        return pid

    async def update_probe(self, probe_id: int, spec: ProbeSpec) -> None:
        self.calls.append(("update_probe", (probe_id, spec)))
        self.specs[probe_id] = spec
        self.views[probe_id] = replace(
            self.views[probe_id],
            name=spec.name,
            target=spec.target,
            interval_s=spec.interval_s,
            group=spec.group,
            enabled=spec.enabled,
            thresholds=thresholds_dict(spec.thresholds),
        )
        self.bus.publish(ProbesChanged((probe_id,)))

    async def set_enabled(self, probe_id: int, enabled: bool) -> None:
        self.calls.append(("set_enabled", (probe_id, enabled)))
        self.views[probe_id] = replace(self.views[probe_id], enabled=enabled)
        self.specs[probe_id] = replace(self.specs[probe_id], enabled=enabled)
        self.bus.publish(ProbesChanged((probe_id,)))

    async def delete_probe(self, probe_id: int) -> None:
        self.calls.append(("delete_probe", (probe_id,)))
        self.views.pop(probe_id)
        self.specs.pop(probe_id)
        self.bus.publish(ProbesChanged((probe_id,)))

    async def save_status_page(self, spec: StatusPageSpec, page_id: int | None = None) -> int:
        self.calls.append(("save_status_page", (spec, page_id)))
        pid = page_id if page_id is not None else next(self._ids)
        self.pages[pid] = StatusPageView(pid, spec, "interactive" if page_id is None else self.pages[pid].source)
        self.bus.publish(PagesChanged((spec.slug,)))
        return pid

    async def delete_status_page(self, page_id: int) -> None:
        self.calls.append(("delete_status_page", (page_id,)))
        page = self.pages.pop(page_id)
        self.bus.publish(PagesChanged((page.spec.slug,)))

    async def list_status_pages(self) -> list[StatusPageView]:
        return list(self.pages.values())

    async def schedule_maintenance(
        self,
        page: str | None,
        component: str | None,
        title: str | None,
        start: str | None,
        end: str | None,
        rrule: str | None = None,
    ) -> int:
        """The domain's window rule refuses bad times/rules (the store adds page/component checks)."""
        from callmeter_tui.config.recurrence import make_rule
        from callmeter_tui.domain.maintenance import MaintenanceError

        for key, value in (("page", page), ("component", component), ("title", title), ("start", start), ("end", end)):
            if not value:
                raise MaintenanceError(key, "is required")
        make_rule(str(start), str(end), "UTC", rrule)
        self.calls.append(("schedule_maintenance", (page, component, title, start, end, rrule)))
        return 7

    async def history(self, probe_ids: list[int], mode: str = "days") -> dict[int, HistoryView]:
        self.history_calls += 1
        n, size = (90, 86400.0) if mode == "days" else (24, 3600.0)
        out = {}
        for pid in probe_ids:
            v = self.views.get(pid)
            if v is None:
                continue
            segs = []
            for i in range(n):
                start = self.now - (n - i) * size
                if v.state == "UNKNOWN" or i < (pid * 13) % 20:
                    st = "UNKNOWN"
                elif i == n - 1:
                    st = v.state
                elif (i * 7 + pid) % 31 == 0:
                    st = "DEGRADED"
                elif (i * 11 + pid) % 53 == 0:
                    st = "UNHEALTHY"
                else:
                    st = "HEALTHY"
                segs.append(
                    BarSegment(
                        start,
                        start + size,
                        HealthState(st),
                        size if st == "HEALTHY" else 0.0,
                        size if st == "DEGRADED" else 0.0,
                        size if st == "UNHEALTHY" else 0.0,
                        size if st == "UNKNOWN" else 0.0,
                    )
                )
            known = [s for s in segs if s.state != HealthState.UNKNOWN]
            healthy = sum(s.state == HealthState.HEALTHY for s in known)
            up = None if not known else f"{int(10000 * healthy / len(known)) / 100:.2f}"
            out[pid] = HistoryView(pid, tuple(segs), up)
        return out

    async def execution_trace(self, probe_id: int, execution_id: int | None = None) -> TraceView | None:
        """A rejected call's flow (INVITE, 100, a retransmitted 503, ACK) for every execution."""
        self.trace_calls.append((probe_id, execution_id))
        v = self.views[probe_id]
        t0 = int(self.now * 1_000_000)

        def msg(at_ms: float, direction: Direction, first: str, method: str = "INVITE") -> SipMessage:
            text = f"{first}\r\nCall-ID: fake-{probe_id}\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
            return SipMessage(t0 + int(at_ms * 1000), direction, "UDP", "10.0.0.1:5060", "192.0.2.7:5060", text)

        flow = [
            msg(0, Direction.TX, "INVITE sip:echo@192.0.2.7 SIP/2.0"),
            msg(12.5, Direction.RX, "SIP/2.0 100 Trying"),
            msg(40.25, Direction.RX, f"SIP/2.0 503 {self.sip_reason}"),
            msg(540.25, Direction.RX, f"SIP/2.0 503 {self.sip_reason}"),
            msg(41.0, Direction.TX, "ACK sip:echo@192.0.2.7 SIP/2.0", "ACK"),
        ]
        return TraceView(execution_id or 900, self.now, v.error is None, v.error, cap(flow))

    async def probe_detail(self, probe_id: int, range_s: float = 86400.0) -> ProbeDetail:
        self.detail_calls += 1
        v = self.views[probe_id]
        step = 3600.0 if range_s > 86400 else max(60.0, range_s / 60)
        pts = int(range_s // step)
        series = {
            m: tuple((self.now - (pts - i) * step, val * (1 + 0.05 * ((i % 7) - 3) / 3)) for i in range(pts))
            for m, val in v.metrics.items()
        }
        executions = tuple(
            ExecutionRow(
                id=900 - i,
                started_at=self.now - 30 * i,
                state=HealthState.UNHEALTHY if i % 4 == 3 else HealthState.parse(v.state),
                ok=i % 4 != 3,
                sip_code=503 if i % 4 == 3 else 200,
                sip_reason=self.sip_reason if i % 4 == 3 else "OK",
                error=f"call rejected: 503 {self.sip_reason}" if i % 4 == 3 else None,
                metrics=dict(v.metrics),
                breaches=list(v.breaches),
                duration_ms=6100.0,
            )
            for i in range(8)
        )
        transitions = (TransitionRow(self.now - 600, HealthState.HEALTHY, HealthState.parse(v.state)),)
        hooks = tuple(w for w in self.webhooks.values() if w.probe_id == probe_id)
        spans = (
            HealthSpan(HealthState.HEALTHY, self.now - range_s, self.now - 600),
            HealthSpan(HealthState.parse(v.state), self.now - 600, self.now),
        )
        return ProbeDetail(v, executions, transitions, (), series, hooks, self.now - range_s, self.now, 0.0, spans)

    async def add_webhook(
        self,
        probe_id: int,
        url: str,
        format: WebhookFormat = WebhookFormat.GENERIC,
        routing_key_env: str | None = None,
    ) -> tuple[int, str]:
        self.calls.append(("add_webhook", (probe_id, url, format) + ((routing_key_env,) if routing_key_env else ())))
        wid = next(self._ids)
        secret = f"whsec_fake{wid:04d}abcdef0123456789"
        self.webhooks[wid] = WebhookView(
            wid,
            probe_id,
            url,
            format,
            True,
            None,
            "whsec_…" + secret[-4:],
            "interactive",
            (
                DeliveryView(
                    wid * 10,
                    self.now - 60,
                    "failed",
                    3,
                    "HTTP 500",
                    False,
                    (AttemptRow(self.now - 60, 500, "HTTP 500", 12.0, False),),
                ),
            ),
        )
        return wid, secret

    async def set_webhook_enabled(self, webhook_id: int, enabled: bool) -> None:
        self.calls.append(("set_webhook_enabled", (webhook_id, enabled)))
        self.webhooks[webhook_id] = replace(self.webhooks[webhook_id], enabled=enabled, disabled_reason=None)

    async def rotate_webhook_secret(self, webhook_id: int) -> str:
        self.calls.append(("rotate_webhook_secret", (webhook_id,)))
        return f"whsec_rotated{webhook_id:04d}"

    async def delete_webhook(self, webhook_id: int) -> None:
        self.calls.append(("delete_webhook", (webhook_id,)))
        self.webhooks.pop(webhook_id)

    async def redeliver(self, delivery_id: int) -> int:
        self.calls.append(("redeliver", (delivery_id,)))
        return delivery_id + 1

    async def send_test_event(self, webhook_id: int) -> int:
        self.calls.append(("send_test_event", (webhook_id,)))
        return webhook_id * 100

    def recent_notifications(self) -> list[NotificationRaised]:
        return list(self.notifications)

    async def recent_transitions(self, limit: int) -> list[RecentTransition]:
        return sorted(self.stored_transitions, key=lambda t: t.at)[-limit:]


MIXES = {
    "healthy": ["HEALTHY"] * 6,
    "degraded": ["HEALTHY", "HEALTHY", "DEGRADED", "HEALTHY", "HEALTHY", "HEALTHY"],
    "major": ["HEALTHY", "DEGRADED", "UNHEALTHY", "HEALTHY", "UNHEALTHY", "HEALTHY"],
    "pending": ["UNKNOWN"] * 6,
}
NAMES = [
    "PBX OPTIONS (Berlin)",
    "Registration Service",
    "Primary SIP Trunk (US East)",
    "Backup SIP Trunk (EU West)",
    "Conference Bridge",
    "IVR System",
]


def mixed_monitor(mix: str, **kw: Any) -> FakeMonitor:
    """Six probes in two groups with the given state mix (see MIXES)."""
    m = FakeMonitor(**kw)
    for i, (name, state) in enumerate(zip(NAMES, MIXES[mix])):
        m.add(
            name,
            state,
            group="Core" if i < 2 else "Trunks",
            kind="sip_options" if i == 0 else "sip_call",
            source="config" if i % 2 == 0 else "interactive",
        )
    return m


def bulk_monitor(n: int, **kw: Any) -> FakeMonitor:
    m = FakeMonitor(**kw)
    states = ["HEALTHY"] * 17 + ["DEGRADED", "UNHEALTHY", "UNKNOWN"]
    for i in range(n):
        m.add(f"probe-{i:04d}", states[i % len(states)], group=f"Region {i % 5}")
    return m


__all__ = ["T0", "FakeMonitor", "bulk_monitor", "dataclasses", "mixed_monitor"]
