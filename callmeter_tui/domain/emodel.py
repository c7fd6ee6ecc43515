"""ITU-T G.107 E-model: a call's R factor and MOS from delay, loss and codec.

Every transmission parameter other than delay and loss stays at its G.107 default (Table 3:
SLR 8, RLR 2, STMR 15, LSTR 18, Ds = Dr = 3, TELR 65, WEPL 110, qdu 1, Nc -70, Nfor -64,
Ps = Pr = 35, A 0), which gives the G.107 reference R = 93.2 (MOS 4.41) at zero delay and loss.
A call probe measures one direction of a loop-back call, so the echo-path delay T and the
absolute delay Ta are both the one-way mouth-to-ear delay, and the listener echo loop Tr = 2T.

Codec planning values come from ITU-T G.113 Appendix I (Ie: Table I.1, Bpl: Table I.3) where it
lists the codec; each entry says where its numbers come from and what is assumed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class CodecPlanning:
    """E-model planning values for one codec. ``delay_ms`` is packetisation plus look-ahead."""

    name: str
    ie: float  # equipment impairment factor
    bpl: float  # packet-loss robustness factor
    delay_ms: float  # one-way delay the codec adds (frame/ptime + algorithmic look-ahead)
    source: str


CODECS: dict[str, CodecPlanning] = {
    c.name: c
    for c in (
        CodecPlanning(
            "PCMU", 0.0, 25.1, 20.0, "G.711 mu-law with Appendix I PLC: G.113 Table I.3 (Ie 0, Bpl 25.1); 20 ms ptime"
        ),
        CodecPlanning(
            "PCMA", 0.0, 25.1, 20.0, "G.711 A-law with Appendix I PLC: G.113 Table I.3 (Ie 0, Bpl 25.1); 20 ms ptime"
        ),
        CodecPlanning(
            "PCMU-NOPLC", 0.0, 4.3, 20.0, "G.711 mu-law without PLC: G.113 Table I.3 (Ie 0, Bpl 4.3); 20 ms ptime"
        ),
        CodecPlanning(
            "PCMA-NOPLC", 0.0, 4.3, 20.0, "G.711 A-law without PLC: G.113 Table I.3 (Ie 0, Bpl 4.3); 20 ms ptime"
        ),
        CodecPlanning(
            "G722",
            0.0,
            25.1,
            21.5,
            "G.113 gives G.722 only on the wideband scale (Ie,wb, Appendix IV), better than G.711; "
            "assumed here: narrowband Ie 0 and the G.711+PLC Bpl 25.1 (G.722 Appendix III PLC); "
            "20 ms ptime + 1.5 ms QMF delay",
        ),
        CodecPlanning(
            "GSM",
            20.0,
            10.0,
            20.0,
            "GSM 06.10 full rate: Ie 20 from G.113 Table I.1; no Bpl in G.113, assumed the GSM-EFR "
            "value 10.0 of Table I.3; 20 ms frame, no look-ahead",
        ),
        CodecPlanning(
            "iLBC",
            11.0,
            19.0,
            40.0,
            "iLBC is not in G.113; assumed the G.729A+VAD values of Table I.3 (Ie 11, Bpl 19.0), "
            "the nearest low-rate CELP codec with PLC; 30 ms mode: 30 ms frame + 10 ms look-ahead",
        ),
        CodecPlanning(
            "speex",
            11.0,
            19.0,
            30.0,
            "Speex is not in G.113; assumed the G.729A+VAD values of Table I.3 (Ie 11, Bpl 19.0) for "
            "the 8 kbit/s narrowband CELP mode; 20 ms frame + 10 ms look-ahead",
        ),
    )
}


_BY_KEY = {name.upper(): c for name, c in CODECS.items()}


def codec_planning(codec: str) -> CodecPlanning:
    """Planning values for a codec name as SIP/SDP spells it ('PCMU', 'pcma/8000', 'G.722', 'iLBC')."""
    key = str(codec).strip().split("/", 1)[0].replace(".", "").replace(" ", "").upper()
    found = _BY_KEY.get(key)
    if found is None:
        raise ValueError(f"unknown codec {codec!r} (known: {', '.join(CODECS)})")
    return found


# G.107 Table 3 default values.
SLR, RLR, STMR, LSTR, DS, TELR, WEPL, QDU, NC, NFOR, PS, PR, A = (
    8.0,
    2.0,
    15.0,
    18.0,
    3.0,
    65.0,
    110.0,
    1.0,
    -70.0,
    -64.0,
    35.0,
    35.0,
    0.0,
)


def _lg(x: float) -> float:
    return math.log10(x)


def _basic() -> tuple[float, float, float]:
    """(Ro, Is, No) for the default parameters (they do not depend on delay or loss)."""
    olr = SLR + RLR
    nos = PS - SLR - DS - 100 + 0.004 * (PS - olr - DS - 14) ** 2
    pre = PR + 10 * _lg(1 + 10 ** ((10 - LSTR) / 10))
    nor = RLR - 121 + pre + 0.008 * (pre - 35) ** 2
    nfo = NFOR + RLR
    no = 10 * _lg(10 ** (NC / 10) + 10 ** (nos / 10) + 10 ** (nor / 10) + 10 ** (nfo / 10))
    ro = 15 - 1.5 * (SLR + no)
    xolr = olr + 0.2 * (64 + no - RLR)
    iolr = 20 * ((1 + (xolr / 8) ** 8) ** (1 / 8) - xolr / 8)
    # STMRo's echo term e^(-T/4) 10^(-TELR/10) is taken at T = 0: with TELR 65 it moves Is by < 0.001.
    stmro = -10 * _lg(10 ** (-STMR / 10) + 10 ** (-TELR / 10))
    ist = (
        12 * (1 + ((stmro - 13) / 6) ** 8) ** (1 / 8)
        - 28 * (1 + ((stmro + 1) / 19.4) ** 35) ** (1 / 35)
        - 13 * (1 + ((stmro - 3) / 33) ** 13) ** (1 / 13)
        + 29
    )
    q = 37 - 15 * _lg(QDU)
    g = 1.07 + 0.258 * q + 0.0602 * q**2
    y = (ro - 100) / 15 + 46 / 8.4 - g / 9
    z = 46 / 30 - g / 40
    iq = 15 * _lg(1 + 10**y + 10**z)
    return ro, iolr + ist + iq, no


_RO, _IS, _NO = _basic()


def delay_impairment(one_way_delay_ms: float) -> float:
    """Id = Idte + Idle + Idd with T = Ta = one-way delay and Tr = 2T (G.107 section 3.4)."""
    t = max(0.0, float(one_way_delay_ms))
    tr = 2 * t
    terv = TELR - 40 * _lg((1 + t / 10) / (1 + t / 150)) + 6 * math.exp(-0.3 * t**2)
    roe = -1.5 * (_NO - RLR)
    re = 80 + 2.5 * (terv - 14)
    idte = ((roe - re) / 2 + math.sqrt((roe - re) ** 2 / 4 + 100) - 1) * (1 - math.exp(-t))
    rle = 10.5 * (WEPL + 7) * (tr + 1) ** -0.25
    idle = (_RO - rle) / 2 + math.sqrt((_RO - rle) ** 2 / 4 + 169)
    idd = 0.0
    if t > 100:
        x = _lg(t / 100) / _lg(2)
        idd = 25 * ((1 + x**6) ** (1 / 6) - 3 * (1 + (x / 3) ** 6) ** (1 / 6) + 2)
    return float(idte + idle + idd)


def effective_ie(loss_pct: float, codec: str = "PCMU", burst_r: float = 1.0) -> float:
    """Ie,eff = Ie + (95 - Ie) * Ppl / (Ppl / BurstR + Bpl)."""
    c = codec_planning(codec)
    ppl = min(100.0, max(0.0, float(loss_pct)))
    return c.ie + (95 - c.ie) * ppl / (ppl / burst_r + c.bpl)


def r_factor(one_way_delay_ms: float, loss_pct: float, codec: str = "PCMU", burst_r: float = 1.0) -> float:
    """R = Ro - Is - Id - Ie,eff + A for a mouth-to-ear delay (ms) and a packet loss (%)."""
    if not math.isfinite(one_way_delay_ms) or one_way_delay_ms < 0:
        raise ValueError(f"one-way delay must be 0 ms or more, got {one_way_delay_ms!r}")
    if not math.isfinite(loss_pct) or loss_pct < 0:
        raise ValueError(f"packet loss must be 0 % or more, got {loss_pct!r}")
    if not math.isfinite(burst_r) or burst_r < 1:
        raise ValueError(f"BurstR must be 1 or more (1 = random loss), got {burst_r!r}")
    return _RO - _IS - delay_impairment(one_way_delay_ms) - effective_ie(loss_pct, codec, burst_r) + A


def mos_from_r(r: float) -> float:
    """G.107 Annex B: MOS_CQE = 1 + 0.035R + R(R-60)(100-R)7e-6, 1 below R 0 and 4.5 above 100.

    The cubic dips just under 1 for R below about 6.5; it is held at 1 there (MOS has no lower value).
    """
    if r <= 0:
        return 1.0
    if r >= 100:
        return 4.5
    return max(1.0, 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6)


def assess(
    rtt_ms: float, jitter_buffer_ms: float, loss_pct: float, discard_pct: float = 0.0, codec: str = "PCMU"
) -> tuple[float, float]:
    """(R, MOS) for a measured call.

    One-way delay = rtt/2 (network) + jitter-buffer delay + the codec's packetisation and look-ahead
    (``CODECS[..].delay_ms``). Packets the jitter buffer discarded as late are lost to the listener, so
    effective loss = loss + discards (capped at 100 %).
    """
    for name, value in (
        ("rtt_ms", rtt_ms),
        ("jitter_buffer_ms", jitter_buffer_ms),
        ("loss_pct", loss_pct),
        ("discard_pct", discard_pct),
    ):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be 0 or more, got {value!r}")
    delay = rtt_ms / 2 + jitter_buffer_ms + codec_planning(codec).delay_ms
    r = r_factor(delay, min(100.0, loss_pct + discard_pct), codec)
    return r, mos_from_r(r)
