"""Measurement truth: the prober's call metrics against impairment we applied and counted ourselves.

All calls run at once in one pool (8 calls = two pjsua2 workers), each against its own DemoTarget:
a clean one (12 s, for an RTCP round trip), loss 2/5/10 % and jitter 20/40 ms (5 s = 250 packets
each way), and one-way delay 100/200 ms (12 s, RTCP reports come every ~5 s). The targets' own
counters are the ground truth the reported figures are checked against.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from callmeter_tui.domain.probe import ProbeKind, ProbeSpec
from callmeter_tui.domain.results import ProbeResult
from callmeter_tui.probes import ProberPool
from callmeter_tui.probes.demo_target import DemoTarget, MediaStats

pytestmark = [pytest.mark.peers, pytest.mark.slow]

SHORT_S, LONG_S = 5.0, 12.0
CASES: dict[str, tuple[float, dict[str, float]]] = {
    "clean": (LONG_S, {}),
    "loss2": (SHORT_S, {"loss_pct": 2.0}),
    "loss5": (SHORT_S, {"loss_pct": 5.0}),
    "loss10": (SHORT_S, {"loss_pct": 10.0}),
    "jitter20": (SHORT_S, {"jitter_ms": 20.0}),
    "jitter40": (SHORT_S, {"jitter_ms": 40.0}),
    "delay100": (LONG_S, {"delay_ms": 100.0}),
    "delay200": (LONG_S, {"delay_ms": 200.0}),
}


@dataclass
class Measured:
    result: ProbeResult
    target: DemoTarget

    @property
    def truth(self) -> MediaStats:
        assert len(self.target.stats.media) == 1, "each target takes exactly one call"
        return self.target.stats.media[0]

    def metric(self, name: str) -> float:
        assert self.result.ok, self.result.error
        assert name in self.result.metrics, f"{name} not measured: {self.result.metrics}"
        return self.result.metrics[name]


@pytest.fixture(scope="module")
def measured(make_demo_target: Any) -> dict[str, Measured]:
    """Run every case concurrently once; the tests below read the results."""
    targets = {name: make_demo_target(seed=17, **settings) for name, (_, settings) in CASES.items()}

    async def run_all() -> list[ProbeResult]:
        pool = ProberPool(len(CASES))
        await pool.start()
        try:
            return await asyncio.gather(*(
                pool.run(ProbeSpec(name=name, kind=ProbeKind.SIP_CALL, target=targets[name].uri,
                                   timeout_s=5.0, call_duration_s=duration))
                for name, (duration, _) in CASES.items()
            ))
        finally:
            await pool.stop()

    results = asyncio.run(run_all())
    return {name: Measured(res, targets[name]) for name, res in zip(CASES, results)}


def test_every_call_was_answered_and_echoed(measured: dict[str, Measured]) -> None:
    for name, m in measured.items():
        assert m.result.ok, f"{name}: {m.result.error}"
        assert m.truth.packets_in >= 200, f"{name}: the target got only {m.truth.packets_in} RTP packets"


@pytest.mark.parametrize("name,pct", [("clean", 0.0), ("loss2", 2.0), ("loss5", 5.0), ("loss10", 10.0)])
def test_loss_is_reported_within_one_point(measured: dict[str, Measured], name: str, pct: float) -> None:
    m = measured[name]
    reported = m.metric("packet_loss_pct")
    assert abs(reported - pct) <= 1.0, f"{name}: reported {reported} % for {pct} % applied"
    assert abs(reported - m.truth.loss_pct) <= 0.8, (  # two packets of 250: drops after the last stats read
        f"{name}: reported {reported} % but the target dropped {m.truth.packets_dropped} "
        f"of {m.truth.packets_dropped + m.truth.packets_out} ({m.truth.loss_pct:.2f} %)")


@pytest.mark.parametrize("name,jitter", [("clean", 0.0), ("jitter20", 20.0), ("jitter40", 40.0)])
def test_jitter_is_reported_within_30_percent(measured: dict[str, Measured], name: str, jitter: float) -> None:
    m = measured[name]
    reported = m.metric("jitter_ms")
    assert abs(reported - jitter) <= max(0.3 * jitter, 5.0), f"{name}: reported {reported} ms for {jitter} ms"
    assert abs(reported - m.truth.applied_jitter_ms) <= max(0.3 * m.truth.applied_jitter_ms, 5.0)
    assert m.metric("packet_loss_pct") == 0.0, "jitter alone must not look like loss (no reordering)"


@pytest.mark.parametrize("name,delay", [("clean", 0.0), ("delay100", 100.0), ("delay200", 200.0)])
def test_delay_shows_in_rtt_within_20_percent(measured: dict[str, Measured], name: str, delay: float) -> None:
    rtt = measured[name].metric("rtt_ms")
    if delay:
        assert abs(rtt - delay) <= 0.2 * delay, f"{name}: RTT {rtt} ms for {delay} ms one-way delay"
    else:
        assert rtt < 20.0, f"loopback RTT should be small, got {rtt} ms"


def test_mos_falls_strictly_as_loss_rises(measured: dict[str, Measured]) -> None:
    mos = [measured[name].metric("mos") for name in ("clean", "loss2", "loss5", "loss10")]
    assert mos == sorted(mos, reverse=True) and len(set(mos)) == 4, f"MOS for loss 0/2/5/10 %: {mos}"
