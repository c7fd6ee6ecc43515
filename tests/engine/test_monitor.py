"""The monitor's rules against a real database (SQLite and PostgreSQL), with a scripted prober.

The prober here is a stand-in so that sequences (down, flapping, stale, restart) are exact; the real
prober against a real SIP target is exercised in test_engine_e2e.py.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from sqlalchemy import func, select

from callmeter_tui.bus.events import ExecutionRecorded, StateChanged
from callmeter_tui.config.model import Config
from callmeter_tui.domain.health import HealthState
from callmeter_tui.domain.probe import ProbeKind, ProbeSpec, WebhookSpec
from callmeter_tui.domain.results import ProbeResult
from callmeter_tui.domain.thresholds import Threshold
from callmeter_tui.engine.monitor import Monitor
from callmeter_tui.store import queries
from callmeter_tui.store.models import Delivery, Execution, Probe, Transition


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class ScriptedProber:
    """Returns results from a per-probe script: "ok", "fail", or a float (response_time_ms)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.script: dict[str, list[object]] = {}
        self.calls: list[str] = []

    async def run(self, spec: ProbeSpec, password: str | None = None) -> ProbeResult:
        self.calls.append(spec.name)
        steps = self.script.get(spec.name) or ["ok"]
        step = steps.pop(0) if len(steps) > 1 else steps[0]
        if step == "fail":
            return ProbeResult.failure(self.clock(), 3.0, "timeout after 3s", sip_code=408)
        rt = float(step) if isinstance(step, (int, float)) else 12.0
        return ProbeResult(
            ok=True,
            started_at=self.clock(),
            duration_ms=rt,
            metrics={"response_time_ms": rt},
            sip_code=200,
            sip_reason="OK",
        )


def _config(db_url: str, *probes: ProbeSpec) -> Config:
    return Config(project_name="Production Environment", database_url=db_url, probes=probes)


PBX = ProbeSpec(
    name="PBX",
    kind=ProbeKind.SIP_OPTIONS,
    target="sip:127.0.0.1:5060",
    interval_s=60,
    thresholds={"response_time_ms": Threshold(warning=100, critical=500)},
    webhooks=(WebhookSpec(url="https://hooks.example.com/a"), WebhookSpec(url="https://hooks.example.com/b")),
)


async def _monitor(database, clock: Clock, *probes: ProbeSpec) -> tuple[Monitor, ScriptedProber]:
    prober = ScriptedProber(clock)
    m = Monitor(_config(database.url, *probes), database, prober, clock=clock, watchdog_s=3600)
    await m.start()
    return m, prober


def _pid(m: Monitor, name: str) -> int:
    return next(v.id for v in m.probe_views() if v.name == name)


async def _steps(m: Monitor, clock: Clock, pid: int, n: int, dt: float = 60.0) -> None:
    for _ in range(n):
        clock.t += dt
        await m.run_now(pid)


async def test_target_down_gives_one_transition_and_one_delivery_per_webhook(database) -> None:
    clock = Clock()
    m, prober = await _monitor(database, clock, PBX)
    try:
        events = m.bus.subscribe()
        pid = _pid(m, "PBX")
        prober.script["PBX"] = ["ok", "ok", "ok", "fail", "fail", "fail", "fail"]
        await _steps(m, clock, pid, 7)
        with database.session() as s:
            down = s.scalars(
                select(Transition).where(Transition.probe_id == pid, Transition.current_state == "UNHEALTHY")
            ).all()
            assert [(t.previous_state, t.current_state) for t in down] == [("HEALTHY", "UNHEALTHY")]
            deliveries = s.scalars(select(Delivery).where(Delivery.transition_id == down[0].id)).all()
            assert len(deliveries) == 2 and len({d.webhook_id for d in deliveries}) == 2
            assert s.scalar(select(func.count()).select_from(Execution).where(Execution.probe_id == pid)) == 7
        seen = []
        while not events.empty():
            seen.append(events.get_nowait())
        changes = [(e.previous, e.current) for e in seen if isinstance(e, StateChanged)]
        assert ("HEALTHY", "UNHEALTHY") in changes and changes.count(("HEALTHY", "UNHEALTHY")) == 1
        assert sum(isinstance(e, ExecutionRecorded) for e in seen) == 7
        view = next(v for v in m.probe_views() if v.id == pid)
        assert view.state == "UNHEALTHY" and view.error == "timeout after 3s" and view.sip_code == 408
        # what a dashboard started now reads for its events panel: the stored transitions, oldest first
        recent = await m.recent_transitions(10)
        assert [(t.name, t.previous, t.current) for t in recent][-1] == (
            "PBX",
            HealthState.HEALTHY,
            HealthState.UNHEALTHY,
        )
        assert [t.at for t in recent] == sorted(t.at for t in recent)
        assert len(await m.recent_transitions(1)) == 1
    finally:
        await m.stop()


