"""DTMF on a test call (worker side): send the probe's digits after answer, and judge what came back.

``rfc4733`` sends RTP telephone-event packets, ``info`` SIP INFO requests (application/dtmf-relay); the
far end (an echo, an IVR) answers in kind and pjsua reports each digit in ``Call.onDtmfDigit``.
``inband`` plays the tones into the call's audio. The digits go out after the stretch of speech that is
scored for listening quality (RFC 4733 events replace audio packets while they last). What came back is compared digit by digit (edit
distance: a missing, extra or wrong digit is one error each).
"""

from __future__ import annotations

from typing import Any

import pjsua2 as pj

from callmeter_tui.domain.audio import pcm16
from callmeter_tui.domain.dtmf import detect_inband, dtmf_errors

from .outcome import one_line, pj_error_text

DIGIT_S = 0.3  # one digit's tone or event plus the gap after it
ECHO_MARGIN_S = 1.0  # time for the last digit to come back before hangup
DIGITS_MARGIN_S = 0.3  # the judged speech ends this long before the digits start (in-band stops the speech)
LISTEN_FIRST_S = 8.5  # the listening score's stretch (MAX_SCORED_S after the echo starts) comes first


def dtmf_at(digits: str | None, call_s: float) -> float:
    """When, in seconds after answer, the digits go out: after the speech that is scored when the call is
    long enough, else as late as still lets them come back. Without digits: the whole call is speech."""
    if not digits:
        return call_s
    return max(0.0, min(LISTEN_FIRST_S, call_s - len(digits) * DIGIT_S - ECHO_MARGIN_S))


def send_dtmf(call: Any, digits: str, mode: str, details: dict[str, Any]) -> None:
    """Send ``digits`` on the call's audio stream or in SIP INFO; a failure is one line in details."""
    details["dtmf_sent"] = digits
    details["dtmf_mode"] = mode
    try:
        if mode == "rfc4733":
            call.dialDtmf(digits)
        elif mode == "info":
            prm = pj.CallSendDtmfParam()
            prm.method = pj.PJSUA_DTMF_METHOD_SIP_INFO
            prm.digits = digits
            call.sendDtmf(prm)
        else:
            _play_tones(call, digits)
    except pj.Error as exc:
        details["dtmf_error"] = one_line(f"dtmf: {pj_error_text(exc)}")


TONE_ON_MS, TONE_OFF_MS = 100, 100


def _play_tones(call: Any, digits: str) -> None:
    """In-band: the speech stops (it has been scored), the call's tone generator plays the digits."""
    if call.audio is None:
        return
    if call.player is not None:
        call.player.stopTransmit(call.audio)
    tones = call.wep.tone_generator()
    call.tones = tones
    seq = pj.ToneDigitVector()
    for d in digits:
        td = pj.ToneDigit()
        td.digit, td.on_msec, td.off_msec, td.volume = d, TONE_ON_MS, TONE_OFF_MS, 0
        seq.append(td)
    tones.startTransmit(call.audio)
    tones.playDigits(seq, False)


def stop_tones(call: Any) -> None:
    """Disconnect and lend back the call's tone generator, if it has one."""
    tones = getattr(call, "tones", None)
    if tones is None:
        return
    call.tones = None
    try:
        tones.stop()
        if call.audio is not None and not call.disconnected:
            tones.stopTransmit(call.audio)
    except pj.Error:
        pass
    call.wep.return_tones(tones)


def inband_digits(received: bytes, rate: int, after_s: float) -> str:
    """The DTMF tones in what came back after ``after_s`` (the digits go out after the scored speech)."""
    pcm = pcm16(received[int(after_s * rate) * 2 :], rate)
    return detect_inband(pcm.samples, pcm.rate)


def dtmf_result(sent: str, received: str, details: dict[str, Any]) -> float:
    details["dtmf_received"] = received
    return float(dtmf_errors(sent, received))
