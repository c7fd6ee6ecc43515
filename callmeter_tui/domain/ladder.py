"""A run's SIP trace as a call-flow ladder (sngrep-style), one arrow per message: shared by the CLI and the TUI.

Columns are the parties in order of appearance: the prober first, then each peer address (an outbound
proxy shows up as its own column). Each arrow says the method or status and the milliseconds since the
first message; a message sent again with the same first line and CSeq is marked as a retransmission.
Pure: returns lines of text.
"""

from __future__ import annotations

from dataclasses import dataclass

from .siptrace import Direction, SipMessage, SipTrace

COLUMN_W = 30
PROBER = "prober"
RETX_MARK = " (retx)"  # a retransmission: same direction, first line, CSeq and Call-ID as an earlier message


@dataclass(frozen=True)
class Arrow:
    """One ladder row: which message, from which column to which, and what it says."""

    index: int  # position in the trace's messages
    ms: float  # since the first message
    src: int
    dst: int
    label: str
    retransmission: bool


def parties(trace: SipTrace) -> list[str]:
    """Column titles: the prober (with its address), then the peers in order of first appearance."""
    local = next((m.local for m in trace.messages if m.local), "")
    names = [f"{PROBER} {local}".strip()]
    for msg in trace.messages:
        if msg.remote not in names:
            names.append(msg.remote)
    return names


def arrows(trace: SipTrace) -> list[Arrow]:
    cols = parties(trace)
    if not trace.messages:
        return []
    t0 = trace.messages[0].at_us
    seen: set[tuple[str, str, str, str]] = set()
    out: list[Arrow] = []
    for i, msg in enumerate(trace.messages):
        peer = cols.index(msg.remote)
        src, dst = (0, peer) if msg.direction is Direction.TX else (peer, 0)
        key = (msg.direction.value, msg.first_line, msg.cseq, msg.call_id)
        out.append(Arrow(i, (msg.at_us - t0) / 1000.0, src, dst, msg.label, key in seen))
        seen.add(key)
    return out


def arrow_line(arrow: Arrow, ncols: int) -> str:
    """``  12.345 ms  |----- INVITE ------>|`` drawn across the columns the arrow spans."""
    lo, hi = sorted((arrow.src, arrow.dst))
    span = (hi - lo) * COLUMN_W - 1
    mark = RETX_MARK if arrow.retransmission else ""
    label = arrow.label
    if len(label) + len(mark) > span - 4:  # keep the columns straight (and the mark); the raw message has the rest
        label = label[: span - 5 - len(mark)] + "~"
    label += mark
    body = f" {label} ".center(max(span - 1, len(label) + 2), "-")
    body = ("<" + body) if arrow.src > arrow.dst else (body + ">")
    cells = " " * (lo * COLUMN_W) + "|" + body + "|"
    rest = ncols - 1 - hi
    cells += ("".ljust(COLUMN_W - 1) + "|") * rest
    return f"{arrow.ms:>10.3f} ms  {cells}"


def why_no_messages(error: str | None) -> str:
    """Why a run has no SIP messages: its error (DNS failure, refused connection), or that none were captured."""
    if error:
        return error
    return "nothing was captured (a run from before traces, or traces off: engine.sip_traces = false)"


def ladder_lines(trace: SipTrace, why_empty: str = "", failure: str | None = None) -> list[str]:
    """The whole ladder ending with the run's failure if it failed, or one line saying why there is nothing."""
    if not trace.messages:
        reason = f": {why_empty}" if why_empty else ""
        return [f"no SIP messages were exchanged in this run{reason}"]
    cols = parties(trace)
    head = " " * 14 + "".join(c[: COLUMN_W - 1].ljust(COLUMN_W) for c in cols)
    lines = [head.rstrip()]
    lines.extend(arrow_line(a, len(cols)) for a in arrows(trace))
    if trace.note:
        lines.append(f"({trace.note})")
    if failure:
        lines.append(f"run failed: {failure}")
    return lines


def message_detail(msg: SipMessage, t0_us: int) -> str:
    """The raw message under a one-line heading (direction, transport, addresses, time)."""
    way = f"{msg.local} -> {msg.remote}" if msg.direction is Direction.TX else f"{msg.remote} -> {msg.local}"
    head = f"{msg.direction.value.upper()} {msg.transport} {way} at +{(msg.at_us - t0_us) / 1000.0:.3f} ms"
    return head + "\n\n" + msg.text.replace("\r\n", "\n")