async def test_flapping_target_with_confirm_3(database) -> None:
    clock = Clock()
    m, prober = await _monitor(database, clock, dataclasses.replace(PBX, confirm=3, webhooks=()))
    try:
        pid = _pid(m, "PBX")
        prober.script["PBX"] = ["ok", "fail", "ok", "fail", "fail", "ok", "fail", "fail", "fail", "ok", "ok", "ok"]
        states = []
        for _ in range(12):
            clock.t += 60
            await m.run_now(pid)
            states.append(next(v.state for v in m.probe_views() if v.id == pid))
        # First result leaves UNKNOWN at once; afterwards only 3 consecutive results change the state.
        assert states == ["HEALTHY"] * 8 + ["UNHEALTHY"] * 3 + ["HEALTHY"]
        with database.session() as s:
            trans = s.scalars(select(Transition).where(Transition.probe_id == pid).order_by(Transition.id)).all()
        assert [(t.previous_state, t.current_state) for t in trans][-3:] == [
            ("UNKNOWN", "HEALTHY"),
            ("HEALTHY", "UNHEALTHY"),
            ("UNHEALTHY", "HEALTHY"),
        ]
    finally:
        await m.stop()


async def test_degraded_by_threshold_and_breach_recorded(database) -> None:
    clock = Clock()
    m, prober = await _monitor(database, clock, dataclasses.replace(PBX, webhooks=()))
    try:
        pid = _pid(m, "PBX")
        prober.script["PBX"] = [150.0]
        await _steps(m, clock, pid, 1)
        view = next(v for v in m.probe_views() if v.id == pid)
        assert view.state == "DEGRADED"
        assert view.breaches == [
            {
                "metric": "response_time_ms",
                "value": 150.0,
                "warning_threshold": 100,
                "critical_threshold": 500,
                "level": "warning",
            }
        ]
    finally:
        await m.stop()


async def test_stale_probe_goes_unknown(database) -> None:
    clock = Clock()
    m, prober = await _monitor(database, clock, PBX)
    try:
        pid = _pid(m, "PBX")
        await _steps(m, clock, pid, 2)
        clock.t += 2 * 60  # 2 intervals without a result: still fine
        await m._watchdog()
        assert next(v.state for v in m.probe_views() if v.id == pid) == "HEALTHY"
        clock.t += 2 * 60  # now > 3 intervals
        await m._watchdog()
        assert next(v.state for v in m.probe_views() if v.id == pid) == "UNKNOWN"
        with database.session() as s:
            last = s.scalars(
                select(Transition).where(Transition.probe_id == pid).order_by(Transition.id.desc())
            ).first()
            assert (last.previous_state, last.current_state, last.execution_id) == ("HEALTHY", "UNKNOWN", None)
            assert s.scalar(select(func.count()).select_from(Delivery).where(Delivery.transition_id == last.id)) == 2
        await m._watchdog()  # already UNKNOWN: no second transition
        with database.session() as s:
            assert (
                s.scalar(
                    select(func.count())
                    .select_from(Transition)
                    .where(Transition.probe_id == pid, Transition.current_state == "UNKNOWN")
                )
                == 1
            )
    finally:
        await m.stop()


async def test_edit_pause_resume_at_runtime(database) -> None:
    clock = Clock()
    m, prober = await _monitor(database, clock, dataclasses.replace(PBX, webhooks=()))
    try:
        pid = _pid(m, "PBX")
        assert pid in m.schedule.planned()
        await _steps(m, clock, pid, 1)
        spec = m._specs[pid]
        await m.update_probe(pid, dataclasses.replace(spec, target="sip:127.0.0.1:5999", interval_s=5))
        view = next(v for v in m.probe_views() if v.id == pid)
        assert view.target == "sip:127.0.0.1:5999" and view.state == "UNKNOWN"  # target changed
        assert m.schedule._intervals[pid] == 5
        await m.set_enabled(pid, False)
        assert pid not in m.schedule.planned()
        await m.set_enabled(pid, True)
        assert pid in m.schedule.planned()
        new_id = await m.add_probe(ProbeSpec(name="Added", kind=ProbeKind.SIP_OPTIONS, target="sip:127.0.0.1:5061"))
        assert new_id in m.schedule.planned()
        assert next(v for v in m.probe_views() if v.id == new_id).source == "interactive"
        with pytest.raises(ValueError, match="name: a probe named 'Added' already exists"):
            await m.add_probe(ProbeSpec(name="Added", kind=ProbeKind.SIP_OPTIONS, target="sip:127.0.0.1:5061"))
        await m.delete_probe(new_id)
        assert new_id not in m.schedule.planned() and all(v.id != new_id for v in m.probe_views())
    finally:
        await m.stop()


