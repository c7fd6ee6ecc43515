"""The monitor (as serve and the dashboard run it) with a ``[[maintenance]]`` window, against a real
database: the probe view says "under maintenance" while the window lasts, a failure inside it is recorded
but its webhooks hold, and the catch-up goes out when the window is over; the dashboard's schedule call
refuses an unknown component naming the key."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from callmeter_tui.config.model import Config
from callmeter_tui.domain.maintenance import MaintenanceError, MaintenanceSpec
from callmeter_tui.domain.probe import ComponentSpec, StatusPageSpec
from callmeter_tui.engine.monitor import Monitor
from callmeter_tui.store.models import Delivery, Transition

from .test_monitor import PBX, Clock, ScriptedProber, _pid

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
MIN = 60.0


async def test_monitor_holds_webhooks_during_the_window_and_catches_up(database) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(T0)
    prober = ScriptedProber(clock)
    page = StatusPageSpec(slug="voip", name="VoIP", components=(ComponentSpec(probe="PBX", name="PBX"),))
    window = MaintenanceSpec("voip", "PBX", "Swap", "2027-01-15T08:30Z", "2027-01-15T09:00Z")
    cfg = Config(database_url=database.url, probes=(PBX,), status_pages=(page,), maintenance=(window,))
    m = Monitor(cfg, database, prober, clock=clock, watchdog_s=3600)
    await m.start()
    try:
        pid = _pid(m, "PBX")
        clock.t += MIN
        await m.run_now(pid)  # UNKNOWN -> HEALTHY: both webhooks told
        assert not m.probe_views()[0].under_maintenance
        clock.t = T0 + 31 * MIN
        await m.maintenance.tick()
        assert m.probe_views()[0].under_maintenance
        prober.script["PBX"] = ["fail"]
        await m.run_now(pid)  # HEALTHY -> UNHEALTHY inside the window: recorded, held
        with database.session() as s:
            assert [t.current_state for t in s.scalars(select(Transition).order_by(Transition.id))] == [
                "HEALTHY",
                "UNHEALTHY",
            ]
            assert s.scalar(select(Delivery.id).where(Delivery.id > 2)) is None
        clock.t = T0 + 61 * MIN
        await m.maintenance.tick()
        assert not m.probe_views()[0].under_maintenance
        with database.session() as s:
            bodies = [json.loads(d.body) for d in s.scalars(select(Delivery).order_by(Delivery.id))]
        assert [(b["previous_status"], b["current_status"]) for b in bodies] == [
            ("UNKNOWN", "HEALTHY"),
            ("UNKNOWN", "HEALTHY"),
            ("HEALTHY", "UNHEALTHY"),
            ("HEALTHY", "UNHEALTHY"),
        ]
        (hist,) = (await m.history([pid])).values()
        assert hist.segments[-1].maintenance_s == 30 * MIN  # the dashboard's bar knows the window too
        assert hist.segments[-1].unhealthy_s == 0.0  # the failure fell inside it
        with pytest.raises(MaintenanceError) as err:
            await m.schedule_maintenance("voip", "Ghost", "x", "2027-02-01T00:00", "2027-02-01T01:00")
        assert err.value.key == "component"
        wid = await m.schedule_maintenance("voip", "PBX", "Later", "2027-02-01T00:00", "2027-02-01T01:00")
        assert wid > 0
    finally:
        await m.stop()
