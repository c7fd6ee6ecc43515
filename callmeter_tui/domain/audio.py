"""What a test call's audio says, measured on plain sample arrays (numpy only, no codec, no SIP).

Shared by the prober (verdicts and metrics after a call) and the dashboard (the envelope picture), so
"speech", "silence" and "clipping" mean one thing everywhere. Samples are float arrays in [-1, 1].
"""

from __future__ import annotations

import itertools
import wave
from dataclasses import dataclass

import numpy as np

FRAME_MS = 20
SPEECH_FLOOR_DBFS = -45.0  # a 20 ms frame louder than this carries sound (speech, tones), quieter is silence
CLEAR_SPEECH_DB = 10.0  # silence_pct only counts sent frames this far above the floor (not speech tails)
CLIP_LEVEL = 32700 / 32768  # a sample this close to full scale was clipped
ONE_WAY_SPEECH_PCT = 5.0  # under this share of sent-speech frames heard back, nothing real came back
MIN_SECONDS = 3.0  # shorter audio gives no stable listening score (ViSQOL needs several patches)
MIN_RATE, MAX_RATE = 8000, 48000


@dataclass(frozen=True)
class Pcm:
    """Mono samples in [-1, 1] at ``rate`` Hz."""

    samples: np.ndarray
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate if self.rate else 0.0


def pcm16(data: bytes, rate: int) -> Pcm:
    """16-bit little-endian mono PCM bytes as samples."""
    return Pcm(np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.float64) / 32768.0, rate)