async def test_restart_resumes_and_downtime_is_no_data(database) -> None:
    clock = Clock()
    m, prober = await _monitor(database, clock, dataclasses.replace(PBX, webhooks=()))
    pid = _pid(m, "PBX")
    await _steps(m, clock, pid, 3)
    t_last = clock.t
    await m.stop()
    clock.t += 3600  # the monitor was down for an hour
    m2, prober2 = await _monitor(database, clock, dataclasses.replace(PBX, webhooks=()))
    try:
        assert next(v.state for v in m2.probe_views() if v.id == pid) == "HEALTHY"  # resumed from the store
        await _steps(m2, clock, pid, 2)
        with database.session() as s:
            spans = queries.load_spans(s, [pid], t_last - 600, clock.t)[pid]
        covered = sum(sp.ended_at - sp.started_at for sp in spans)
        assert covered < 600 + 3 * 60, "downtime must be no-data, not healthy"
        assert all(sp.state.value == "HEALTHY" for sp in spans)
    finally:
        await m2.stop()


async def test_prober_exception_is_recorded_not_dropped(database) -> None:
    clock = Clock()

    class Broken(ScriptedProber):
        async def run(self, spec, password=None):  # type: ignore[no-untyped-def]
            raise RuntimeError("worker pipe closed")

    m = Monitor(
        _config(database.url, dataclasses.replace(PBX, webhooks=())),
        database,
        Broken(clock),
        clock=clock,
        watchdog_s=3600,
    )
    await m.start()
    try:
        pid = _pid(m, "PBX")
        clock.t += 60
        await m.run_now(pid)
        with database.session() as s:
            e = s.scalars(select(Execution).where(Execution.probe_id == pid)).one()
        assert e.state == "UNHEALTHY" and e.error == "prober error: RuntimeError: worker pipe closed"
    finally:
        await m.stop()


async def test_a_probe_never_overlaps_itself(database) -> None:
    clock = Clock()

    class Slow(ScriptedProber):
        async def run(self, spec, password=None):  # type: ignore[no-untyped-def]
            self.calls.append(spec.name)
            await asyncio.sleep(0.2)
            return ProbeResult(ok=True, started_at=self.clock(), duration_ms=1.0)

    prober = Slow(clock)
    m = Monitor(
        _config(database.url, dataclasses.replace(PBX, webhooks=())), database, prober, clock=clock, watchdog_s=3600
    )
    await m.start()
    try:
        pid = _pid(m, "PBX")
        await asyncio.gather(*(m.run_now(pid) for _ in range(5)))
        assert len(prober.calls) == 1
    finally:
        await m.stop()


def test_config_probe_missing_password_env_is_a_probe_error(database) -> None:
    clock = Clock()
    spec = ProbeSpec(
        name="Reg",
        kind=ProbeKind.SIP_REGISTER,
        target="sip:u@127.0.0.1:5060",
        username="u",
        password_env="CALLMETER_TEST_UNSET_VAR",
    )

    async def go() -> None:
        m, prober = await _monitor(database, clock, spec)
        try:
            pid = _pid(m, "Reg")
            await m.run_now(pid)
            view = next(v for v in m.probe_views() if v.id == pid)
            assert view.state == "UNHEALTHY"
            assert view.error == "auth.password_env: environment variable CALLMETER_TEST_UNSET_VAR is not set"
            assert prober.calls == []
        finally:
            await m.stop()

    asyncio.run(go())


class Hanging(ScriptedProber):
    """A prober whose runs never end: only stop() ends them."""

    async def run(self, spec, password=None):  # type: ignore[no-untyped-def]
        await asyncio.sleep(3600)


def _monitor_with_hanging_runs(database) -> Monitor:  # type: ignore[no-untyped-def]
    clock = Clock()
    return Monitor(
        _config(database.url, dataclasses.replace(PBX, webhooks=())),
        database,
        Hanging(clock),
        clock=clock,
        watchdog_s=3600,
    )


async def test_shutdown_lets_in_flight_runs_finish_or_records_them_interrupted(database) -> None:
    m = _monitor_with_hanging_runs(database)
    await m.start()
    pid = _pid(m, "PBX")
    task = asyncio.create_task(m.run_now(pid))
    await asyncio.sleep(0.05)
    await m.stop(grace_s=0.2)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    with database.session() as s:
        e = s.scalars(select(Execution).where(Execution.probe_id == pid)).one()
        probe = s.get(Probe, pid)
    assert (e.state, e.error) == ("UNKNOWN", "interrupted: monitor shutting down")
    assert probe.state == "UNKNOWN"  # no verdict on the target from an interrupted run


