"""Row rendering rules: layout fits every width, bars keep bad days, cells show breaches."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from rich.style import Style

from callmeter_tui.domain.health import HealthState
from callmeter_tui.engine.api import HistoryView
from callmeter_tui.tui import rows as render
from callmeter_tui.tui.theme import DARK, HIGH_CONTRAST
from tests.tui.fakes import BarSegment, FakeMonitor

H, D, U, K = HealthState.HEALTHY, HealthState.DEGRADED, HealthState.UNHEALTHY, HealthState.UNKNOWN


def seg(state: str) -> BarSegment:
    return BarSegment(0.0, 1.0, HealthState(state), 0.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize("width", [80, 100, 120, 160, 200, 300])
def test_layout_fits_width_and_keeps_essentials(width: int) -> None:
    cols = render.layout(width)
    total = sum(c.width + 1 for c in cols)
    assert total <= width
    keys = [c.key for c in cols]
    assert keys[:3] == ["state", "name", "bar"] and "uptime" in keys and "ago" in keys
    assert (width >= 160) == ("spark" in keys)  # the reason column ("Why") comes first
    assert (width >= 120) == ("reason" in keys) and keys[-1 if width >= 120 else 0] == (
        "reason" if width >= 120 else "state"
    )
    assert (width >= 100) == ("setup" in keys)


def test_bar_cells_narrow_bar_shows_worst_of_merged_days() -> None:
    segments = [seg("HEALTHY")] * 89 + [seg("UNHEALTHY")]
    cells = render.bar_cells(segments, 30)
    assert len(cells) == 30 and cells[-1] is U and set(cells[:-1]) == {H}
    one_bad_day = [seg("HEALTHY")] * 45 + [seg("DEGRADED")] + [seg("HEALTHY")] * 44
    assert D in render.bar_cells(one_bad_day, 10)
    assert render.bar_cells([], 5) == [K] * 5


def test_row_width_and_breach_styles() -> None:
    m = FakeMonitor()
    pid = m.add("Trunk", "UNHEALTHY")
    view = m.views[pid]
    hist = HistoryView(pid, tuple(seg("HEALTHY") for _ in range(90)), "99.86")
    cols = render.layout(200)
    segs = render.probe_row(view, hist, cols, DARK, view.last_execution_at + 12, 90)
    text = "".join(s.text for s in segs)
    assert cell_len(text) == sum(c.width + 1 for c in cols)
    assert text.startswith("✖") and "99.86%" in text and "12s ago" in text and "2.41" in text
    mos_seg = next(s for s in segs if s.text.strip() == "2.41")
    assert mos_seg.style.reverse and mos_seg.style.bold  # critical reads on monochrome too
    jitter_seg = next(s for s in segs if s.text.strip() == "71.0ms")
    assert jitter_seg.style.reverse  # jitter 71 > critical 50


def test_high_contrast_uses_distinct_glyphs() -> None:
    assert len(set(HIGH_CONTRAST.bar_glyph.values())) == 4
    assert len(set(HIGH_CONTRAST.state.values())) == 4


def test_sparkline_and_ago() -> None:
    assert render.sparkline([1.0, 5.0], 4) == "  ▁█"
    assert render.ago(100.0, 88.0) == "12s ago"
    assert render.ago(4000.0, 0.0) == "1h ago"
    assert render.ago(1.0, None) == "never"
    assert render.fmt_metric("packet_loss_pct", 1.25) == "1.2%" or render.fmt_metric("packet_loss_pct", 1.25) == "1.3%"


def test_names_get_the_width_they_need_and_are_cut_in_the_middle() -> None:
    """At 120 columns the three demo calls read "Demo Call (clean li…", "Demo Call (impaired…", … alike."""
    cols = render.layout(120, 90, name_need=len("Demo Call (impaired line)"))
    assert next(c for c in cols if c.key == "name").width >= 25
    assert sum(c.width + 1 for c in cols) <= 120
    assert next(c for c in render.layout(120, 90, name_need=200) if c.key == "name").width <= 40  # a limit
    seg = render._mid_cell("Demo Call (failing trunk) in the Frankfurt rack", 20, Style())
    assert cell_len(seg.text) == 20 and seg.text.endswith("furt rack") and "…" in seg.text


def test_reason_says_why_a_probe_is_not_healthy() -> None:
    m = FakeMonitor()
    from dataclasses import replace

    bad = replace(m.views[m.add("Trunk", "UNHEALTHY")], error="call rejected: 503 Service Unavailable", sip_code=503)
    assert render.reason(bad) == "call rejected: 503 Service Unavailable"
    assert render.reason(replace(bad, error="timeout", sip_code=None)) == "timeout"
    warn = m.views[m.add("Bridge", "DEGRADED")]
    assert render.reason(warn) == "MOS, Jitter, Loss"  # the breached limits, critical ones first
    assert render.reason(m.views[m.add("Fine", "HEALTHY")]) == ""


def test_monochrome_bars_use_a_distinct_glyph_per_state() -> None:
    from callmeter_tui.tui.theme import palette_for

    for theme in ("callmeter-dark", "callmeter-light", "callmeter-high-contrast"):
        assert len(set(palette_for(theme, mono=True).bar_glyph.values())) == 4, theme


@pytest.mark.parametrize(
    "change",
    [
        {"state": "DEGRADED"},
        {"under_maintenance": True},
        {"name": "Trunk B"},
        {"enabled": False},
        {"error": "timeout", "state": "UNHEALTHY"},
        {"sip_code": 503, "error": "Service Unavailable", "state": "UNHEALTHY"},
        {"metrics": {"mos": 3.1}},
        {"breaches": [{"metric": "mos", "level": "critical"}]},
        {"mos_history": (4.4,) * 19 + (2.0,)},
        {"last_execution_at": 0.0},
    ],
    ids=lambda c: "+".join(c),
)
def test_row_key_moves_whenever_the_drawn_row_does(change: dict) -> None:
    """The wall repaints a row only when its key moves (issue 15 §4): a field probe_row reads that the key
    missed would leave a stale row on screen."""
    from dataclasses import replace

    m = FakeMonitor()
    view = m.views[m.add("Trunk", "HEALTHY")]
    other = replace(view, **change)
    now = view.last_execution_at + 12
    cols = render.layout(200)
    drawn = [
        "".join(f"{s.text}{s.style}" for s in render.probe_row(v, None, cols, DARK, now, 90)) for v in (view, other)
    ]
    assert drawn[0] != drawn[1]  # the change shows
    assert render.row_key(view, now, cols) != render.row_key(other, now, cols)
    same = replace(view, last_execution_id=99, state_since=1.0)  # a new snapshot that draws the same row
    assert render.row_key(same, now, cols) == render.row_key(view, now, cols)
