"""SIP traces end to end: real probes in a real worker against real peers, stored as the runner stores them,
read back by ``callmeter-tui trace`` as a ladder and as a pcap that Debian's tshark decodes as SIP."""

from __future__ import annotations

import asyncio
import subprocess
import zlib
from pathlib import Path

import pytest

from callmeter_tui.cli import main
from callmeter_tui.config import load_config
from callmeter_tui.domain.thresholds import evaluate
from callmeter_tui.probes import run_once
from callmeter_tui.store import queries
from callmeter_tui.store.database import open_database
from callmeter_tui.store.executions import record_execution
from callmeter_tui.store.models import Execution
from callmeter_tui.store.sync import sync_config
from tests.fixtures.sip import need_binary

pytestmark = [pytest.mark.peers, pytest.mark.timeout(120)]


def _config(tmp_path: Path, probes: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "db.sqlite"}"\n\n{probes}')
    return path


def _probe_toml(name: str, kind: str, target: str, extra: str = "") -> str:
    return f'[[probes]]\nname = "{name}"\nkind = "{kind}"\ntarget = "{target}"\ntimeout = "5s"\n{extra}\n'


def _run_and_store(path: Path, name: str, env: dict[str, str] | None = None) -> int:
    """One real run of probe ``name`` recorded the way the runner records it; its execution id."""
    config, _ = load_config(path, env=env or {})
    spec = next(p for p in config.probes if p.name == name)
    password = (env or {}).get(spec.password_env or "")
    result = asyncio.run(run_once(spec, password, sip_bind="127.0.0.1"))
    db = open_database(config.database_url or "", project_name=config.project_name)
    try:
        with db.session() as s:
            sync_config(s, config)
            probe = queries.probe_by_name(s, name)
            assert probe is not None
            rec = record_execution(s, probe.id, result, evaluate(result, spec.thresholds))
        assert rec.execution_id is not None
        return rec.execution_id
    finally:
        db.close()


def _stored_blob(path: Path, execution_id: int) -> bytes:
    config, _ = load_config(path, env={})
    db = open_database(config.database_url or "")
    try:
        with db.session() as s:
            row = s.get(Execution, execution_id)
            assert row is not None and row.sip_trace is not None
            return row.sip_trace
    finally:
        db.close()