async def test_a_scheduled_run_cancelled_at_stop_is_not_a_job_failure(database) -> None:
    """APScheduler logs a traceback for every job that raises: a stop with a backlog logged one per run cut short."""
    m = _monitor_with_hanging_runs(database)
    await m.start()
    job = asyncio.create_task(m._job(_pid(m, "PBX")))  # as the scheduler runs it
    await asyncio.sleep(0.05)
    await m.stop(grace_s=0.2)
    await asyncio.wait({job}, timeout=5)
    assert job.done() and not job.cancelled() and job.exception() is None


async def test_a_run_that_starts_while_stop_runs_probes_nothing_and_outlives_nothing(database) -> None:
    """A job the scheduler handed to the loop just before stop() (or an operator's "run now" at quit) starts
    once stop() is under way. It must not begin a probe after the in-flight runs were cancelled: that run
    outlived stop(), and when the prober shut down under it, it wrote "interrupted" to a closed writer
    ("cannot schedule new futures after shutdown", seen at the end of a 10,000-probe bench)."""
    m = _monitor_with_hanging_runs(database)
    await m.start()
    pid = _pid(m, "PBX")
    late = asyncio.create_task(m._job(pid))  # not started yet: it starts inside stop()
    await m.stop(grace_s=0.2)
    await asyncio.wait({late}, timeout=2)
    assert late.done(), "a run began during stop() and is still probing after it"
    assert late.exception() is None
    with database.session() as s:
        assert s.scalars(select(Execution).where(Execution.probe_id == pid)).all() == []


def test_start_spread_widens_with_probe_count() -> None:
    from callmeter_tui.engine.schedule import spread_window

    assert spread_window(60, 10) == 6.0
    assert spread_window(60, 1000) == 6.0
    assert spread_window(60, 10_000) == 50.0
    assert spread_window(60, 100_000) == 60.0


async def test_jobs_have_stable_ids_spread_starts_and_no_overlap() -> None:
    import datetime as dt
    import random

    from callmeter_tui.engine.schedule import ProbeSchedule

    async def run(pid: int) -> None:
        return None

    sched = ProbeSchedule(run, rng=random.Random(7))
    sched.start()
    try:
        t0 = dt.datetime.now(dt.UTC)
        sched.reconcile(dict.fromkeys(range(1000), 60.0))
        planned = sched.planned()
        assert set(planned) == set(range(1000))
        offsets = sorted((t - t0).total_seconds() for t in planned.values())
        assert offsets[0] >= 0 and offsets[-1] <= 6.5
        per_second = [sum(1 for o in offsets if k <= o < k + 1) for k in range(6)]
        assert max(per_second) < 300, per_second  # no single burst
        job = sched.scheduler.get_job("probe-5")
        assert job.max_instances == 1 and job.coalesce is True
        sched.reconcile({5: 30.0})
        assert set(sched.planned()) == {5} and sched._intervals[5] == 30.0
    finally:
        sched.shutdown()


async def test_views_follow_probes_run_by_other_agents(database) -> None:
    """A dashboard node (agent "jump") runs nothing but shows what the "eu" node records."""
    clock = Clock()
    spec = dataclasses.replace(PBX, agent="eu", webhooks=())
    prober = ScriptedProber(clock)
    node = Monitor(_config(database.url, spec), database, prober, agent="eu", clock=clock, watchdog_s=3600)
    await node.start()
    viewer = Monitor(
        _config(database.url, spec), database, ScriptedProber(clock), agent="jump", clock=clock, watchdog_s=3600
    )
    await viewer.start()
    try:
        pid = _pid(node, "PBX")
        assert pid in node.schedule.planned() and pid not in viewer.schedule.planned()
        events = viewer.bus.subscribe()
        prober.script["PBX"] = ["fail"]
        await _steps(node, clock, pid, 1)
        await viewer._follow_remote()
        view = next(v for v in viewer.probe_views() if v.id == pid)
        assert view.state == "UNHEALTHY" and view.error == "timeout after 3s"
        got = [events.get_nowait() for _ in range(events.qsize())]
        assert any(isinstance(e, StateChanged) and e.current == "UNHEALTHY" for e in got)
        await viewer._follow_remote()
        assert events.qsize() == 0  # nothing new: nothing published
    finally:
        await viewer.stop()
        await node.stop()


async def test_the_snapshot_follows_the_runs_not_whatever_is_published_on_the_bus(database) -> None:
    """The Monitor updates its snapshot where a run ends; an event someone else publishes does not rewrite it."""
    clock = Clock()
    m, _ = await _monitor(database, clock, PBX)
    try:
        pid = _pid(m, "PBX")
        await _steps(m, clock, pid, 1)
        before = m.probe_views()[0]
        assert before.state == HealthState.HEALTHY and before.last_execution_at == clock.t
        m.bus.publish(ExecutionRecorded(pid, "PBX", 999, clock.t + 1, HealthState.UNHEALTHY, HealthState.UNHEALTHY))
        assert m.probe_views()[0] == before
    finally:
        await m.stop()
