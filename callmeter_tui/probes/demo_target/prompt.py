"""What the demo target's RTP carries instead of the caller's own audio: silence (``--mute``) or a file
(``--prompt FILE``, played once from answer, then silence), as G.711 payloads of the caller's codec.

Each echoed packet's payload is replaced in place, so the caller's packet cadence stays the clock: no
timer of our own, and loss, jitter and delay apply to these packets exactly as to the echo.
"""

from __future__ import annotations

import numpy as np

from callmeter_tui.domain.audio import read_wav

PCMU, PCMA = 0, 8
SILENCE = {PCMU: 0xFF, PCMA: 0xD5}  # G.711 codes for 0


def ulaw(pcm: np.ndarray) -> bytes:
    """ITU-T G.711 mu-law of 16-bit samples (int array)."""
    x = np.clip(pcm.astype(np.int64), -32768, 32767)
    sign = np.where(x < 0, 0x80, 0)
    mag = np.minimum(np.abs(x), 32635) + 0x84
    exponent = np.floor(np.log2(mag)).astype(np.int64) - 7
    mantissa = (mag >> (exponent + 3)) & 0x0F
    return bytes((~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8))


def alaw(pcm: np.ndarray) -> bytes:
    """ITU-T G.711 A-law of 16-bit samples (int array)."""
    x = np.clip(pcm.astype(np.int64), -32768, 32767) >> 3
    sign = np.where(x >= 0, 0x80, 0)
    mag = np.minimum(np.where(x >= 0, x, -x - 1), 0xFFF)
    exponent = np.where(mag < 32, 0, np.floor(np.log2(np.maximum(mag, 1))).astype(np.int64) - 4)
    mantissa = np.where(exponent == 0, mag >> 1, mag >> exponent) & 0x0F
    return bytes(((sign | (exponent << 4) | mantissa) ^ 0x55).astype(np.uint8))


class Prompt:
    """A WAV file as 8 kHz G.711, read packet by packet for one call."""

    def __init__(self, path: str) -> None:
        pcm = read_wav(path)
        n = round(len(pcm.samples) * 8000 / pcm.rate)
        t = np.arange(n) * pcm.rate / 8000.0  # linear interpolation: enough for a demo prompt
        samples = np.interp(t, np.arange(len(pcm.samples)), pcm.samples) * 32768.0
        self.coded = {PCMU: ulaw(samples), PCMA: alaw(samples)}

    def cursor(self) -> PromptCursor:
        return PromptCursor(self)


class PromptCursor:
    def __init__(self, prompt: Prompt) -> None:
        self.prompt = prompt
        self.pos = 0

    def next(self, pt: int, size: int) -> bytes:
        data = self.prompt.coded.get(pt)
        if data is None:
            return b""
        chunk = data[self.pos : self.pos + size]
        self.pos += size
        return chunk + bytes([SILENCE[pt]]) * (size - len(chunk))


def payload(data: bytes, mute: bool, cursor: PromptCursor | None) -> bytes:
    """The RTP packet ``data`` with its G.711 payload silenced or replaced by the prompt (else unchanged)."""
    pt = data[1] & 0x7F
    if pt not in SILENCE or not (mute or cursor is not None):
        return data
    head = 12 + 4 * (data[0] & 0x0F)
    size = len(data) - head
    body = cursor.next(pt, size) if cursor is not None and not mute else bytes([SILENCE[pt]]) * size
    return data[:head] + body
