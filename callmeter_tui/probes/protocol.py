"""Typed messages between the main process and a prober worker (sent over a multiprocessing pipe).

Only plain data crosses the pipe: the worker never sees a ProbeSpec, only the fields a probe needs,
so the worker stays independent of config changes and secrets never ride along beyond one order.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from callmeter_tui.domain.probe import DtmfMode, ProbeKind, ProbeSpec

# Limits of this pjsua2 build (compile time, see notes/sip-facts.md).
CALLS_PER_WORKER = 4
ACCOUNTS_PER_WORKER = 8
SHARED_ACCOUNTS = 1  # the worker's anonymous account for OPTIONS and calls without auth/proxy
HEARTBEAT_S = 0.5


def recording_path(probe_name: str) -> str:
    """The last call's received audio per probe: $CALLMETER_RECORDINGS_DIR, else under XDG state."""
    base = os.environ.get("CALLMETER_RECORDINGS_DIR") or os.path.join(
        os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state"), "callmeter-tui", "recordings"
    )
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", probe_name).strip("-.") or "probe"
    return os.path.join(base, f"{slug[:80]}.wav")


@dataclass(frozen=True)
class ProbeOrder:
    """main -> worker: run one probe. ``deadline_s`` is the worker's own (soft) limit."""

    id: int
    kind: str
    target: str
    timeout_s: float
    username: str | None = None
    password: str | None = None
    expect_codes: tuple[int, ...] = ()
    codec: str = "PCMU"
    call_duration_s: float = 0.0
    outbound_proxy: str | None = None
    audio_file: str | None = None
    dtmf: str | None = None
    dtmf_mode: str = "rfc4733"
    expect_prompt: str | None = None
    record_path: str | None = None  # sip_call: where the received audio of the last call is kept
    type: str = "probe"

    @classmethod
    def from_spec(cls, order_id: int, spec: ProbeSpec, password: str | None) -> ProbeOrder:
        return cls(
            id=order_id,
            kind=ProbeKind(spec.kind).value,
            target=spec.target,
            timeout_s=float(spec.timeout_s),
            username=spec.username,
            password=password,
            expect_codes=tuple(spec.expect_codes),
            codec=spec.codec,
            call_duration_s=float(spec.call_duration_s),
            outbound_proxy=spec.outbound_proxy,
            audio_file=spec.audio_file,
            dtmf=spec.dtmf,
            dtmf_mode=DtmfMode(spec.dtmf_mode).value,
            expect_prompt=spec.expect_prompt,
            record_path=recording_path(spec.name) if ProbeKind(spec.kind).places_call else None,
        )

    @property
    def needs_account(self) -> bool:
        """REGISTER and calls with credentials or a proxy use an account of their own."""
        if ProbeKind(self.kind).registers:
            return True
        return ProbeKind(self.kind).places_call and bool(self.username or self.outbound_proxy)


@dataclass(frozen=True)
class Cancel:
    """main -> worker: the main process gave up on order ``id`` (hard timeout); clean up."""

    id: int
    type: str = "cancel"


@dataclass(frozen=True)
class Stop:
    """main -> worker: hang up everything and shut the endpoint down in order."""

    type: str = "stop"


@dataclass(frozen=True)
class Ready:
    """worker -> main: endpoint started; ``transports`` maps udp/tcp/tls to the local address."""

    pid: int
    transports: dict[str, str] = field(default_factory=dict)
    codecs: tuple[str, ...] = ()
    type: str = "ready"


@dataclass(frozen=True)
class Heartbeat:
    """worker -> main: sent by the event thread, so it proves pjsip itself is not stuck."""

    type: str = "heartbeat"


@dataclass(frozen=True)
class Done:
    """worker -> main: the outcome of order ``id`` as a ProbeResult dict."""

    id: int
    result: dict[str, Any]
    type: str = "done"


@dataclass(frozen=True)
class Fatal:
    """worker -> main: the endpoint could not start (one-line reason)."""

    error: str
    type: str = "fatal"
