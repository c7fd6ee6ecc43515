"""A test call's verdict, after its hangup: keep the recording, judge the stream figures and what came back.

It works on plain data (``Held``) because the pjsua2 Call object is destroyed at hangup, before the slow
part (scoring) starts: call_slots.py says why that cannot wait. Runs in the worker's probe thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callmeter_tui.domain.results import ProbeResult

from .audio_tap import save_wav
from .call_stats import score
from .dtmf import DIGITS_MARGIN_S, dtmf_result, inband_digits
from .listening import Heard, call_envelopes, listen_to_call, listen_to_prompt
from .outcome import Clock, one_line
from .protocol import ProbeOrder


@dataclass(frozen=True)
class Held:
    """An answered call after its hangup, as plain data: what was measured while it was up and what came
    back. It is judged after the pjsua2 Call object is gone (call_slots.py says why that cannot wait)."""

    metrics: dict[str, float]
    details: dict[str, Any]
    stream: dict[str, Any]  # read_stream's figures, or {"error": ...}
    levels: list[int]
    listen_s: float  # the speech before the DTMF digits
    received: bytes
    audio_file: str
    start_pos: int | None
    dtmf_received: str
    media_error: str | None


def conclude(rate: int, order: ProbeOrder, clock: Clock, held: Held) -> ProbeResult:
    """After the hangup, with the Call object gone: keep the recording, then judge the figures and the audio."""
    metrics, details, stream, levels = held.metrics, held.details, dict(held.stream), held.levels
    _keep_recording(rate, order, held.received, details)
    if levels:
        # pjmedia's level scale (0-255): silence stays near 0, speech-like audio reaches tens and more.
        details["rx_level_peak"] = max(levels)
        details["rx_level_mean"] = round(sum(levels) / len(levels), 1)
    if held.media_error:
        details["media_error"] = held.media_error
    if "error" in stream:
        return clock.fail(
            f"stream stats unavailable: {stream['error']}",
            metrics=metrics,
            details=details,
            sip_code=200,
            sip_reason="OK",
        )
    metrics.update(stream.pop("metrics"))
    details.update(stream)
    metrics.update(score(metrics, details))
    if details.get("packets_received", 0) == 0:
        return clock.fail("no audio received", metrics=metrics, details=details, sip_code=200, sip_reason="OK")
    heard = _judge_audio(rate, order, held, metrics, details)
    if not heard.speech:
        return clock.fail(
            "one-way audio: no speech received", metrics=metrics, details=details, sip_code=200, sip_reason="OK"
        )
    return ProbeResult(
        ok=True,
        started_at=clock.started_at,
        duration_ms=clock.ms(),
        metrics=metrics,
        sip_code=200,
        sip_reason="OK",
        details=details,
    )


def _judge_audio(rate: int, order: ProbeOrder, held: Held, metrics: dict[str, float], details: dict[str, Any]) -> Heard:
    """After hangup, in this probe thread: what came back, scored (listening quality or the IVR prompt), its
    picture, and the DTMF digits. Any failure here is one line in details, never a failed probe."""
    listen_s = held.listen_s
    heard_s = listen_s - DIGITS_MARGIN_S if order.dtmf else listen_s  # the speech before the digits
    speech = held.received[: int(max(0.0, heard_s) * rate) * 2]
    try:
        if order.expect_prompt:
            heard = listen_to_prompt(order.expect_prompt, speech, rate, details)
        else:
            heard = listen_to_call(held.audio_file, speech, rate, held.start_pos, details)
        picture = call_envelopes(held.audio_file, held.received, rate, held.start_pos)
    except Exception as exc:
        details["mos_lqo_unavailable"] = one_line(f"listening: {type(exc).__name__}: {exc}")
        heard, picture = Heard(speech=True), None
    metrics.update(heard.metrics())
    if picture is not None:
        details["audio_envelope"] = picture
    if order.dtmf:
        got = held.dtmf_received
        if order.dtmf_mode == "inband":
            got = inband_digits(held.received, rate, listen_s)
        metrics["dtmf_errors"] = dtmf_result(order.dtmf, got, details)
    return heard


def _keep_recording(rate: int, order: ProbeOrder, received: bytes, details: dict[str, Any]) -> None:
    """Write the received audio of this call where the probe's last recording lives."""
    if not received or not order.record_path:
        return
    try:
        save_wav(order.record_path, received, rate)
    except OSError as exc:
        details["recording_error"] = one_line(f"recording: {exc.strerror or exc}: {order.record_path}")
        return
    details["recording"] = order.record_path
    details["recorded_s"] = round(len(received) / (2 * rate), 2)
