"""ITU-T G.107 E-model: reference values and monotonicity."""

from __future__ import annotations

import itertools

import pytest

from callmeter_tui.domain.emodel import (
    CODECS,
    assess,
    codec_planning,
    delay_impairment,
    effective_ie,
    mos_from_r,
    r_factor,
)


def test_g107_reference_connection() -> None:
    r = r_factor(0, 0)
    assert r == pytest.approx(93.2, abs=0.1)
    assert mos_from_r(r) == pytest.approx(4.41, abs=0.01)  # 4.41 to 0.1 and better
    assert delay_impairment(0) == pytest.approx(0.15, abs=0.01)


def test_mos_mapping_points() -> None:
    assert mos_from_r(-5) == 1.0
    assert mos_from_r(0) == 1.0
    assert mos_from_r(100) == 4.5 and mos_from_r(120) == 4.5
    assert mos_from_r(50) == pytest.approx(1 + 1.75 + 50 * -10 * 50 * 7e-6)
    assert mos_from_r(3) == 1.0  # the cubic dips below 1 near R 0; MOS has no lower value


def test_mos_strictly_decreases_as_loss_rises() -> None:
    for codec in ("PCMU", "PCMA-NOPLC", "G722", "GSM", "iLBC", "speex"):
        mos = [mos_from_r(r_factor(20, loss / 2, codec)) for loss in range(41)]
        assert all(a > b for a, b in itertools.pairwise(mos)), codec


def test_mos_strictly_decreases_as_delay_rises_past_150ms() -> None:
    mos = [mos_from_r(r_factor(d, 0.5)) for d in range(150, 601, 10)]
    assert all(a > b for a, b in itertools.pairwise(mos))
    assert r_factor(150, 0) > 89 > r_factor(200, 0) > 85


def test_g711_planning_values_and_plc() -> None:
    assert (codec_planning("PCMU").ie, codec_planning("PCMU").bpl) == (0.0, 25.1)
    assert codec_planning("PCMA-NOPLC").bpl == 4.3
    assert effective_ie(1, "PCMU") == pytest.approx(95 / 26.1)
    assert effective_ie(1, "PCMU-NOPLC") == pytest.approx(95 / 5.3)
    assert r_factor(0, 2, "PCMU") > r_factor(0, 2, "PCMU-NOPLC")


def test_bursty_loss_hurts_more() -> None:
    assert effective_ie(5, "PCMU", burst_r=2.0) > effective_ie(5, "PCMU", burst_r=1.0)


def test_codec_names_as_sdp_spells_them() -> None:
    assert codec_planning("pcmu/8000") is CODECS["PCMU"]
    assert codec_planning("G.722") is CODECS["G722"]
    assert codec_planning("iLBC") is CODECS["iLBC"]
    assert codec_planning("speex/8000") is CODECS["speex"]
    with pytest.raises(ValueError, match="unknown codec 'opus'"):
        codec_planning("opus")
    assert all(c.source for c in CODECS.values())
    assert set(CODECS) >= {"PCMU", "PCMA", "G722", "GSM", "iLBC", "speex"}


def test_codec_impairment_orders_quality() -> None:
    assert r_factor(0, 0, "PCMA") > r_factor(0, 0, "iLBC") > r_factor(0, 0, "GSM")


def test_assess_adds_delays_and_discards() -> None:
    r, mos = assess(rtt_ms=100, jitter_buffer_ms=40, loss_pct=1.0, discard_pct=0.5, codec="PCMU")
    assert r == pytest.approx(r_factor(50 + 40 + 20, 1.5, "PCMU"))
    assert mos == pytest.approx(mos_from_r(r))
    assert assess(0, 0, 80, 80)[0] == pytest.approx(r_factor(20, 100))


@pytest.mark.parametrize(
    "args",
    [(-1, 0, 0, 0), (0, -5, 0, 0), (0, 0, float("nan"), 0), (0, 0, 0, -1)],
)
def test_assess_rejects_bad_measurements(args: tuple[float, float, float, float]) -> None:
    with pytest.raises(ValueError, match="must be 0 or more"):
        assess(*args)


def test_r_factor_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="one-way delay"):
        r_factor(-1, 0)
    with pytest.raises(ValueError, match="BurstR"):
        r_factor(0, 1, burst_r=0.5)
