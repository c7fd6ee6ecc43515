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

# Media timing: the calls share a worker with the other media tests and are held one at a time, so a
# clean line's jitter buffer is not starved by this host's two cores (a clean call once read 9 % discards
# while four pjsua2 workers and the other xdist worker competed for the CPU).
pytestmark = [pytest.mark.peers, pytest.mark.slow, pytest.mark.xdist_group("media")]


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
    pool = ProberPool(2, sip_bind=LOOPBACK)
    await pool.start()
    try:
        signalling = [s for s in specs if s.kind is not ProbeKind.SIP_CALL]
        first = await asyncio.gather(*(pool.run(s, "demo") for s in signalling), pool.run(wrong, "not-demo"))
        by_name = dict(zip([s.name for s in signalling], first))
        for spec in specs:
            if spec.kind is ProbeKind.SIP_CALL:
                by_name[spec.name] = await pool.run(spec, "demo")
        results = [by_name[s.name] for s in specs] + [first[-1]]
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
