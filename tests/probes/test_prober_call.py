"""Call probes against real peers: baresip echo (answered, media stats, MOS) and kamailio (486, ringing)."""

from __future__ import annotations

import asyncio

import pytest

from callmeter_tui.domain.probe import ProbeKind, ProbeSpec
from callmeter_tui.probes import ProberPool, run_once

pytestmark = pytest.mark.peers


def call_spec(target: str, **kw: object) -> ProbeSpec:
    kw.setdefault("timeout_s", 5.0)
    kw.setdefault("call_duration_s", 2.0)
    return ProbeSpec(name="call", kind=ProbeKind.SIP_CALL, target=target, **kw)  # type: ignore[arg-type]


async def test_call_to_echo_is_answered_with_clean_media(echo_peer) -> None:
    res = await run_once(call_spec(echo_peer.uri("echo")))
    print(res)
    assert res.ok, res.error
    assert res.sip_code == 200
    assert res.details["call_answered"] is True
    assert res.details["codec"].startswith("PCMU")
    assert res.metrics["packet_loss_pct"] == 0
    assert 0 <= res.metrics["jitter_ms"] < 20
    assert res.details["packets_received"] > 50  # 2 s of 20 ms packets echoed back
    assert res.details["packets_sent"] > 50
    assert 0 < res.details["pdd_ms"] <= res.metrics["setup_time_ms"]
    assert res.metrics["mos"] > 4.0
    assert res.details["rx_level_dbfs"] > -40  # the echoed test signal, not silence
