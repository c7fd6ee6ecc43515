"""The threshold rule: one execution -> state plus breaches, and threshold consistency."""

from __future__ import annotations

import pytest

from callmeter_tui.domain.health import HealthState
from callmeter_tui.domain.metric_catalog import METRICS, Direction
from callmeter_tui.domain.results import ProbeResult
from callmeter_tui.domain.thresholds import Threshold, evaluate

MOS = {"mos": Threshold(warning=3.5, critical=2.5)}


def ok(**metrics: float) -> ProbeResult:
    return ProbeResult(ok=True, started_at=1.7e9, duration_ms=12.0, metrics=metrics)


def test_warning_breach_has_the_seed_shape_exactly() -> None:
    ev = evaluate(ok(mos=3.2, jitter_ms=45.3), MOS)
    assert ev.state is HealthState.DEGRADED
    assert ev.breaches == [
        {"metric": "mos", "value": 3.2, "warning_threshold": 3.5, "critical_threshold": 2.5, "level": "warning"}
    ]
    assert list(ev.breaches[0]) == ["metric", "value", "warning_threshold", "critical_threshold", "level"]


def test_critical_breach_is_unhealthy() -> None:
    ev = evaluate(ok(mos=2.1), MOS)
    assert ev.state is HealthState.UNHEALTHY
    assert ev.breaches[0]["level"] == "critical"


def test_equal_to_threshold_is_not_exceeded() -> None:
    assert evaluate(ok(mos=3.5), MOS).state is HealthState.HEALTHY
    assert evaluate(ok(rtt_ms=200.0), {"rtt_ms": Threshold(200, 400)}).state is HealthState.HEALTHY
    assert evaluate(ok(rtt_ms=200.5), {"rtt_ms": Threshold(200, 400)}).state is HealthState.DEGRADED


def test_within_thresholds_is_healthy() -> None:
    ev = evaluate(ok(mos=4.3), MOS)
    assert (ev.state, ev.breaches) == (HealthState.HEALTHY, [])


def test_unmeasured_metric_breaches_nothing() -> None:
    ev = evaluate(ok(rtt_ms=10.0), {**MOS, "packet_loss_pct": Threshold(1, 5)})
    assert (ev.state, ev.breaches) == (HealthState.HEALTHY, [])


def test_failed_probe_is_unhealthy_even_without_breaches() -> None:
    failed = ProbeResult.failure(1.7e9, 10000.0, "timeout after 10s")
    ev = evaluate(failed, MOS)
    assert (ev.state, ev.breaches) == (HealthState.UNHEALTHY, [])


def test_failed_probe_still_lists_what_it_measured() -> None:
    failed = ProbeResult(ok=False, started_at=1.7e9, duration_ms=5.0, metrics={"mos": 3.0}, error="BYE lost")
    ev = evaluate(failed, MOS)
    assert ev.state is HealthState.UNHEALTHY
    assert [b["level"] for b in ev.breaches] == ["warning"]


def test_only_one_level_set() -> None:
    assert evaluate(ok(mos=3.0), {"mos": Threshold(critical=3.1)}).breaches[0]["warning_threshold"] is None
    assert evaluate(ok(jitter_ms=50.0), {"jitter_ms": Threshold(warning=30)}).state is HealthState.DEGRADED


def test_breaches_in_catalogue_order_and_worst_wins() -> None:
    th = {"rtt_ms": Threshold(100, 300), "mos": Threshold(3.5, 2.5), "jitter_ms": Threshold(20, 40)}
    ev = evaluate(ok(rtt_ms=500.0, mos=3.0, jitter_ms=25.0), th)
    assert [b["metric"] for b in ev.breaches] == ["mos", "jitter_ms", "rtt_ms"]
    assert ev.state is HealthState.UNHEALTHY


def test_consistency_message_lower_is_worse() -> None:
    assert Threshold(warning=2.0, critical=2.5).problems("mos") == [
        "warning (2.0) must be above critical (2.5) for a metric where lower is worse"
    ]
    assert Threshold(warning=2.5, critical=2.5).problems("mos") != []


def test_consistency_message_higher_is_worse() -> None:
    assert Threshold(warning=300, critical=100).problems("rtt_ms") == [
        "warning (300.0) must be below critical (100.0) for a metric where higher is worse"
    ]


@pytest.mark.parametrize(
    ("metric", "th", "fragment"),
    [
        ("mosq", Threshold(1, 2), "unknown metric 'mosq'"),
        ("mos", Threshold(), "needs warning and/or critical"),
        ("mos", Threshold(float("nan"), 2.0), "warning must be a finite number"),
        ("rtt_ms", Threshold(100, float("inf")), "critical must be a finite number"),
    ],
)
def test_consistency_problems(metric: str, th: Threshold, fragment: str) -> None:
    problems = th.problems(metric)
    assert len(problems) == 1 and fragment in problems[0] and "\n" not in problems[0]


def test_consistent_thresholds_have_no_problems() -> None:
    assert Threshold(3.5, 2.5).problems("mos") == []
    assert Threshold(100, 300).problems("rtt_ms") == []
    assert Threshold(critical=1).problems("packet_loss_pct") == []


def test_metric_catalogue_directions() -> None:
    lower = {n for n, m in METRICS.items() if m.direction is Direction.LOWER_IS_WORSE}
    assert lower == {"mos", "asr_pct", "mos_lqo", "prompt_match"}
    assert METRICS["mos"].breaches(3.4, 3.5) and not METRICS["mos"].breaches(3.5, 3.5)
