"""Recordings hold what the far end said: private like the database, whatever the umask."""

from __future__ import annotations

import os
import stat
import wave
from pathlib import Path

from callmeter_tui.probes.audio_tap import save_wav


def test_recordings_directory_0700_and_files_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        target = tmp_path / "state" / "recordings" / "trunk.wav"
        save_wav(str(target), b"\x00\x01" * 800, 8000)
        save_wav(str(target), b"\x00\x02" * 800, 8000)  # replaced, still private
        existing = tmp_path / "loose"
        existing.mkdir(mode=0o755)
        save_wav(str(existing / "b.wav"), b"\x00\x00" * 80, 8000)
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(existing.stat().st_mode) == 0o700
    assert stat.S_IMODE((existing / "b.wav").stat().st_mode) == 0o600
    with wave.open(str(target)) as w:
        assert (w.getframerate(), w.getnframes()) == (8000, 800)
    assert sorted(p.name for p in target.parent.iterdir()) == ["trunk.wav"]
