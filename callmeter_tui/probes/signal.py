"""The bundled test signal: a speech-like WAV (syllable bursts of modulated tones with pauses).

Generated once with the stdlib ``wave`` module (``python -m callmeter_tui.probes.signal``) and shipped
in assets/, so no probe depends on a download or a microphone.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

TEST_SIGNAL = Path(__file__).resolve().parent / "assets" / "test_signal.wav"
RATE = 8000


def _sample(t: float) -> float:
    """Syllables of ~180 ms at ~4 Hz, pitch gliding 140-220 Hz, three formant-like partials."""
    syllable = t % 0.25
    env = math.sin(math.pi * syllable / 0.18) if syllable < 0.18 else 0.0
    phrase = t % 2.0
    if phrase > 1.6:  # a pause between phrases, as in speech
        env = 0.0
    f0 = 140 + 80 * (0.5 + 0.5 * math.sin(2 * math.pi * 0.7 * t))
    partials = (1.0, 0.5, 0.25)
    harmonics = (1, 3, 7)
    return env * sum(a * math.sin(2 * math.pi * f0 * h * t) for a, h in zip(partials, harmonics)) / 1.75


def write_test_signal(path: Path = TEST_SIGNAL, seconds: float = 4.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = b"".join(
        struct.pack("<h", int(0.5 * 32767 * _sample(i / RATE))) for i in range(int(seconds * RATE))
    )
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(frames)
    return path


def level_dbfs(path: str | Path) -> float | None:
    """RMS level of a 16-bit mono WAV in dBFS (None when empty): tells silence from real echoed audio."""
    import numpy as np

    try:
        with wave.open(str(path), "rb") as w:
            data = w.readframes(w.getnframes())
    except (OSError, EOFError, wave.Error):
        return None
    samples = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.float64)
    if samples.size == 0:
        return None
    rms = float(np.sqrt(np.mean(samples**2))) / 32768.0
    return round(20 * math.log10(rms), 1) if rms > 0 else -120.0


if __name__ == "__main__":
    print(write_test_signal())
