"""What the caller heard: MOS-LQO (ViSQOL v3, speech mode), mouth-to-ear delay, silence and clipping.

Runs in the worker's probe thread after the call has been hung up (never on the event loop, never on
pjsua's event thread). The sent audio is the reference WAV played round and round by the worker's
shared player, starting wherever the player was when the call connected (``start_pos``, in the
reference's own samples). Received audio is found in that loop by circular cross-correlation; the
difference to ``start_pos`` is the delay. The reference, aligned, is then scored against what came back.

A scoring failure never fails the probe: ``mos_lqo`` is left out and ``reason`` says why in one line.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from callmeter_tui.domain.audio import (
    Pcm,
    chunked_match,
    clipping_pct,
    envelope,
    has_sound,
    loop_offset,
    loop_slice,
    pcm16,
    read_wav,
    silence_pct,
    telephone_band,
)

from .outcome import one_line

VISQOL_RATE = 16000  # ViSQOL speech mode is a wideband (16 kHz) model
SETTLE_S = 0.1  # skipped after the echo starts: the jitter buffer is still filling
MAX_SCORED_S = 8.0  # a long call is scored on its first 8 s after the echo starts (CPU: see bench/bench_listening.py)
SCORE_HOP = 320  # ViSQOL's frame hop in speech mode (80 ms window, 25 %) at 16 kHz
SEARCH_WINDOW = 4  # ViSQOL's patch search radius (frames): the audio is aligned to the sample before scoring


@dataclass(frozen=True)
class Heard:
    """The verdicts and figures of one call's received audio."""

    speech: bool  # anything with sound came back
    mos_lqo: float | None = None
    audio_delay_ms: float | None = None
    silence_pct: float | None = None
    clipping_pct: float | None = None
    reason: str | None = None  # why there is no mos_lqo
    scored_from: int | None = None  # where in the reference (16 kHz samples) the scored stretch starts
    scored_s: float | None = None
    prompt_match: float | None = None  # expect_prompt: how well the far end's prompt matched the file

    def metrics(self) -> dict[str, float]:
        pairs = (
            ("mos_lqo", self.mos_lqo),
            ("audio_delay_ms", self.audio_delay_ms),
            ("silence_pct", self.silence_pct),
            ("clipping_pct", self.clipping_pct),
            ("prompt_match", self.prompt_match),
        )
        return {k: v for k, v in pairs if v is not None}


