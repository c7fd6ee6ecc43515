"""The demo as shipped: the built-in demo config's probes, run by the real prober against the demo
targets, land in the states the demo promises (healthy, degraded by impairment, unhealthy on 503)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from callmeter_tui.config.loader import load_config
from callmeter_tui.domain.health import HealthState
from callmeter_tui.domain.probe import ProbeKind, ProbeSpec
from callmeter_tui.domain.thresholds import evaluate
from callmeter_tui.probes import ProberPool
from callmeter_tui.probes.demo_target import DEMO_TARGETS, start_demo_targets
from tests.fixtures.sip import HOST as LOOPBACK  # the prober binds where the test peers listen

pytestmark = [pytest.mark.peers, pytest.mark.slow]


async def test_demo_config_probes_reach_their_promised_states() -> None:
    config, _ = load_config(None, env={"CALLMETER_DEMO_PASSWORD": "demo"})
    targets = await start_demo_targets(free_ports=True)
    ports = {f":{fixed}": f":{t.port}" for (fixed, _), t in zip(DEMO_TARGETS, targets)}

    def moved(spec: ProbeSpec) -> ProbeSpec:
        target = spec.target
        for old, new in ports.items():
            target = target.replace(old, new)
        return dataclasses.replace(spec, target=target)

    specs = [moved(s) for s in config.probes]
    wrong = dataclasses.replace(next(s for s in specs if s.kind is ProbeKind.SIP_REGISTER), name="wrong password")
    pool = ProberPool(4, sip_bind=LOOPBACK)
    await pool.start()
    try:
        results = await asyncio.gather(*(pool.run(s, "demo") for s in specs), pool.run(wrong, "not-demo"))
    finally:
        await pool.stop()
        for t in targets:
            await t.stop()
    states = {s.name: evaluate(r, s.thresholds).state for s, r in zip(specs, results)}
    errors = {s.name: (r.error, r.metrics, r.details) for s, r in zip(specs, results) if s.kind is ProbeKind.SIP_CALL}
    assert states == {
        "Demo PBX OPTIONS": HealthState.HEALTHY,
        "Demo PBX Registration": HealthState.HEALTHY,
        "Demo Call (clean line)": HealthState.HEALTHY,
        "Demo Call (impaired line)": HealthState.DEGRADED,
        "Demo Call (failing trunk)": HealthState.UNHEALTHY,
    }, errors
    failing = results[[s.name for s in specs].index("Demo Call (failing trunk)")]
    assert failing.sip_code == 503
    bad = results[-1]
    assert not bad.ok and bad.sip_code == 403
    assert targets[0].stats.registers_ok >= 1 and targets[0].stats.registers_failed == 1  # (+ the unREGISTER)
