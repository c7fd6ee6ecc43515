"""Bad audio input on a sip_call probe (issue 13): `check` names the key in one line and exits 2.

An audio_file or expect_prompt that is not a readable WAV, shorter than 3 s, or at a rate that cannot be
resampled; dtmf with characters outside 0-9 * # A-D; an unknown dtmf_mode.
"""

from __future__ import annotations

import math
import struct
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from callmeter_tui.config import ConfigError, parse_config
from callmeter_tui.domain.probe import DtmfMode

CLI = [sys.executable, "-m", "callmeter_tui.cli"]


def wav(path: Path, seconds: float, rate: int = 8000, width: int = 2) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(width)
        w.setframerate(rate)
        n = int(seconds * rate)
        if width == 2:
            w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 7))) for i in range(n)))
        else:
            w.writeframes(bytes(n * width))
    return path


def config(extra: str) -> str:
    return f'[[probes]]\nname = "call"\nkind = "sip_call"\ntarget = "sip:echo@127.0.0.1:5070"\n{extra}\n'


def problems(text: str, base: Path) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse_config(text, label="c.toml", env={}, base_dir=base)
    return e.value.lines


@pytest.mark.parametrize("key", ["audio_file", "expect_prompt"])
def test_unusable_wav_files_are_errors_naming_the_key(tmp_path: Path, key: str) -> None:
    (tmp_path / "text.wav").write_text("not a wav")
    wav(tmp_path / "short.wav", 2.0)
    wav(tmp_path / "slow.wav", 4.0, rate=4000)
    wav(tmp_path / "wide.wav", 4.0, width=3)
    cases = {
        "text.wav": "not a readable WAV file",
        "short.wav": "too short: 2.0 s (need at least 3 s)",
        "slow.wav": "sample rate 4000 Hz cannot be resampled to the call (need 8000-48000 Hz)",
        "wide.wav": "expected 16-bit PCM samples, got 24-bit",
    }
    for name, why in cases.items():
        lines = problems(config(f'{key} = "{name}"'), tmp_path)
        assert len(lines) == 1 and lines[0].startswith(f"c.toml: probes[0].{key}: {why}"), lines


def test_good_audio_keys_read_into_the_spec(tmp_path: Path) -> None:
    wav(tmp_path / "ivr.wav", 3.5, rate=16000)
    cfg, _ = parse_config(
        config('expect_prompt = "ivr.wav"\ndtmf = "159#"\ndtmf_mode = "inband"'), env={}, base_dir=tmp_path
    )
    spec = cfg.probes[0]
    assert spec.expect_prompt == str(tmp_path / "ivr.wav")
    assert spec.dtmf == "159#" and spec.dtmf_mode is DtmfMode.INBAND


def test_dtmf_outside_the_keypad_and_an_unknown_mode_are_errors(tmp_path: Path) -> None:
    lines = problems(config('dtmf = "12x#E"\ndtmf_mode = "smoke"'), tmp_path)
    assert "c.toml: probes[0].dtmf: DTMF digits are 0-9, *, #, A-D; got 'Ex' in '12x#E'" in lines
    assert any(line.startswith("c.toml: probes[0].dtmf_mode:") for line in lines), lines


def test_check_exits_2_with_one_line_naming_the_key(tmp_path: Path) -> None:
    wav(tmp_path / "short.wav", 1.0)
    f = tmp_path / "c.toml"
    f.write_text(config('audio_file = "short.wav"'))
    r = subprocess.run([*CLI, "check", "--config", str(f)], capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2
    assert "probes[0].audio_file: too short: 1.0 s (need at least 3 s)" in r.stderr + r.stdout
