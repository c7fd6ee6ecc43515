"""Descriptor exhaustion (issue 12 #1): slowloris and connection floods against a real ``serve`` started with a
low RLIMIT_NOFILE must not take the page, the webhooks or the log down. Loopback only, bounded in count and time.
Plus aiohttp's own 400s (malformed requests) carry our headers and log one line (issue 12, should fix)."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

from callmeter_tui.web.connections import HEADER_TIMEOUT_S

from .conftest import DAY, NOW, Seed

NOFILE = 256  # soft = hard: the process cannot raise it
FLOOD = 400  # connections opened by the "attacker", more than the process has descriptors
SECRET = "exhaustion-secret-0123456789abcdef"


async def _request(port: int, raw: bytes, timeout: float = 5.0) -> bytes:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        writer.write(raw)
        return await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()


async def _closed_by_peer(reader: asyncio.StreamReader) -> float:
    try:
        while await reader.read(1024):
            pass
    except ConnectionError:
        pass
    return time.monotonic()


async def test_malformed_request_gets_our_headers_and_one_log_line(make_server, caplog) -> None:
    srv = await make_server()
    caplog.set_level(logging.DEBUG)
    answer = await _request(srv.server.port, b"GET /x HTTP/1.1\r\nHost: a\r\nBad Header Line\r\n\r\n")
    head = answer.split(b"\r\n\r\n")[0].decode("latin-1")
    assert re.match(r"HTTP/1\.[01] 400 ", head), head
    assert "\r\nServer: callmeter-tui" in head and "\r\nX-Content-Type-Options: nosniff" in head
    assert "\r\nContent-Security-Policy: default-src 'none';" in head
    logged = [r for r in caplog.records if r.name.startswith(("aiohttp", "callmeter_tui.web")) and r.levelno >= 30]
    assert len(logged) == 1 and logged[0].exc_info is None and "\n" not in logged[0].getMessage(), logged
    assert logged[0].getMessage().startswith("web: Error handling request from 127.0.0.1: BadHttpMessage 'Invalid")


async def test_a_render_short_of_descriptors_is_one_line_and_is_retried(seed: Seed, make_server, caplog) -> None:
    """A render that fails for want of descriptors (EMFILE: a flood holds them) is not a broken page: the
    last version stays served, one warning line without a traceback, and the page renders again by itself
    once descriptors are back. Any other failure is still logged with its traceback."""
    a = seed.probe("trunk-a", "HEALTHY", spans=[("HEALTHY", NOW - DAY, NOW)])
    seed.page("voip", "Before", [(a, "Trunk A")])
    srv = await make_server()
    original, calls = srv.server._render_elsewhere, []

    async def short_twice(slug: str):  # type: ignore[no-untyped-def]
        calls.append(time.monotonic())
        if len(calls) <= 2:
            raise OSError(errno.EMFILE, "Too many open files")
        return await original(slug)

    srv.server._render_elsewhere = short_twice
    caplog.set_level(logging.DEBUG)
    seed.edit_page("voip", name="After")
    await srv.server._render("voip")
    assert "Before" in (await srv.client.get("/voip")).text  # the last version, still served
    deadline = time.monotonic() + 10
    while "After" not in (await srv.client.get("/voip")).text:
        assert time.monotonic() < deadline, calls
        await asyncio.sleep(0.1)
    assert len(calls) == 3 and calls[2] - calls[1] >= 0.9  # retried at the debounce's pace
    logged = [r for r in caplog.records if r.name.startswith("callmeter_tui.web") and r.levelno >= logging.WARNING]
    assert len(logged) == 1 and logged[0].exc_info is None, logged
    assert "not rendered for now: [Errno 24] Too many open files" in logged[0].getMessage()

    async def broken(slug: str):  # type: ignore[no-untyped-def]
        raise RuntimeError("a real bug")

    srv.server._render_elsewhere = broken
    await srv.server._render("voip")
    assert caplog.records[-1].exc_info is not None and "failed to render" in caplog.records[-1].getMessage()


def _config(tmp_path: Path, hook_url: str, ca_bundle: str) -> Path:
    cfg = tmp_path / "ex.toml"
    cfg.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "ex.db"}"\n[web]\nhost = "127.0.0.1"\nport = 0\n'
        f'[webhooks]\nallow_private_targets = true\nca_bundle = "{ca_bundle}"\ntimeout = "5s"\n'
        '[[probes]]\nname = "down"\nkind = "sip_options"\ntarget = "sip:127.0.0.1:9"\ninterval = "60s"\n'
        f'webhooks = [ {{ url = "{hook_url}", secret_env = "EX_HOOK_SECRET" }} ]\n'
    )
    return cfg


def _low_nofile() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


async def test_slowloris_flood_under_a_low_descriptor_limit(tmp_path: Path, https_receiver, webhook_ca) -> None:
    https_receiver.secrets["/ex"] = SECRET
    cfg = _config(tmp_path, https_receiver.url("/ex"), webhook_ca.ca_bundle)
    env = {k: v for k, v in os.environ.items() if k != "CALLMETER_DATABASE_URL"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "callmeter_tui.cli", "serve", "--config", str(cfg),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env=env | {"EX_HOOK_SECRET": SECRET, "PYTHONUNBUFFERED": "1"}, preexec_fn=_low_nofile,
    )  # fmt: skip
    lines: list[str] = []

    async def pump() -> None:
        assert proc.stdout is not None
        while raw := await proc.stdout.readline():
            lines.append(raw.decode(errors="replace").rstrip())

    pumping = asyncio.create_task(pump())
    flood: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
    try:
        deadline = time.monotonic() + 30
        while not any("status pages at http://127.0.0.1:" in line for line in lines):
            assert time.monotonic() < deadline and proc.returncode is None, lines
            await asyncio.sleep(0.1)
        port = int(re.search(r"status pages at http://127\.0\.0\.1:(\d+)", "\n".join(lines)).group(1))  # type: ignore[union-attr]

        peak = 0
        for i in range(FLOOD):  # each sends part of a request and then nothing
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            flood.append((reader, writer, time.monotonic()))
            if i % 20 == 0:
                await asyncio.sleep(0.02)
                peak = max(peak, len(os.listdir(f"/proc/{proc.pid}/fd")))
        drip_reader, drip_writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
        drip_opened = time.monotonic()

        # During the flood: the page answers, descriptors stay in reserve, the webhook goes out.
        answer = await _request(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
        peak = max(peak, len(os.listdir(f"/proc/{proc.pid}/fd")))
        assert peak < NOFILE - 64, f"{peak} descriptors open of {NOFILE}"
        [delivery] = await https_receiver.wait_for(1, "/ex", timeout=30)
        assert delivery.verdict is None

        async def drip() -> None:  # activity that never completes a request does not keep it open
            for _ in range(int(HEADER_TIMEOUT_S) + 5):
                drip_writer.write(b"X")
                await asyncio.sleep(1)

        dripping = asyncio.create_task(drip())
        closed = await asyncio.wait_for(
            asyncio.gather(*(_closed_by_peer(r) for r, _, _ in flood), _closed_by_peer(drip_reader)),
            HEADER_TIMEOUT_S + 8,
        )
        dripping.cancel()
        held = max(c - opened for c, (_, _, opened) in zip(closed, flood, strict=False))
        assert held <= HEADER_TIMEOUT_S + 3, held
        assert closed[-1] - drip_opened <= HEADER_TIMEOUT_S + 3
        answer = await _request(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200 ")
    finally:
        for _, writer, _ in flood:
            writer.close()
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)
        await asyncio.wait_for(pumping, 10)
    assert proc.returncode == 0
    assert not [line for line in lines if "Traceback" in line]
    assert len(lines) < 40, lines[:60]
    print(f"\npeak descriptors {peak}/{NOFILE}; flood connections held at most {held:.1f} s; {len(lines)} log lines")


def test_the_unit_raises_the_descriptor_limit() -> None:
    unit = (Path(__file__).resolve().parents[2] / "contrib" / "callmeter-tui.service").read_text()
    [value] = [line.split("=", 1)[1] for line in unit.splitlines() if line.startswith("LimitNOFILE=")]
    assert int(value) >= 65536


HOG = """
import asyncio, os, resource, sys
from callmeter_tui.config.model import Config, WebSettings
from callmeter_tui.bus.events import EventBus
from callmeter_tui.commands.serve import setup_logging
from callmeter_tui.store.database import open_database
from callmeter_tui.web.server import WebServer

