"""Spans read into packed arrays: the same spans, clipped and ended by the same rules, as the rule written
one span at a time (what the page used to do), on SQLite and PostgreSQL."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import insert

from callmeter_tui.domain.defaults import NO_DATA_INTERVALS
from callmeter_tui.domain.health import HealthState
from callmeter_tui.domain.packed_spans import ComponentSpans
from callmeter_tui.domain.spans import HealthSpan
from callmeter_tui.store.models import Component, HealthSpanRow, StatusPage
from callmeter_tui.store.span_arrays import load_bad_span_arrays, load_span_arrays

from .conftest import T0, add_probe

SPELLINGS = ["HEALTHY", "DEGRADED", "UNHEALTHY", "UNKNOWN", "healthy", "Degraded"]


def reference(rows: list[dict], intervals: dict[int, float], pid: int, since: float, until: float) -> list[HealthSpan]:
    """The rule one span at a time: an open span runs to ``until`` while the probe is fresh, else one
    interval past its stored end; everything clipped to ``[since, until)``; empty pieces dropped."""
    out = []
    for r in sorted((r for r in rows if r["probe_id"] == pid), key=lambda r: r["started_at"]):
        end = r["ended_at"]
        if r["open"]:
            fresh = until - end <= NO_DATA_INTERVALS * intervals[pid]
            end = max(until, end) if fresh else end + intervals[pid]
        start, end = max(r["started_at"], since), min(end, until)
        if r["started_at"] < until and end > start:
            out.append(HealthSpan(HealthState.parse(r["state"]), start, end))
    return out


def seed_spans(session, rng: random.Random) -> tuple[list[int], list[dict], dict[int, float]]:  # type: ignore[no-untyped-def]
    intervals = {}
    for n in range(6):
        interval = rng.choice([10.0, 60.0, 300.0])
        intervals[add_probe(session, f"p{n}", interval_s=interval)] = interval
    pids = list(intervals)
    rows = []
    for pid in pids[:-1]:  # the last probe has no spans at all
        t = T0 - rng.uniform(0, 5000)
        for _ in range(rng.randint(1, 40)):
            length = rng.choice([0.0, rng.uniform(0.001, 900.0)])
            rows.append(
                {
                    "probe_id": pid,
                    "state": rng.choice(SPELLINGS),
                    "started_at": t,
                    "ended_at": t + length,
                    "open": False,
                }
            )
            t += length + rng.choice([0.0, 0.0, rng.uniform(1, 600)])
        rows[-1]["open"] = True  # the latest span is open: fresh or stale depending on ``until``
    session.execute(insert(HealthSpanRow), rows)
    session.flush()
    return pids, rows, intervals


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_packed_spans_are_the_spans_the_rule_gives_one_at_a_time(database, seed: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    with database.session() as session:
        pids, rows, intervals = seed_spans(session, rng)
        last_end = max(r["ended_at"] for r in rows)
        for since, until in [
            (T0 - 10_000, last_end + 1),  # fresh: open spans run to ``until``
            (T0 - 10_000, last_end + 10_000),  # stale: one interval past their end
            (T0 - 2000, T0 + 1000),  # clipped on both sides
            (last_end + 20_000, last_end + 30_000),  # long after: nothing
        ]:
            asked = [pids[3], pids[0], pids[5], pids[3], pids[1]]  # any order, a repeat, one without spans
            packed = load_span_arrays(session, asked, since, until)
            assert packed.components == len(asked)
            for c, pid in enumerate(asked):
                assert list(ComponentSpans(packed, c)) == reference(rows, intervals, pid, since, until), (
                    since,
                    until,
                    pid,
                )


def test_a_query_of_ids_selects_like_the_list_and_reads_only_the_asked_ones(database) -> None:  # type: ignore[no-untyped-def]
    """The status page selects by its components (one subquery, not a thousand bound ids); probes of other
    pages that the query may also hold are left out."""
    from sqlalchemy import select

    rng = random.Random(9)
    with database.session() as session:
        pids, rows, intervals = seed_spans(session, rng)
        page = StatusPage(slug="p", name="P", updated_at=T0)
        page.components = [Component(probe_id=pid, name=f"c{pid}", position=i) for i, pid in enumerate(pids)]
        session.add(page)
        session.flush()
        on_page = select(Component.probe_id).where(Component.page_id == page.id)
        asked = pids[1:4]
        since, until = T0 - 10_000, max(r["ended_at"] for r in rows) + 1
        scoped = load_span_arrays(session, asked, since, until, intervals=intervals, among=on_page)
        listed = load_span_arrays(session, asked, since, until)
        for c, pid in enumerate(asked):
            expected = reference(rows, intervals, pid, since, until)
            assert list(ComponentSpans(scoped, c)) == list(ComponentSpans(listed, c)) == expected
            assert expected  # the comparison is about something


def test_a_state_no_rule_knows_is_refused_naming_the_column(database) -> None:  # type: ignore[no-untyped-def]
    with database.session() as session:
        pid = add_probe(session)
        session.execute(
            insert(HealthSpanRow),
            [{"probe_id": pid, "state": "PURPLE", "started_at": T0, "ended_at": T0 + 5, "open": False}],
        )
        with pytest.raises(ValueError, match=r"health_span\.state"):
            load_span_arrays(session, [pid], T0 - 10, T0 + 10)


def older_reference(rows: list[dict], pid: int, until: float) -> list[HealthSpan]:
    """A page's older history one span at a time: stored DEGRADED/UNHEALTHY spans started before ``until``,
    ended there at the latest, open or not (the rest of an open one is the bars')."""
    ordered = sorted((r for r in rows if r["probe_id"] == pid), key=lambda r: r["started_at"])
    return [
        HealthSpan(HealthState.parse(r["state"]), r["started_at"], min(r["ended_at"], until))
        for r in ordered
        if r["started_at"] < until and r["state"] in ("DEGRADED", "UNHEALTHY")
    ]


@pytest.mark.parametrize("seed", [4, 5])
def test_older_bad_spans_are_the_stored_bad_ones_before_the_bars(database, seed: int) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    rng = random.Random(seed)
    with database.session() as session:
        pids, rows, _ = seed_spans(session, rng)
        page = StatusPage(slug="p", name="P", updated_at=T0)
        page.components = [Component(probe_id=pid, name=f"c{pid}", position=i) for i, pid in enumerate(pids[1:])]
        session.add(page)
        session.flush()
        on_page = select(Component.probe_id).where(Component.page_id == page.id)
        found = 0
        for until in (T0 - 2000, T0 + 1000, max(r["ended_at"] for r in rows) + 1):
            asked = [pids[3], pids[1], pids[5], pids[3]]  # any order, a repeat, one without spans
            for packed in (
                load_bad_span_arrays(session, asked, until),
                load_bad_span_arrays(session, asked, until, among=on_page),
            ):
                assert packed.components == len(asked)
                for c, pid in enumerate(asked):
                    expected = older_reference(rows, pid, until)
                    assert list(ComponentSpans(packed, c)) == expected, (until, pid)
                    found += len(expected)
        assert found  # the comparison is about something
