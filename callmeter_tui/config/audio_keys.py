"""The audio keys of a ``sip_call`` probe: ``audio_file``, ``expect_prompt``, ``dtmf``, ``dtmf_mode``.

Checked when the config is read (``check``, ``run``, the TUI form), not at the first call: a WAV the
prober cannot play or score, or a digit no DTMF method can send, is a one-line error naming the key.
"""

from __future__ import annotations

from pathlib import Path

from ..domain.audio import usable_reference
from ..domain.probe import DTMF_DIGITS, DtmfMode
from .fields import Table, join


def _wav(t: Table, key: str, base_dir: Path | None) -> str | None:
    raw = t.str(key)
    if raw is None:
        return None
    p = Path(raw).expanduser()
    if base_dir is not None and not p.is_absolute():
        p = base_dir / p
    if p.suffix.lower() != ".wav":
        t.problems.add(join(t.path, key), f"expected a .wav file, got {raw!r}")
    elif not p.is_file():
        t.problems.add(join(t.path, key), f"file not found: {str(p)!r}")
    elif why := usable_reference(str(p)):
        t.problems.add(join(t.path, key), f"{why}: {str(p)!r}")
    return str(p)


def read_audio_keys(t: Table, base_dir: Path | None) -> tuple[str | None, str | None, str | None, DtmfMode]:
    """(audio_file, expect_prompt, dtmf, dtmf_mode) of a probe table; problems go to ``t.problems``."""
    audio_file = _wav(t, "audio_file", base_dir)
    expect_prompt = _wav(t, "expect_prompt", base_dir)
    dtmf = t.str("dtmf")
    mode = t.choice("dtmf_mode", [m.value for m in DtmfMode], DtmfMode.RFC4733.value)
    if dtmf is not None:
        bad = sorted({c for c in dtmf if c not in DTMF_DIGITS})
        if bad:
            t.problems.add(join(t.path, "dtmf"), f"DTMF digits are 0-9, *, #, A-D; got {''.join(bad)!r} in {dtmf!r}")
    return audio_file, expect_prompt, dtmf, DtmfMode(mode or DtmfMode.RFC4733.value)
