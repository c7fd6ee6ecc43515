"""Recording what comes back on a test call, inside a worker, without ever destroying a pjsua port.

pjsua 2.15.1 crashes now and then when a WAV recorder (or player) is destroyed while the conference
bridge runs (pjproject #4526). So each worker owns one tap per call slot, created once and never
destroyed: an ``AudioMediaPort`` whose ``onFrameReceived`` collects the call's received audio (16-bit
PCM at the bridge's clock rate). The WAV file is written by Python's ``wave`` module after the call.
"""

from __future__ import annotations

import os
import threading
import wave
from pathlib import Path
from typing import Any

import pjsua2 as pj

MAX_SECONDS = 600  # a runaway call never grows a buffer past this


class Tap(pj.AudioMediaPort):
    """Collects frames while ``buf`` is set; called from the bridge's clock thread."""

    def __init__(self, name: str, clock_rate: int) -> None:
        super().__init__()
        self.clock_rate = clock_rate
        self.limit = MAX_SECONDS * clock_rate * 2
        self.buf: bytearray | None = None
        fmt = pj.MediaFormatAudio()
        fmt.init(pj.PJMEDIA_FORMAT_PCM, clock_rate, 1, 20000, 16)
        self.createPort(name, fmt)

    def onFrameReceived(self, frame: Any) -> None:
        try:
            buf = self.buf
            if buf is not None and frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO and len(buf) < self.limit:
                buf.extend(bytes(frame.buf))
        except Exception:
            pass

    def begin(self) -> None:
        self.buf = bytearray()

    def take(self) -> bytes:
        data, self.buf = self.buf, None
        return bytes(data or b"")


class TapPool:
    """One tap per concurrent call of the worker, lent out and returned, never destroyed."""

    def __init__(self, count: int, clock_rate: int) -> None:
        self.clock_rate = clock_rate
        self._free = [Tap(f"tap{i}", clock_rate) for i in range(count)]
        self._all = list(self._free)  # keeps every port referenced for the worker's life
        self._lock = threading.Lock()

    def acquire(self) -> Tap | None:
        with self._lock:
            return self._free.pop() if self._free else None

    def release(self, tap: Tap) -> None:
        tap.buf = None
        with self._lock:
            if tap not in self._free:
                self._free.append(tap)


def save_wav(path: str, pcm: bytes, clock_rate: int) -> None:
    """Write 16-bit mono PCM atomically (a reader never sees half a file).

    Recordings are what the far end said: private like the database (directory 0700, files 0600).
    """
    target = Path(path)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(target.parent, 0o700)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a leftover tmp from a crashed run keeps its old mode otherwise
    with os.fdopen(fd, "wb") as f, wave.open(f, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(clock_rate)
        w.writeframes(pcm)
    os.replace(tmp, target)
