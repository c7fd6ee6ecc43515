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
    frames = b"".join(struct.pack("<h", int(0.5 * 32767 * _sample(i / RATE))) for i in range(int(seconds * RATE)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(frames)
    return path


if __name__ == "__main__":
    print(write_test_signal())