def _tshark_sip(pcap: Path) -> list[str]:
    """What tshark decodes in the file, one "method or status" per SIP message, in order."""
    tshark = need_binary("tshark")
    out = subprocess.run(
        [tshark, "-n", "-r", str(pcap), "-Y", "sip", "-T", "fields", "-e", "sip.Method", "-e", "sip.Status-Code"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return [line.replace("\t", "").strip() for line in out.splitlines() if line.strip()]


def test_call_trace_as_ladder_and_as_pcap_tshark_reads(demo_target, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    target = f"sip:echo@127.0.0.1:{demo_target.port}"
    path = _config(tmp_path, _probe_toml("call", "sip_call", target, 'call_duration = "1s"'))
    execution_id = _run_and_store(path, "call")

    assert main(["trace", "call", "--config", str(path)]) == 0
    ladder = capsys.readouterr().out
    assert f"execution {execution_id}" in ladder
    for label in ("INVITE", "100 Trying", "180 Ringing", "200 OK", "ACK", "BYE"):
        assert label in ladder, ladder
    assert " ms  |" in ladder and ladder.index("INVITE") < ladder.index("ACK") < ladder.index("BYE")

    pcap = tmp_path / "call.pcap"
    assert (
        main(
            [
                "trace",
                "call",
                "--config",
                str(path),
                "--execution",
                str(execution_id),
                "--format",
                "pcap",
                "-o",
                str(pcap),
            ]
        )
        == 0
    )
    seen = _tshark_sip(pcap)
    for item in ("INVITE", "100", "180", "200", "ACK", "BYE"):
        assert item in seen, seen
    assert seen.index("INVITE") < seen.index("ACK") < seen.index("BYE")


def test_digest_registration_trace_is_redacted(kamailio_registrar, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    user, password = next(iter(kamailio_registrar.users.items()))
    target = f"sip:{user}@127.0.0.1:{kamailio_registrar.port}"
    auth = f'auth = {{ username = "{user}", password_env = "REG_PASSWORD" }}'
    path = _config(tmp_path, _probe_toml("reg", "sip_register", target, auth))
    execution_id = _run_and_store(path, "reg", env={"REG_PASSWORD": password})

    raw = zlib.decompress(_stored_blob(path, execution_id)).decode()
    assert "Authorization: Digest <redacted>" in raw
    assert "response=" not in raw and password not in raw

    pcap = tmp_path / "reg.pcap"
    assert main(["trace", "reg", "--config", str(path), "--format", "pcap", "-o", str(pcap)]) == 0
    seen = _tshark_sip(pcap)
    assert seen[:4] == ["REGISTER", "401", "REGISTER", "200"], seen  # then the unregister and its 200


def test_run_without_sip_messages_says_why(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = _config(tmp_path, _probe_toml("dead", "sip_options", "sip:no-such-host.invalid:5060"))
    _run_and_store(path, "dead")
    assert main(["trace", "dead", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "no SIP messages were exchanged in this run: target: " in out and "no-such-host.invalid" in out, out
    assert main(["trace", "dead", "--config", str(path), "--format", "pcap", "-o", str(tmp_path / "x.pcap")]) == 1
    assert "no pcap written" in capsys.readouterr().err
    assert not (tmp_path / "x.pcap").exists()


def test_refused_tcp_ladder_ends_with_why(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """pjsip hands the OPTIONS to the TCP transport (so it is logged) before the connect is refused."""
    path = _config(tmp_path, _probe_toml("refused", "sip_options", "sip:127.0.0.1:9;transport=tcp"))
    _run_and_store(path, "refused")
    assert main(["trace", "refused", "--config", str(path)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("run failed: ") and "refused" in last.lower(), last


def test_engine_sip_traces_false_keeps_no_messages(demo_target, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`[engine] sip_traces = false` reaches the worker (its command line, not the environment): nothing kept."""
    path = tmp_path / "config.toml"
    path.write_text(
        "[engine]\nsip_traces = false\n\n" + _probe_toml("opt", "sip_options", f"sip:127.0.0.1:{demo_target.port}")
    )
    config, _ = load_config(path, env={})
    assert config.engine.sip_traces is False
    spec = config.probes[0]
    off = asyncio.run(run_once(spec, sip_bind="127.0.0.1", sip_traces=config.engine.sip_traces))
    on = asyncio.run(run_once(spec, sip_bind="127.0.0.1"))
    assert off.ok and on.ok
    assert not off.trace
    assert b"OPTIONS" in zlib.decompress(on.trace or b"")


def test_unknown_probe_or_execution_is_one_line_exit_2(demo_target, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = _config(tmp_path, _probe_toml("opt", "sip_options", f"sip:127.0.0.1:{demo_target.port}"))
    execution_id = _run_and_store(path, "opt")
    assert main(["trace", "nope", "--config", str(path)]) == 2
    assert capsys.readouterr().err == "trace: no probe named 'nope' in the database\n"
    assert main(["trace", "opt", "--config", str(path), "--execution", str(execution_id + 1000)]) == 2
    assert capsys.readouterr().err == f"trace: --execution: no execution {execution_id + 1000} of probe 'opt'\n"
    assert main(["trace", "opt", "--config", str(path)]) == 0
    assert "OPTIONS" in capsys.readouterr().out


def test_pcap_to_a_terminal_is_refused(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import sys

    path = _config(tmp_path, _probe_toml("opt", "sip_options", "sip:127.0.0.1:5060"))
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["trace", "opt", "--config", str(path), "--format", "pcap"]) == 2
    assert capsys.readouterr().err == "trace: --format pcap: binary output, give -o FILE (or pipe it)\n"


def test_trace_over_the_cap_says_it_was_cut(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from callmeter_tui.domain.results import ProbeResult
    from callmeter_tui.domain.siptrace import Direction, SipMessage, trace_blob

    path = _config(tmp_path, _probe_toml("big", "sip_options", "sip:127.0.0.1:5060"))
    config, _ = load_config(path, env={})
    pad = "X-Pad: " + "p" * 4000 + "\r\n"  # ~4 KB a message: 16 fit in 64 KB
    msgs = [
        SipMessage(i, Direction.TX, "UDP", "127.0.0.1:1", "127.0.0.1:5060", f"OPTIONS sip:x SIP/2.0\r\n{pad}\r\n")
        for i in range(30)
    ]
    result = ProbeResult(ok=True, started_at=1.0, duration_ms=1.0, sip_code=200, trace=trace_blob(msgs))
    db = open_database(config.database_url or "")
    try:
        with db.session() as s:
            sync_config(s, config)
            probe = queries.probe_by_name(s, "big")
            assert probe is not None
            record_execution(s, probe.id, result, evaluate(result, {}))
    finally:
        db.close()
    assert main(["trace", "big", "--config", str(path)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == "(trace cut at 64 KB: 14 later message(s) not kept)", out[-1]
    assert main(["trace", "big", "--config", str(path), "--format", "pcap", "-o", str(tmp_path / "b.pcap")]) == 0
    assert "trace cut at 64 KB" in capsys.readouterr().err
