"""Cards for few probes: the shape rule, exact card geometry, large symbols, the mini chart."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from callmeter_tui.domain.health import HealthState
from callmeter_tui.engine.api import HistoryView
from callmeter_tui.tui import tiles
from callmeter_tui.tui.theme import DARK, palette_for
from tests.tui.fakes import BarSegment, FakeMonitor


@pytest.mark.parametrize(
    ("groups", "width", "height", "cards"),
    [
        ([5], 116, 37, True),  # five probes on a 160x45 wall: tall cards, one column
        ([2, 4], 120, 17, True),  # six in two groups on 120x30: two columns
        ([10] * 5, 180, 59, False),  # fifty: dense rows
        ([200] * 5, 200, 50, False),  # a thousand: dense rows
        ([5], 80, 8, False),  # 80x24 with five probes and the panels: no room for cards
    ],
)
def test_cards_only_when_every_probe_gets_room(groups: list[int], width: int, height: int, cards: bool) -> None:
    shape = tiles.choose_shape(groups, width, height)
    assert shape.cards is cards
    if cards:
        bands = sum(-(-g // shape.cols) for g in groups)
        headers = len(groups) if len(groups) > 1 else 0
        assert tiles.CARD_MIN_H <= shape.card_h <= tiles.CARD_MAX_H
        assert bands * shape.card_h + headers <= height  # everything fits: nothing to page
        assert shape.cols * shape.card_w + (shape.cols - 1) * tiles.GAP <= width


def test_few_probes_get_one_tall_column_before_a_grid() -> None:
    assert tiles.choose_shape([5], 116, 37).cols == 1
    assert tiles.choose_shape([30], 200, 40).cols > 1


@pytest.mark.parametrize("height", [4, 5, 6, 9])
@pytest.mark.parametrize("state", ["HEALTHY", "DEGRADED", "UNHEALTHY", "UNKNOWN"])
def test_card_is_exactly_its_size_and_keeps_name_state_and_bar(state: str, height: int) -> None:
    m = FakeMonitor()
    view = m.views[m.add("Primary SIP Trunk (US East)", state)]
    hist = HistoryView(view.id, tuple(BarSegment(0, 1, HealthState(state), 0, 0, 0, 0) for _ in range(90)), "99.86")
    lines = tiles.card_lines(view, hist, 50, height, DARK, m.now, 90, "Last 90 days")
    assert len(lines) == height and all(sum(cell_len(s.text) for s in line) == 50 for line in lines)
    text = ["".join(s.text for s in line) for line in lines]
    assert text[0].startswith(f"{'●▲✖?'['HEALTHY DEGRADED UNHEALTHY UNKNOWN'.split().index(state)]} Primary SIP")
    assert state in text[0]
    assert any("99.86%" in t for t in text)  # the bar line always carries uptime and age
    if state == "UNHEALTHY" and height >= 5:
        assert any(t.strip().startswith(tiles.BIG[HealthState.UNHEALTHY][0]) for t in text[1:])


def test_large_symbols_differ_by_shape_for_monochrome() -> None:
    assert len({tiles.BIG[s] for s in HealthState if s in tiles.BIG}) == len(tiles.BIG) == 4
    assert len(set(palette_for("callmeter-dark", mono=True).bar_glyph.values())) == 4


def test_chart_rows_scale_fixed_and_fill_the_width() -> None:
    rows = tiles.chart_rows((1.0, 5.0), 8, 2, 1.0, 5.0)
    assert rows == ["    ████", "▁▁▁▁████"]
    assert all(len(r) == 40 for r in tiles.chart_rows(tuple(4.0 for _ in range(20)), 40, 3, 1.0, 5.0))