def read_wav(path: str) -> Pcm:
    """A 16-bit PCM WAV file (stereo is mixed down). Raises ValueError with a one-line reason."""
    try:
        with wave.open(path, "rb") as w:
            width, channels, rate, frames = w.getsampwidth(), w.getnchannels(), w.getframerate(), w.getnframes()
            data = w.readframes(frames)
    except (OSError, EOFError, wave.Error) as exc:
        raise ValueError(f"not a readable WAV file: {exc}") from None
    if width != 2:
        raise ValueError(f"expected 16-bit PCM samples, got {8 * width}-bit")
    samples = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.float64) / 32768.0
    if channels > 1:
        samples = samples[: len(samples) // channels * channels].reshape(-1, channels).mean(axis=1)
    return Pcm(samples, rate)


def usable_reference(path: str) -> str | None:
    """Why the WAV at ``path`` cannot be played and scored on a call, or None (one line)."""
    try:
        pcm = read_wav(path)
    except ValueError as exc:
        return str(exc)
    if not MIN_RATE <= pcm.rate <= MAX_RATE:
        return f"sample rate {pcm.rate} Hz cannot be resampled to the call (need {MIN_RATE}-{MAX_RATE} Hz)"
    if pcm.seconds < MIN_SECONDS:
        return f"too short: {pcm.seconds:.1f} s (need at least {MIN_SECONDS:g} s)"
    return None


def frame_levels(x: np.ndarray, rate: int, frame_ms: int = FRAME_MS) -> np.ndarray:
    """RMS level of each ``frame_ms`` frame in dBFS (a full-scale sine is -3 dBFS)."""
    n = max(1, rate * frame_ms // 1000)
    frames = x[: len(x) // n * n].reshape(-1, n)
    rms = np.sqrt(np.mean(frames * frames, axis=1)) if len(frames) else np.zeros(0)
    return np.asarray(20.0 * np.log10(np.maximum(rms, 1e-6)))


def envelope(x: np.ndarray, rate: int, points: int) -> list[float]:
    """``points`` levels (dBFS) across the whole signal, for a picture of a call."""
    if points <= 0 or len(x) == 0:
        return []
    edges = np.linspace(0, len(x), points + 1).astype(int)
    out = []
    for a, b in itertools.pairwise(edges):
        seg = x[a:b] if b > a else x[a : a + 1]
        out.append(round(float(20.0 * np.log10(max(float(np.sqrt(np.mean(seg * seg))), 1e-6))), 1))
    return out


def clipping_pct(x: np.ndarray) -> float:
    """Share of samples at full scale, %."""
    return round(100.0 * float(np.mean(np.abs(x) >= CLIP_LEVEL)), 3) if len(x) else 0.0


def fast_len(n: int) -> int:
    """The smallest length >= n whose only prime factors are 2, 3 and 5: an FFT of a length with a large
    prime factor (a recording of 237,760 samples has 743) is tens of times slower."""
    best = 1 << max(0, (n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35 << max(0, (-(-n // p35) - 1).bit_length())  # p35 times the power of 2 reaching n
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def telephone_band(x: np.ndarray, rate: int, lo: float = 300.0, hi: float = 3400.0) -> np.ndarray:
    """``x`` with only the 300-3400 Hz band every telephone codec carries (FFT mask, zero-padded to a fast
    FFT length)."""
    n = fast_len(len(x))
    spectrum = np.fft.rfft(x, n)
    freqs = np.fft.rfftfreq(n, 1.0 / rate)
    spectrum[(freqs < lo) | (freqs > hi)] = 0
    return np.asarray(np.fft.irfft(spectrum, n=n)[: len(x)])


def silence_pct(sent: np.ndarray, received: np.ndarray, rate: int) -> float | None:
    """Share of the frames with speech sent whose received frame (same time, delay removed) is silent, %.

    Both are compared in the telephone band: a narrowband codec dropping a fricative's energy above
    4 kHz is no dropout. None when nothing with sound was sent (no basis for the figure)."""
    s, r = frame_levels(telephone_band(sent, rate), rate), frame_levels(telephone_band(received, rate), rate)
    n = min(len(s), len(r))
    speech = s[:n] > SPEECH_FLOOR_DBFS + CLEAR_SPEECH_DB
    if not speech.any():
        return None
    return round(100.0 * float(np.mean(r[:n][speech] <= SPEECH_FLOOR_DBFS)), 2)


def has_sound(x: np.ndarray, rate: int) -> bool:
    """True when at least a few frames are above the speech floor."""
    levels = frame_levels(x, rate)
    return bool(len(levels)) and 100.0 * float(np.mean(levels > SPEECH_FLOOR_DBFS)) >= ONE_WAY_SPEECH_PCT / 2


def loop_offset(loop: np.ndarray, received: np.ndarray, rate: int, skip_s: float = 0.5, span_s: float = 4.0) -> int:
    """Where in a looping ``loop`` the received audio is: k with received[t] ~ loop[(k + t) % len(loop)].

    Circular cross-correlation (FFT) of a stretch of the received audio against one loop period."""
    size = len(loop)
    start = min(int(skip_s * rate), max(0, len(received) - 1))
    seg = received[start : start + min(int(span_s * rate), size)]
    if size == 0 or len(seg) == 0:
        return 0
    # circular correlation over one period, computed as a linear one against the loop extended by the
    # stretch's length, at a fast FFT length (the loop's own length may have a large prime factor)
    ext = np.concatenate([loop, loop[: len(seg)]]) if len(seg) <= size else loop_slice(loop, 0, size + len(seg))
    n = fast_len(len(ext) + len(seg))
    corr = np.fft.irfft(np.fft.rfft(ext, n) * np.conj(np.fft.rfft(seg, n)), n=n)[:size]
    return int((int(np.argmax(corr)) - start) % size)


def loop_slice(loop: np.ndarray, start: int, length: int) -> np.ndarray:
    """``length`` samples of ``loop`` played round and round, from index ``start``."""
    if len(loop) == 0:
        return np.zeros(length)
    idx = (start + np.arange(length)) % len(loop)
    return np.asarray(loop[idx])


def best_match(expected: np.ndarray, received: np.ndarray) -> float:
    """How well ``expected`` appears anywhere in ``received`` (same rate): the peak normalised
    cross-correlation, 0-1 (1: the same waveform, level aside; unrelated audio stays near 0)."""
    m = len(expected)
    if m == 0 or len(received) == 0:
        return 0.0
    x = np.concatenate([received, np.zeros(max(0, m - len(received)))])
    n = len(x) + m
    corr = np.fft.irfft(np.fft.rfft(x, n) * np.conj(np.fft.rfft(expected, n)), n)[: len(x) - m + 1]
    energy = np.concatenate([[0.0], np.cumsum(x * x)])
    window = np.sqrt(np.maximum(energy[m:] - energy[:-m], 1e-12))
    score = corr / (window * max(float(np.sqrt(np.sum(expected * expected))), 1e-12))
    return round(float(np.clip(np.max(score), 0.0, 1.0)), 3)


def chunked_match(expected: np.ndarray, received: np.ndarray, rate: int, chunk_s: float = 0.5) -> float:
    """``best_match`` of each ``chunk_s`` stretch of ``expected`` that has sound, averaged: a jitter buffer
    dropping or adding a frame shifts the rest of a waveform, which one whole-file correlation punishes."""
    n = max(1, int(chunk_s * rate))
    scores = []
    for start in range(0, max(1, len(expected) - n // 2), n):
        chunk = expected[start : start + n]
        if len(chunk) and float(np.max(frame_levels(chunk, rate))) > SPEECH_FLOOR_DBFS:
            scores.append(best_match(chunk, received))
    return round(float(np.mean(scores)), 3) if scores else 0.0
