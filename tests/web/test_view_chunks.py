"""A page's figures do not depend on how its components are cut into numpy calls (``view.measure``'s
chunks): bars, uptime and the newest incidents are the same whether one call takes a component, a few, or
all of them, with and without the packed arrays the store reads, with components under maintenance."""

from __future__ import annotations

import dataclasses
import random

import numpy as np

from callmeter_tui.domain.bars import pack_spans
from callmeter_tui.domain.maintenance import Interval
from callmeter_tui.web.snapshot import PageData
from callmeter_tui.web.view import measure

from .conftest import DAY, HOUR, NOW
from .test_lazy_assets import _random_page


def _with_maintenance(data: PageData, rng: random.Random) -> PageData:
    comps = []
    for c in data.components:
        if rng.random() < 0.3:
            start = NOW - rng.uniform(1, 9) * DAY
            c = dataclasses.replace(c, maintenance=(Interval(start, start + rng.uniform(1, 30) * HOUR),))
        comps.append(c)
    return dataclasses.replace(data, components=tuple(comps))


def test_figures_are_the_same_for_any_chunk_size() -> None:
    checked = 0
    for seed_value in range(12):
        rng = random.Random(seed_value)
        page = _random_page(rng)
        packed = dataclasses.replace(page, packed=pack_spans([c.spans for c in page.components]))
        for data in (page, packed, _with_maintenance(packed, rng)):
            whole = measure(data, chunk=len(data.components))
            for chunk in (1, 5):
                part = measure(data, chunk=chunk)
                assert np.array_equal(part.bars.table, whole.bars.table), (seed_value, chunk)
                assert np.array_equal(part.bars.keys, whole.bars.keys), (seed_value, chunk)
                assert part.uptime == whole.uptime, (seed_value, chunk)
                assert part.incidents == whole.incidents, (seed_value, chunk)
                checked += 1
    assert checked == 72
    assert any(c.maintenance for c in _with_maintenance(_random_page(random.Random(0)), random.Random(1)).components)