def resample(x: np.ndarray, rate: int, to: int) -> np.ndarray:
    """Polyphase resampling (scipy), exact for the integer ratios telephony uses."""
    if rate == to:
        return x
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(rate, to)
    return np.asarray(resample_poly(x, to // g, rate // g))


@functools.lru_cache(maxsize=8)
def _reference(path: str, rate: int) -> np.ndarray:
    pcm = read_wav(path)
    return resample(pcm.samples, pcm.rate, rate)


_api_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _visqol() -> tuple[Any, str]:
    """The ViSQOL speech-mode scorer, built once per worker; the deep-lattice mapper when its runtime
    (ai-edge-litert) is installed, else the polynomial one. Returns (api, mapper name)."""
    from visqol import VisqolApi

    from .visqol_speed import apply

    apply()
    api = VisqolApi()
    try:
        api.create(mode="speech", use_lattice_model=True, search_window=SEARCH_WINDOW)
        return api, "lattice"
    except ImportError:
        api = VisqolApi()
        api.create(mode="speech", use_lattice_model=False, search_window=SEARCH_WINDOW)
        return api, "polynomial"


def mapper() -> str:
    return _visqol()[1]


_last_mapper = ""


def visqol_score(reference: np.ndarray, degraded: np.ndarray) -> float:
    """MOS-LQO of ``degraded`` against ``reference`` (16 kHz, equal length), scored in the worker's scoring
    process (scorer_process: the GIL there is not the pjsua media threads')."""
    global _last_mapper
    from .scorer_process import score

    mos, _last_mapper = score(reference, degraded)
    return mos


def visqol_score_here(reference: np.ndarray, degraded: np.ndarray) -> float:
    """MOS-LQO computed in this process."""
    api, _ = _visqol()
    with _api_lock:  # one scorer per worker; calls ending together take turns
        result = api.measure_from_arrays(reference, degraded, VISQOL_RATE)
    return float(result.moslqo)


@dataclass(frozen=True)
class Aligned:
    """The sent audio (the reference loop, delay removed) and what came back, sample for sample at 16 kHz."""

    sent: np.ndarray
    got: np.ndarray
    delay: int | None  # samples; None when the player's position was unknown
    start: int  # index in the reference (16 kHz) where ``sent`` begins


def align(reference_path: str, rx: np.ndarray, start_pos: int | None) -> Aligned:
    """Find the received 16 kHz audio ``rx`` in the looping reference (raises ValueError on a bad reference)."""
    ref = _reference(reference_path, VISQOL_RATE)
    k = loop_offset(ref, rx, VISQOL_RATE)
    delay = None
    if start_pos is not None:
        pos = round(start_pos * VISQOL_RATE / read_wav_rate(reference_path))
        delay = (pos - k) % len(ref)
    skip = min(len(rx), (delay or 0) + int(SETTLE_S * VISQOL_RATE))
    return Aligned(loop_slice(ref, k + skip, len(rx) - skip), rx[skip:], delay, (k + skip) % len(ref))


def score_lead(aligned: Aligned) -> int:
    """Samples skipped so that the scored stretch starts on a multiple of ViSQOL's frame hop in the
    reference: its frames are then the same on every call and their spectrogram columns are reused
    (visqol_speed) instead of filtered again."""
    return -aligned.start % SCORE_HOP


def scored_pair(aligned: Aligned) -> tuple[np.ndarray, np.ndarray]:
    """The stretch ViSQOL scores: at most MAX_SCORED_S from the first hop-aligned sample of the aligned audio."""
    lead = min(score_lead(aligned), len(aligned.got))
    n = min(len(aligned.got) - lead, int(MAX_SCORED_S * VISQOL_RATE))
    return aligned.sent[lead : lead + n], aligned.got[lead : lead + n]


def hear(reference_path: str, received: Pcm, start_pos: int | None) -> Heard:
    """Compare what came back with the looping reference. ``start_pos``: where the player was (in the
    reference file's samples) when the call's audio was connected, None when unknown."""
    rx = resample(received.samples, received.rate, VISQOL_RATE)
    clipped = clipping_pct(received.samples)
    if len(rx) == 0 or not has_sound(rx, VISQOL_RATE):
        return Heard(speech=False, clipping_pct=clipped, reason="no speech received")
    try:
        aligned = align(reference_path, rx, start_pos)
    except ValueError as exc:
        return Heard(speech=True, clipping_pct=clipped, reason=f"reference: {exc}")
    delay_ms = None if aligned.delay is None else round(aligned.delay * 1000.0 / VISQOL_RATE, 1)
    base = Heard(
        speech=True,
        audio_delay_ms=delay_ms,
        silence_pct=silence_pct(aligned.sent, aligned.got, VISQOL_RATE),
        clipping_pct=clipped,
    )
    sent, got = scored_pair(aligned)
    if len(got) < 3 * VISQOL_RATE:
        return replace(base, reason=f"too little audio to score ({len(got) / VISQOL_RATE:.1f} s)")
    try:
        mos = visqol_score(sent, got)
    except Exception as exc:  # the scorer is third-party code: any failure is one line in details
        return replace(base, reason=one_line(f"ViSQOL: {type(exc).__name__}: {exc}"))
    scored_from = (aligned.start + score_lead(aligned)) % len(_reference(reference_path, VISQOL_RATE))
    return replace(base, mos_lqo=round(mos, 3), scored_from=scored_from, scored_s=round(len(got) / VISQOL_RATE, 2))


@functools.lru_cache(maxsize=8)
def read_wav_rate(path: str) -> int:
    return read_wav(path).rate


def listen_to_call(
    reference_path: str, received: bytes, rate: int, start_pos: int | None, details: dict[str, Any]
) -> Heard:
    """``hear`` for a finished call, with its figures and any reason for a missing score put in ``details``.

    Without a recording (no free tap) nothing can be judged: the call counts as heard."""
    if not received:
        details["mos_lqo_unavailable"] = "no recording of the received audio"
        return Heard(speech=True)
    heard = hear(reference_path, pcm16(received, rate), start_pos)
    if heard.reason:
        details["mos_lqo_unavailable"] = heard.reason
    else:
        details["mos_lqo_mapper"] = _last_mapper or mapper()
        details["mos_lqo_scored"] = {"from_sample": heard.scored_from, "seconds": heard.scored_s}
    if start_pos is not None:
        details["player_pos"] = start_pos  # the sent audio's phase: lets anyone re-align the recording
    return heard


PROMPT_RATE = 8000  # prompts are compared in the band every codec carries


def hear_prompt(expected_path: str, received: Pcm) -> Heard:
    """An IVR check: the far end plays a prompt (no echo, so no listening score); how well it matches."""
    clipped = clipping_pct(received.samples)
    if len(received.samples) == 0 or not has_sound(received.samples, received.rate):
        return Heard(speech=False, clipping_pct=clipped, reason="no speech received")
    expected = read_wav(expected_path)
    exp = telephone_band(resample(expected.samples, expected.rate, PROMPT_RATE), PROMPT_RATE)
    got = telephone_band(resample(received.samples, received.rate, PROMPT_RATE), PROMPT_RATE)
    match = chunked_match(exp, got, PROMPT_RATE)
    return Heard(
        speech=True,
        clipping_pct=clipped,
        prompt_match=match,
        reason="expect_prompt: the far end plays a prompt, not an echo",
    )


def listen_to_prompt(expected_path: str, received: bytes, rate: int, details: dict[str, Any]) -> Heard:
    if not received:
        details["prompt_unavailable"] = "no recording of the received audio"
        return Heard(speech=True)
    heard = hear_prompt(expected_path, pcm16(received, rate))
    if heard.reason:
        details["mos_lqo_unavailable"] = heard.reason
    return heard


ENVELOPE_POINTS = 80  # the drill-down's picture of a call: levels across the held time


def call_envelopes(reference_path: str, received: bytes, rate: int, start_pos: int | None) -> dict[str, Any] | None:
    """Sent and received levels (dBFS) of the whole recorded call on one time axis, for the drill-down:
    a dropout or a one-way call shows at a glance. None when the sent audio's phase is unknown."""
    if not received or start_pos is None:
        return None
    rx = pcm16(received, rate)
    try:
        ref = _reference(reference_path, rx.rate)
    except ValueError:
        return None
    pos = round(start_pos * rx.rate / read_wav_rate(reference_path))
    sent = loop_slice(ref, pos, len(rx.samples))
    return {
        "seconds": round(rx.seconds, 2),
        "sent": envelope(sent, rx.rate, ENVELOPE_POINTS),
        "received": envelope(rx.samples, rx.rate, ENVELOPE_POINTS),
    }
