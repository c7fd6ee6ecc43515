"""SIGHUP on a real ``serve``: keys only a restart applies make the reload refused as a whole, with one line
naming them; config warnings are logged at start and on reload (issue 12 #3, #4)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import urllib.error
import urllib.request
from dataclasses import fields
from pathlib import Path

from callmeter_tui.config.model import Config
from callmeter_tui.config.reload import RELOADABLE, RESTART_ONLY

PROBE = '[[probes]]\nname = "{name}"\nkind = "sip_options"\ntarget = "sip:127.0.0.1:9"\ninterval = "60s"\n'


def _write(path: Path, db: Path, *, metrics: bool, frame: str, private: bool, probes: tuple[str, ...]) -> None:
    text = (
        f'[database]\nurl = "sqlite:///{db}"\n'
        f'[web]\nhost = "127.0.0.1"\nport = 0\nmetrics = {str(metrics).lower()}\nframe_ancestors = "{frame}"\n'
        f"[webhooks]\nallow_private_targets = {str(private).lower()}\n"
    )
    text += "".join(PROBE.format(name=n) for n in probes)
    text += 'webhooks = [ { url = "https://hooks.example.com/h", secret_env = "CALLMETER_TEST_UNSET_SECRET" } ]\n'
    path.write_text(text)


def _get(url: str) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers)


class Lines:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc, self.seen = proc, []  # type: ignore[var-annotated]

    async def until(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        async def read() -> re.Match[str]:
            for line in self.seen:
                if m := re.search(pattern, line):
                    return m
            assert self.proc.stdout is not None
            while True:
                raw = await self.proc.stdout.readline()
                if not raw:
                    raise AssertionError(f"serve ended before {pattern!r}: {self.seen[-20:]}")
                self.seen.append(raw.decode().rstrip())
                if m := re.search(pattern, self.seen[-1]):
                    return m

        return await asyncio.wait_for(read(), timeout)


def test_every_config_field_is_either_reloadable_or_restart_only() -> None:
    names = {f.name for f in fields(Config)}
    assert names == RELOADABLE | RESTART_ONLY and not RELOADABLE & RESTART_ONLY


async def test_sighup_refuses_security_settings_it_cannot_apply_naming_them(tmp_path: Path) -> None:
    cfg, db = tmp_path / "r.toml", tmp_path / "r.db"
    _write(cfg, db, metrics=False, frame="*", private=False, probes=("A",))
    env = {k: v for k, v in os.environ.items() if k not in ("CALLMETER_DATABASE_URL", "CALLMETER_TEST_UNSET_SECRET")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "callmeter_tui.cli", "serve", "--config", str(cfg),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env | {"PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    out = Lines(proc)
    try:
        await out.until(r"WARNING config: r\.toml: probes\[0\]: warning: environment variable "
                        r"CALLMETER_TEST_UNSET_SECRET is not set")  # fmt: skip
        base = (await out.until(r"status pages at (http://127\.0\.0\.1:\d+)")).group(1)
        await out.until(r"serving 1 probes")
        assert (await asyncio.to_thread(_get, base + "/metrics"))[0] == 404

        _write(cfg, db, metrics=True, frame="'self'", private=True, probes=("A", "B"))
        proc.send_signal(signal.SIGHUP)
        line = (await out.until(r"reload refused: .*")).group(0)
        assert line == (
            "reload refused: web.metrics, web.frame_ancestors, webhooks.allow_private_targets changed and need "
            "a restart; nothing was applied"
        )
        status, headers = await asyncio.to_thread(_get, base + "/metrics")
        assert status == 404 and "frame-ancestors *;" in headers["Content-Security-Policy"]  # what the line says

        _write(cfg, db, metrics=False, frame="*", private=False, probes=("A", "B"))  # only reloadable changes
        proc.send_signal(signal.SIGHUP)
        await out.until(r"config reloaded from ")
        await out.until(r"execution probe='B'")
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)
    assert len([s for s in out.seen if "config reloaded" in s]) == 1  # the refused reload applied nothing
