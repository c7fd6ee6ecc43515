"""The drill-down's picture of the last test call: what was sent and what came back, on one time axis.

Drawn from the latest execution's details (the prober stores the two level envelopes there), so it needs
no file and works for probes run by another node. Next to it: MOS-LQO beside the E-model MOS, the audio
delay and the DTMF result, in one line each.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from ..engine.api import ExecutionRow
from .plain import plain

BLOCKS = " ▁▂▃▄▅▆▇█"
FLOOR_DB, TOP_DB = -60.0, -6.0  # the picture's scale: silence at the bottom, loud speech at the top


def bar(levels: list[float], width: int) -> str:
    """Levels (dBFS) as one line of ``width`` block characters (levels resampled to the width)."""
    if not levels or width <= 0:
        return ""
    out = []
    for i in range(width):
        v = levels[min(len(levels) - 1, i * len(levels) // width)]
        frac = (min(max(v, FLOOR_DB), TOP_DB) - FLOOR_DB) / (TOP_DB - FLOOR_DB)
        out.append(BLOCKS[round(frac * (len(BLOCKS) - 1))])
    return "".join(out)


def _num(metrics: dict[str, float], key: str, fmt: str) -> str:
    return format(metrics[key], fmt) if key in metrics else "—"


def summary_lines(e: ExecutionRow) -> list[str]:
    """MOS-LQO beside the E-model MOS, audio delay, silence, DTMF and prompt results of one call."""
    m, d = e.metrics, e.details
    lqo = _num(m, "mos_lqo", ".2f")
    why = f" ({d['mos_lqo_unavailable']})" if "mos_lqo" not in m and d.get("mos_lqo_unavailable") else ""
    lines = [
        f"MOS-LQO {lqo}{why}  ·  E-model MOS {_num(m, 'mos', '.2f')}  ·  audio delay {_num(m, 'audio_delay_ms', '.0f')} ms"
        f"  ·  silence {_num(m, 'silence_pct', '.1f')} %"
    ]
    if "dtmf_sent" in d:
        errors = int(m.get("dtmf_errors", 0))
        verdict = "ok" if errors == 0 else f"{errors} error{'s' * (errors != 1)}"
        lines.append(
            f"DTMF ({d.get('dtmf_mode', '?')}): sent {d['dtmf_sent']} → got {d.get('dtmf_received') or '—'} ({verdict})"
        )
    if "prompt_match" in m:
        lines.append(f"Prompt match {m['prompt_match']:.2f}")
    return lines


def picture_lines(envelope: dict[str, Any] | None, width: int) -> list[str]:
    """Two bars, sent over received, labelled, with the call's length under them."""
    if not envelope:
        return ["(no audio picture for this call)"]
    w = max(10, width - 10)
    return [
        f"sent     {bar(list(envelope.get('sent') or []), w)}",
        f"received {bar(list(envelope.get('received') or []), w)}",
        f"         0 s{' ' * max(1, w - 12)}{float(envelope.get('seconds', 0)):.1f} s",
    ]


class CallAudio(Static):
    """The last call's audio summary and picture; ``show(None)`` for probes that place no calls."""

    def show(self, execution: ExecutionRow | None, width: int = 80) -> None:
        if execution is None or "call_answered" not in execution.details:
            self.display = False
            return
        self.display = True
        head = "Last call's audio"
        body = summary_lines(execution) + picture_lines(execution.details.get("audio_envelope"), width)
        self.update(plain("\n".join([head, *body])))
