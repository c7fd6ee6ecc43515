"""How many DTMF digits of a test call went missing or came back wrong (the metric ``dtmf_errors``)."""

from __future__ import annotations

import numpy as np


def dtmf_errors(sent: str, received: str) -> int:
    """Edit distance between what was sent and what came back: a missing, an extra or a wrong digit each count 1."""
    prev = list(range(len(received) + 1))
    for i, a in enumerate(sent, 1):
        row = [i]
        for j, b in enumerate(received, 1):
            row.append(min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a != b)))
        prev = row
    return prev[-1]


ROWS = (697.0, 770.0, 852.0, 941.0)
COLS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYPAD = ("123A", "456B", "789C", "*0#D")
FRAME_S = 0.02
MIN_FRAMES = 2  # a digit is a tone pair held for at least 40 ms (ITU-T Q.24 asks for 40 ms)
PAIR_SHARE = 0.6  # the strongest row and column tones must hold this share of the frame's energy


def _goertzel(frames: np.ndarray, freq: float, rate: int) -> np.ndarray:
    """Power at ``freq`` of each row of ``frames`` (Goertzel, vectorised over frames)."""
    n = frames.shape[1]
    w = 2.0 * np.pi * freq / rate
    basis = np.exp(-1j * w * np.arange(n))
    return np.asarray(np.abs(frames @ basis) ** 2)


def detect_inband(samples: np.ndarray, rate: int) -> str:
    """DTMF digits in audio (samples in [-1, 1]), in order; a digit repeats only after a gap."""
    n = int(FRAME_S * rate)
    frames = samples[: len(samples) // n * n].reshape(-1, n) if n else np.zeros((0, 1))
    if len(frames) == 0:
        return ""
    rows = np.stack([_goertzel(frames, f, rate) for f in ROWS], axis=1)
    cols = np.stack([_goertzel(frames, f, rate) for f in COLS], axis=1)
    total = np.sum(frames * frames, axis=1) * n / 2.0  # a pure tone of the frame's energy has this power
    r, c = np.argmax(rows, axis=1), np.argmax(cols, axis=1)
    strength = (rows.max(axis=1) + cols.max(axis=1)) / np.maximum(total, 1e-12)
    keys = [KEYPAD[ri][ci] if s >= PAIR_SHARE and t > 1e-6 else "" for ri, ci, s, t in zip(r, c, strength, total)]
    out, run, last = [], 0, ""
    for k in [*keys, ""]:
        if k and k == last:
            run += 1
        else:
            if last and run >= MIN_FRAMES:
                out.append(last)
            run, last = (1, k) if k else (0, "")
    return "".join(out)
