"""Bad input around traces: a run with no SIP messages says why, a trace over the cap says it was cut
(in the drill-down's Trace tab), and a malformed command-line argument is one line, exit 2."""

from __future__ import annotations

import dataclasses

import pytest
from textual.widgets import DataTable

from callmeter_tui.cli import main
from callmeter_tui.domain.siptrace import Direction, SipMessage, cap
from callmeter_tui.engine.api import TraceView
from tests.tui.fakes import T0, mixed_monitor
from tests.tui.helpers import screen_text
from tests.tui.test_detail import app_for, open_detail


def _failing(trace_view: TraceView):  # type: ignore[no-untyped-def]
    """The mixed fleet, with its trunk's last run failed and its trace replaced by ``trace_view``."""
    m = mixed_monitor("major")
    v = next(v for v in m.views.values() if v.name == "Primary SIP Trunk (US East)")
    m.views[v.id] = dataclasses.replace(v, error=trace_view.error)

    async def execution_trace(probe_id: int, execution_id: int | None = None) -> TraceView:
        return trace_view

    m.execution_trace = execution_trace  # type: ignore[method-assign]
    return m, v.name


async def test_a_run_with_no_sip_messages_shows_why_not_an_empty_ladder() -> None:
    error = "target: cannot resolve host 'nx.invalid'"
    m, name = _failing(TraceView(901, T0, False, error, cap([])))
    app = app_for(m)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        screen = await open_detail(pilot, app, name)
        assert screen.query_one("#trace-ladder", DataTable).row_count == 0
        text = screen_text(app)
        assert f"no SIP messages were exchanged in this run: {error}" in text
        assert "Execution 901" in text and "FAILED" in text


async def test_a_trace_over_the_cap_says_it_was_cut() -> None:
    pad = "X-Pad: " + "p" * 4000 + "\r\n"  # ~4 KB a message: 16 fit in 64 KB
    msgs = [
        SipMessage(
            int(T0 * 1e6) + i,
            Direction.TX,
            "UDP",
            "10.0.0.1:5060",
            "192.0.2.7:5060",
            f"OPTIONS sip:x SIP/2.0\r\n{pad}\r\n",
        )
        for i in range(30)
    ]
    m, name = _failing(TraceView(902, T0, False, "no answer", cap(msgs)))
    app = app_for(m)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        screen = await open_detail(pilot, app, name)
        assert screen.query_one("#trace-ladder", DataTable).row_count == 16
        assert "(trace cut at 64 KB: 14 later message(s) not kept)" in screen_text(app)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["trace", "edge", "--execution", "abc"], "argument --execution: invalid int value: 'abc'"),
        (["trace", "edge", "--format", "svg"], "argument --format: invalid choice: 'svg'"),
        (["trace"], "the following arguments are required: name"),
    ],
)
def test_a_malformed_argument_is_one_line_exit_2(args: list[str], named: str, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exit_:
        main(args)
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.count("\n") == 1 and err.startswith("callmeter-tui trace: ") and named in err, err
