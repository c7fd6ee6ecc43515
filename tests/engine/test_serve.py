"""Headless ``callmeter-tui serve`` as a real process: real SIP target, real HTTPS webhook receiver,
real signals, real SQLite and PostgreSQL. Two nodes with different agents share one PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from callmeter_tui.store.database import open_database
from callmeter_tui.store.models import Delivery, Execution, Probe, Transition
from tests.fixtures.https import verify_signature

SECRET = "test-secret-for-serve-0123456789abcdef"


def _config(path: Path, db_url: str, probes: list[tuple[str, str, str]], hook_url: str, ca_bundle: str) -> Path:
    """probes: (name, target, agent)."""
    lines = [
        '[project]\nname = "Serve Test"',
        f'[database]\nurl = "{db_url}"',
        "[web]\nenabled = false",
        '[engine]\nsip_bind = "127.0.0.1"',
        f'[webhooks]\nallow_private_targets = true\nca_bundle = "{ca_bundle}"\ntimeout = "5s"',
    ]
    for name, target, agent in probes:
        lines.append(
            f'[[probes]]\nname = "{name}"\nkind = "sip_options"\ntarget = "{target}"\ninterval = "1s"\n'
            f'timeout = "1s"\nagent = "{agent}"\n'
            f'webhooks = [ {{ url = "{hook_url}", secret_env = "SERVE_HOOK_SECRET" }} ]'
        )
    path.write_text("\n\n".join(lines) + "\n")
    return path


async def _serve(config: Path, *extra: str) -> asyncio.subprocess.Process:
    return await _serve_process(config, "--log-format", "json", *extra, stderr=asyncio.subprocess.STDOUT)


async def _serve_process(config: Path, *extra: str, **kw: Any) -> asyncio.subprocess.Process:
    """``callmeter-tui serve --config config ...`` with its output piped (``kw``: more for the subprocess)."""
    env = dict(os.environ, SERVE_HOOK_SECRET=SECRET, PYTHONUNBUFFERED="1")
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "callmeter_tui.cli",
        "serve",
        "--config",
        str(config),
        *extra,
        stdout=asyncio.subprocess.PIPE,
        env=env,
        **kw,
    )


async def _stop(proc: asyncio.subprocess.Process, timeout: float = 20.0) -> tuple[int, list[dict]]:
    proc.send_signal(signal.SIGTERM)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    lines = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    return proc.returncode, lines


async def _until(cond, timeout: float = 30.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_serve_target_down_one_transition_signed_webhook_and_clean_sigterm(
    tmp_path, make_demo_target, demo_target_loop, https_receiver, webhook_ca
) -> None:
    target = make_demo_target()
    db_url = f"sqlite:///{tmp_path / 'serve.db'}"
    cfg = _config(
        tmp_path / "c.toml",
        db_url,
        [("PBX", f"sip:127.0.0.1:{target.port}", "local")],
        https_receiver.url("/hook"),
        webhook_ca.ca_bundle,
    )
    proc = await _serve(cfg)
    try:
        await https_receiver.wait_for(1, timeout=30)  # UNKNOWN -> HEALTHY
        demo_target_loop.run(target.stop())  # the target goes down
        await https_receiver.wait_for(2, timeout=30)  # HEALTHY -> UNHEALTHY
        await asyncio.sleep(2.5)  # more failing runs: no more transitions
    finally:
        code, logs = await _stop(proc)
    assert code == 0
    assert logs[-1]["msg"] == "stopped"
    # serve runs on uvloop on Linux (the public page's rate, issue 16), asyncio's own loop elsewhere.
    (serving,) = [line for line in logs if line.get("event") == "serving"]
    assert serving["loop"] == ("uvloop" if sys.platform.startswith("linux") else "asyncio")
    got = https_receiver.at("/hook")
    assert len(got) == 2
    now_ms = int(time.time() * 1000)
    bodies = []
    for r in got:
        assert verify_signature(r.headers, r.body, SECRET, now_ms) is None
        bodies.append(json.loads(r.body))
    assert [(b["previous_status"], b["current_status"]) for b in bodies] == [
        ("UNKNOWN", "HEALTHY"),
        ("HEALTHY", "UNHEALTHY"),
    ]
    assert bodies[1]["probe_name"] == "PBX" and bodies[1]["project_name"] == "Serve Test"
    transitions = [line for line in logs if line.get("event") == "transition"]
    assert [(t["previous"], t["current"]) for t in transitions] == [("UNKNOWN", "HEALTHY"), ("HEALTHY", "UNHEALTHY")]
    db = open_database(db_url)
    try:
        with db.session() as s:
            down = s.scalars(select(Transition).where(Transition.current_state == "UNHEALTHY")).all()
            assert len(down) == 1
            (d,) = s.scalars(select(Delivery).where(Delivery.transition_id == down[0].id)).all()
            assert d.status == "succeeded"
            failing = s.scalars(select(Execution).where(Execution.state == "UNHEALTHY")).all()
            assert len(failing) >= 2 and all(e.error for e in failing)
    finally:
        db.close()


async def test_serve_bad_config_exits_2_with_one_line_per_problem(tmp_path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[[probes]]\nname = "x"\nkind = "sip_options"\ntarget = "sip:127.0.0.1"\ninterval = "often"\n')
    proc = await _serve_process(cfg, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert err.decode().strip().startswith("bad.toml: probes[0].interval: expected a duration like")


async def test_ctrl_c_stops_serve_and_its_render_process_without_a_traceback(tmp_path, make_demo_target) -> None:
    """Ctrl-C in a terminal sends SIGINT to the whole foreground process group: serve and the process that
    renders its status pages. serve shuts down; the render process is serve's to stop (it printed a
    KeyboardInterrupt traceback from its task queue)."""
    target = make_demo_target()
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[project]\nname = "Ctrl-C"\n\n'
        f'[database]\nurl = "sqlite:///{tmp_path / "c.db"}"\n\n'
        '[web]\nenabled = true\nhost = "127.0.0.1"\nport = 0\n\n'
        '[engine]\nsip_bind = "127.0.0.1"\n\n'
        f'[[probes]]\nname = "PBX"\nkind = "sip_options"\ntarget = "sip:127.0.0.1:{target.port}"\ninterval = "1s"\n\n'
        '[[status_pages]]\nslug = "voip"\nname = "VoIP"\ncomponents = [ { probe = "PBX", name = "Trunk" } ]\n'
    )
    # Its own process group, as a shell gives a foreground job.
    proc = await _serve_process(cfg, stderr=asyncio.subprocess.STDOUT, start_new_session=True)
    assert proc.stdout is not None
    seen = b""
    try:
        deadline = time.monotonic() + 30
        while b"serving 1 probes" not in seen:  # running, its page rendered (by the render process)
            assert time.monotonic() < deadline, seen.decode()
            seen += await asyncio.wait_for(proc.stdout.readline(), 30)
        await asyncio.sleep(1.0)  # the render process idle, waiting for its next page
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            os.killpg(proc.pid, signal.SIGKILL)
    text = (seen + out).decode()
    assert proc.returncode == 0, text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
    assert text.rstrip().endswith("stopped"), text


async def test_sighup_reload_adds_a_probe_without_restart(
    tmp_path, make_demo_target, https_receiver, webhook_ca
) -> None:
    target = make_demo_target()
    db_url = f"sqlite:///{tmp_path / 'reload.db'}"
    uri = f"sip:127.0.0.1:{target.port}"
    cfg = _config(tmp_path / "c.toml", db_url, [("A", uri, "local")], https_receiver.url("/a"), webhook_ca.ca_bundle)
    proc = await _serve(cfg)
    try:
        await https_receiver.wait_for(1, path="/a", timeout=30)
        _config(cfg, db_url, [("A", uri, "local"), ("B", uri, "local")], https_receiver.url("/a"), webhook_ca.ca_bundle)
        proc.send_signal(signal.SIGHUP)
        await https_receiver.wait_for(2, path="/a", timeout=30)  # B: UNKNOWN -> HEALTHY
    finally:
        code, logs = await _stop(proc)
    assert code == 0
    names = {json.loads(r.body)["probe_name"] for r in https_receiver.at("/a")}
    assert names == {"A", "B"}
    assert any(line["msg"].startswith("config reloaded") for line in logs)


@pytest.mark.postgres
async def test_two_nodes_with_agents_share_postgresql_and_deliver_once(
    tmp_path, pg_server, make_demo_target, demo_target_loop, https_receiver, webhook_ca
) -> None:
    target = make_demo_target()
    down = make_demo_target()
    demo_target_loop.run(down.stop())  # one probe of us-east points at a dead port
    db_url = pg_server.create_database()
    uri = f"sip:127.0.0.1:{target.port}"
    probes = [
        ("eu-1", uri, "eu-west"),
        ("eu-2", uri, "eu-west"),
        ("us-1", uri, "us-east"),
        ("us-down", f"sip:127.0.0.1:{down.port}", "us-east"),
    ]
    hook = https_receiver.url("/hook")
    cfg_eu = _config(tmp_path / "eu.toml", db_url, probes, hook, webhook_ca.ca_bundle)
    eu = await _serve(cfg_eu, "--agent", "eu-west")
    await asyncio.sleep(1.5)  # let the first node create the schema before the second starts
    us = await _serve(cfg_eu, "--agent", "us-east")
    try:
        await https_receiver.wait_for(4, timeout=40)
        await asyncio.sleep(3)
    finally:
        code_eu, _ = await _stop(eu)
        code_us, _ = await _stop(us)
    assert (code_eu, code_us) == (0, 0)
    db = open_database(db_url)
    try:
        with db.session() as s:
            agent_of = {p.id: p.agent for p in s.scalars(select(Probe))}
            execs = s.scalars(select(Execution)).all()
            assert {agent_of[e.probe_id] for e in execs} == {"eu-west", "us-east"}
            assert all(e.agent == agent_of[e.probe_id] for e in execs), "a probe ran on the wrong agent"
            assert len({e.probe_id for e in execs}) == 4
            states = {p.name: p.state for p in s.scalars(select(Probe))}
            assert states == {"eu-1": "HEALTHY", "eu-2": "HEALTHY", "us-1": "HEALTHY", "us-down": "UNHEALTHY"}
            deliveries = s.scalars(select(Delivery)).all()
            transitions = s.scalars(select(Transition)).all()
            assert len(deliveries) == len(transitions)  # one webhook per probe: one delivery per transition
            assert all(d.status == "succeeded" for d in deliveries)
    finally:
        db.close()
    received = https_receiver.at("/hook")
    keys = [r.headers["X-CallMeter-Delivery"] for r in received]
    assert len(keys) == len(set(keys)) == len(deliveries), "a delivery was sent twice"
