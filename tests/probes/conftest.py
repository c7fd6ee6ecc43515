"""Real SIP peers for the prober tests, started once per session (per xdist worker).

- ``registrar``: kamailio 5.6 with digest auth (htable users, usrloc db_mode 0); it also answers
  OPTIONS, rejects INVITEs to ``busy`` with 486, lets INVITEs to ``ring`` ring (180) forever, and
  proxies requests for other hosts (as an outbound proxy) after proxy digest auth of INVITEs.
- ``echo_peer``: baresip auto-answering with the echo app (aubridge audio, G.711).
- ``sipsak_options``: the sipsak client, the reference timing for OPTIONS.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures import peer_missing

try:
    import trustme
except ImportError:  # pragma: no cover - trustme is a test dependency
    trustme = None

KAMAILIO_MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules"
BARESIP_MODULES = "/usr/lib/baresip/modules"
USERS = {"alice": "wonderland", "bob": "builder"}


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
        return port
    raise RuntimeError("no free port")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
        try:
            t.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def dead_udp_port() -> int:
    """A UDP port with nothing listening (bound and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_options(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float = 10.0) -> None:
    """Wait until the peer answers a raw OPTIONS on UDP."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.3)
            lport = s.bind(("127.0.0.1", 0)) or s.getsockname()[1]
            msg = (
                f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK{time.time_ns()}\r\n"
                f"From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1:{port}>\r\nCall-ID: {time.time_ns()}@t\r\n"
                f"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
            )
            try:
                s.sendto(msg.encode(), ("127.0.0.1", port))
                if s.recv(4096).startswith(b"SIP/2.0"):
                    return
            except OSError:
                time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer OPTIONS on port {port}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the peer's whole process group: kamailio forks its workers even with -DD."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(5)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass(frozen=True)
class Peer:
    port: int
    users: dict[str, str]
    pid: int = 0
    tls_port: int | None = None

    def uri(self, user: str | None = None, transport: str = "udp") -> str:
        u = f"{user}@" if user else ""
        tp = "" if transport == "udp" else f";transport={transport}"
        port = self.tls_port if transport == "tls" and self.tls_port else self.port
        return f"sip:{u}127.0.0.1:{port}{tp}"


KAMAILIO_CFG = """#!KAMAILIO
debug=1
log_stderror=yes
children=2
tcp_children=2
auto_aliases=no
listen=udp:127.0.0.1:{port}
listen=tcp:127.0.0.1:{port}
mpath="{mpath}/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "htable.so"
loadmodule "auth.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "rr.so"
modparam("htable", "htable", "users=>size=4;")
modparam("usrloc", "db_mode", 0)

event_route[htable:mod-init] {{
{users}
}}

request_route {{
    if (has_totag()) {{
        if (loose_route()) {{ t_relay(); }}
        else if (is_method("ACK") && t_check_trans()) {{ t_relay(); }}
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{ t_relay(); }}
        exit;
    }}
    # OPTIONS without a user are for us whatever the port: sipsak 0.9.8 drops the R-URI port's last digit.
    if (is_method("OPTIONS") && $rU == $null) {{ sl_send_reply("200", "OK"); exit; }}
    if (!(uri == myself)) {{
        # Outbound proxy for another peer: INVITEs need proxy digest auth.
        if (is_method("INVITE")) {{
            if (!is_present_hf("Proxy-Authorization")) {{ proxy_challenge("$fd", "0"); exit; }}
            if ($sht(users=>$au) == $null) {{ sl_send_reply("403", "Forbidden"); exit; }}
            if (!pv_proxy_authenticate("$fd", "$sht(users=>$au)", "0")) {{ proxy_challenge("$fd", "0"); exit; }}
            consume_credentials();
        }}
        record_route();
        t_relay();
        exit;
    }}
    if (is_method("REGISTER")) {{
        if (!is_present_hf("Authorization")) {{ www_challenge("$td", "0"); exit; }}
        if ($sht(users=>$au) == $null) {{ sl_send_reply("403", "Forbidden"); exit; }}
        if (!pv_www_authenticate("$td", "$sht(users=>$au)", "0")) {{ www_challenge("$td", "0"); exit; }}
        save("location");
        exit;
    }}
    if (is_method("INVITE")) {{
        if ($rU == "busy") {{ sl_send_reply("486", "Busy Here"); exit; }}
        if ($rU == "ring") {{ t_newtran(); t_reply("180", "Ringing"); exit; }}
        sl_send_reply("404", "Not Found");
        exit;
    }}
    sl_send_reply("405", "Method Not Allowed");
}}
"""


@contextlib.contextmanager
def kamailio_peer(d: Path) -> Iterator[Peer]:
    """kamailio registrar with digest auth (users alice/bob), OPTIONS 200, INVITE busy/ring, in dir ``d``."""
    port = free_port()
    users = "\n".join(f'    $sht(users=>{u}) = "{p}";' for u, p in USERS.items())
    cfg = d / "kamailio.cfg"
    cfg.write_text(KAMAILIO_CFG.format(port=port, mpath=KAMAILIO_MODULES, users=users))
    (d / "run").mkdir(exist_ok=True)
    with open(d / "kamailio.log", "wb") as log:
        proc = subprocess.Popen(
            [
                "kamailio",
                "-f",
                str(cfg),
                "-P",
                str(d / "kamailio.pid"),
                "-Y",
                str(d / "run"),
                "-DD",
                "-E",
                "-m",
                "32",
                "-M",
                "8",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _wait_options(port, proc, "kamailio")
            yield Peer(port, dict(USERS), proc.pid)
        finally:
            _stop(proc)


@pytest.fixture(scope="session")
def registrar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    if not shutil.which("kamailio"):
        peer_missing("kamailio not installed (scripts/install-peers.sh)")
    with kamailio_peer(tmp_path_factory.mktemp("kamailio")) as peer:
        yield peer


BARESIP_CONFIG = """
sip_listen 127.0.0.1:{port}
net_interface 127.0.0.1
audio_player aubridge,echo
audio_source aubridge,echo
audio_alert aubridge,echo
rtp_stats yes
call_max_calls 32
module_path {mpath}
module account.so
module g711.so
module g722.so
module aubridge.so
module_app echo.so
"""


EADDRINUSE_EXIT = 98  # baresip's exit code when its port was taken between free_port() and its bind


@contextlib.contextmanager
def baresip_peer(d: Path) -> Iterator[Peer]:
    """baresip auto-answering echo UA on 127.0.0.1 (user ``echo``); the echo app answers by itself.
    With a certificate (trustme) it also serves SIP over TLS, on its port + 1. On a shared host another
    process can take the chosen port before baresip binds it: then it starts again on other ports."""
    for attempt in range(3):
        proc, peer = _start_baresip(d)
        try:
            _wait_options(peer.port, proc, "baresip")
        except RuntimeError:
            _stop(proc)
            if proc.returncode == EADDRINUSE_EXIT and attempt < 2:
                continue
            raise
        try:
            yield peer
        finally:
            _stop(proc)
        return


def _start_baresip(d: Path) -> tuple[subprocess.Popen[bytes], Peer]:
    port = free_port()
    config = BARESIP_CONFIG.format(port=port, mpath=BARESIP_MODULES)
    tls_port = None
    if trustme is not None and _port_free(port + 1):
        cert = trustme.CA().issue_cert("127.0.0.1")
        pem = d / "sip-cert.pem"
        pem.write_bytes(cert.private_key_pem.bytes() + b"".join(p.bytes() for p in cert.cert_chain_pems))
        config += f"sip_certificate {pem}\n"
        tls_port = port + 1
    (d / "config").write_text(config)
    (d / "accounts").write_text(f"<sip:echo@127.0.0.1:{port}>;regint=0\n")
    (d / "contacts").write_text("")
    with open(d / "baresip.log", "wb") as log:
        proc = subprocess.Popen(
            ["baresip", "-f", str(d)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return proc, Peer(port, {}, proc.pid, tls_port)


@pytest.fixture(scope="session")
def echo_peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    if not shutil.which("baresip"):
        peer_missing("baresip not installed (scripts/install-peers.sh)")
    with baresip_peer(tmp_path_factory.mktemp("baresip")) as peer:
        yield peer


def sipsak_options_ms(uri: str, count: int = 5) -> list[tuple[int, float]]:
    """sipsak's own OPTIONS (status code, round-trip ms) to ``uri``: the comparison reference."""
    out: list[tuple[int, float]] = []
    for _ in range(count):
        res = subprocess.run(["sipsak", "-vv", "-s", uri], capture_output=True, text=True, timeout=10)
        text = res.stdout + res.stderr
        m = re.search(r"reply received after ([0-9.]+) ms \*\*\s+SIP/2.0 (\d{3})", text)
        if m:
            out.append((int(m.group(2)), float(m.group(1))))
    return out


@pytest.fixture(scope="session")
def sipsak_options():
    if not shutil.which("sipsak"):
        peer_missing("sipsak not installed (scripts/install-peers.sh)")
    return sipsak_options_ms
