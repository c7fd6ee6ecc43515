"""``callmeter-tui recording NAME``: a real call's recording path and the scores stored for it (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from callmeter_tui.cli import main
from callmeter_tui.probes.protocol import recording_path
from tests.probes.test_traces import _config, _probe_toml, _run_and_store

pytestmark = [pytest.mark.peers, pytest.mark.timeout(180)]


def test_recording_prints_the_path_and_the_scores_of_the_last_call(demo_target, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    target = f"sip:echo@127.0.0.1:{demo_target.port}"
    probes = _probe_toml("heard call", "sip_call", target, 'call_duration = "4s"') + _probe_toml(
        "ping", "sip_options", target
    )
    path = _config(tmp_path, probes)
    execution_id = _run_and_store(path, "heard call")

    assert main(["recording", "heard call", "--config", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == recording_path("heard call") and Path(out[0]).is_file()
    assert out[1].startswith(f"execution {execution_id} · ") and out[1].endswith(" · OK")
    assert any(line.startswith("MOS-LQO: ") for line in out), out
    assert any(line.startswith("Audio delay: ") and line.endswith(" ms") for line in out), out
    assert "codec: PCMU/8000" in out


def test_recording_of_an_unknown_or_non_call_probe_is_one_line_exit_2(demo_target, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = _config(tmp_path, _probe_toml("ping", "sip_options", f"sip:127.0.0.1:{demo_target.port}"))
    assert main(["recording", "nobody", "--config", str(path)]) == 2
    assert capsys.readouterr().err == "recording: no probe named 'nobody'\n"
    assert main(["recording", "ping", "--config", str(path)]) == 2
    assert capsys.readouterr().err == "recording: 'ping' is a sip_options probe: only sip_call probes record\n"
