"""The CLI's rendering of one probe run: human lines and JSON carry state, breaches, SIP code and error."""

from __future__ import annotations

import json

from callmeter_tui.domain.probe import ProbeKind, ProbeSpec
from callmeter_tui.domain.results import ProbeResult
from callmeter_tui.domain.thresholds import Threshold, evaluate
from callmeter_tui.probes.result_text import format_result, result_json

SPEC = ProbeSpec(
    name="pbx-call",
    kind=ProbeKind.SIP_CALL,
    target="sip:echo@127.0.0.1:5080",
    thresholds={"mos": Threshold(warning=4.3, critical=3.5), "setup_time_ms": Threshold(warning=100, critical=500)},
)


def test_answered_call_with_a_warning_breach() -> None:
    res = ProbeResult(
        ok=True,
        started_at=1.0,
        duration_ms=2050.8,
        sip_code=200,
        sip_reason="OK",
        metrics={"mos": 4.2, "setup_time_ms": 0.85, "packet_loss_pct": 0.0, "jitter_ms": 0.6},
        details={"call_answered": True, "codec": "PCMU/8000", "pdd_ms": 0.72, "packets_received": 101},
    )
    text = format_result(SPEC, res, evaluate(res, SPEC.thresholds))
    assert "State     DEGRADED" in text
    assert "SIP       200 OK" in text
    assert "WARNING  MOS 4.20 below 4.30" in text
    assert "(warning < 4.30, critical < 3.50)" in text
    assert "PCMU/8000" in text and "Answered" in text
    doc = json.loads(result_json(SPEC, res, evaluate(res, SPEC.thresholds)))
    assert doc["state"] == "DEGRADED" and doc["breaches"][0]["metric"] == "mos"
    assert doc["metrics"]["mos"] == 4.2 and doc["sip_code"] == 200 and doc["probe"] == "pbx-call"


def test_failed_probe_shows_its_one_line_error_and_code() -> None:
    res = ProbeResult.failure(
        1.0, 40.0, "SIP 486 Busy Here", sip_code=486, sip_reason="Busy Here", details={"call_answered": False}
    )
    ev = evaluate(res, SPEC.thresholds)
    text = format_result(SPEC, res, ev)
    assert "State     UNHEALTHY  (probe failed)" in text
    assert "Error     SIP 486 Busy Here" in text
    assert "Breaches" not in text
    doc = json.loads(result_json(SPEC, res, ev))
    assert doc["ok"] is False and doc["error"] == "SIP 486 Busy Here" and doc["state"] == "UNHEALTHY"