async def main():
    setup_logging("plain")
    srv = WebServer(open_database("sqlite:///" + sys.argv[1]), Config(web=WebSettings(host="127.0.0.1", port=0)), EventBus())
    await srv.start()
    hog = []  # another part of the process took every descriptor left
    try:
        while True:
            hog.append(os.open("/dev/null", os.O_RDONLY))
    except OSError:
        pass
    print("PORT", srv.port, flush=True)
    await asyncio.sleep(float(sys.argv[2]))
    for fd in hog:
        os.close(fd)
    await srv.stop()

asyncio.run(main())
"""


async def test_accept_errors_are_one_line_per_interval_not_a_traceback_each(tmp_path: Path) -> None:
    """EMFILE on accept() (descriptors taken by something else) gives one throttled line, no traceback flood."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOG, str(tmp_path / "hog.db"), "6",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, preexec_fn=_low_nofile,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        first = await asyncio.wait_for(proc.stdout.readline(), 30)
        while not first.startswith(b"PORT"):
            first = await asyncio.wait_for(proc.stdout.readline(), 30)
        port = int(first.split()[1])
        clients = []
        for _ in range(50):  # queued by the kernel, then refused by accept() with EMFILE, again and again
            try:
                clients.append(await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1))
            except (TimeoutError, OSError):
                pass
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
        for _, writer in clients:
            writer.close()
    lines = out.decode(errors="replace").splitlines()
    assert not [line for line in lines if "Traceback" in line], "\n".join(lines)
    accept = [line for line in lines if "accept" in line]
    assert len(accept) == 1 and "web: cannot accept connections: Too many open files" in accept[0], lines[:40]


def test_soft_descriptor_limit_is_raised_to_the_hard_one_and_the_cap_keeps_a_reserve() -> None:
    script = (
        "import json, logging, resource\n"
        "logging.basicConfig(level=logging.INFO, format='%(message)s')\n"
        "from callmeter_tui.web.connections import connection_limit, raise_nofile_limit\n"
        "soft = raise_nofile_limit()\n"
        "print(json.dumps([soft, resource.getrlimit(resource.RLIMIT_NOFILE), *connection_limit(soft)]))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (256, 4096)),
    )
    assert r.returncode == 0, r.stderr
    assert "descriptor limit raised from 256 to 4096" in r.stderr
    soft, limits, cap, reserve = json.loads(r.stdout)
    assert soft == 4096 and limits == [4096, 4096]
    assert reserve == 1024 and 2800 < cap < 4096 - 1024
