"""The demo SIP target: our own impaired peer for the demo and the measurement tests.

``DemoTarget`` is a SIP UAS over UDP (OPTIONS, digest REGISTER, INVITE with an RTP echo);
``start_demo_targets`` starts the three the demo config points at.

What the impairment settings mean (all applied on the target -> caller path only):

* ``loss_pct``: that share of echoed RTP packets is dropped (one per window of 100/loss_pct
  packets, seeded), and the caller sees exactly those as sequence gaps.
* ``jitter_ms``: random extra delay per echoed RTP packet, calibrated so the caller's RFC 3550
  interarrival jitter is ``jitter_ms``; packets are numbered in send order, so no reordering.
  An echo also hands back the caller's own send pacing (and our lateness on a busy host): with
  ``jitter_ms`` 0 a caller measures that, which ``MediaStats`` reports apart from what we applied.
* ``delay_ms``: added one way, to echoed RTP and to our RTCP reports (RTCP gets no jitter).
  The caller's RTCP round-trip time is therefore ``delay_ms`` plus loopback time (RTT ~= delay,
  not 2x delay). The audio echo comes back ``delay_ms`` (+ jitter) late.
"""

from __future__ import annotations

from .media import MediaStats
from .target import DemoTarget, TargetStats

__all__ = ["DEMO_TARGETS", "DemoTarget", "MediaStats", "TargetStats", "start_demo_targets"]

# (port, settings) of the demo: clean, impaired (DEGRADED call probe), rejecting (UNHEALTHY).
# The impaired line's jitter stays small on purpose: measured with the prober, 30 ms of jitter makes
# pjsua's adaptive jitter buffer discard 17-37 % of frames, which the E-model counts as loss
# (MOS ~1.9, UNHEALTHY). Loss 4 % + jitter 5 ms gives MOS 3.8-3.9 and loss above 2 %: DEGRADED.
DEMO_TARGETS: tuple[tuple[int, dict[str, float | int | None]], ...] = (
    (5070, {}),
    (5071, {"loss_pct": 4.0, "jitter_ms": 5.0}),
    (5072, {"reject_code": 503}),
)


async def start_demo_targets(host: str = "127.0.0.1", free_ports: bool = False) -> list[DemoTarget]:
    """Start the three demo targets (5070 clean, 5071 loss 4 % + jitter 5 ms, 5072 rejects INVITE
    with 503), all with user/password demo/demo. ``free_ports`` binds port 0 instead (tests).
    Stops the ones already started if a later one cannot bind, then re-raises."""
    started: list[DemoTarget] = []
    try:
        for port, settings in DEMO_TARGETS:
            target = DemoTarget(host, 0 if free_ports else port, **settings)  # type: ignore[arg-type]
            await target.start()
            started.append(target)
    except BaseException:
        for target in started:
            await target.stop()
        raise
    return started
