"""What a call's RTP/RTCP statistics say, in the metric catalogue's names and units."""

from __future__ import annotations

from typing import Any

from callmeter_tui.domain.emodel import assess


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 3) if whole > 0 else 0.0


def read_stream(call: Any, med_idx: int = 0) -> dict[str, Any]:
    """Read getStreamStat/getStreamInfo while the call is still up (pjsua forgets them on DISCONNECTED)."""
    st = call.getStreamStat(med_idx)
    info = call.getStreamInfo(med_idx)
    rx, tx = st.rtcp.rxStat, st.rtcp.txStat
    received, lost = int(rx.pkt), int(rx.loss)
    metrics: dict[str, float] = {
        "packet_loss_pct": _pct(lost, received + lost),
        "jitter_ms": round(rx.jitterUsec.mean / 1000.0, 3) if rx.jitterUsec.n else 0.0,
    }
    if received == 0:
        # Nothing came back: every packet of the call was lost to the listener; jitter was not measured.
        metrics = {"packet_loss_pct": 100.0}
    out: dict[str, Any] = {
        "codec": f"{info.codecName}/{info.codecClockRate}",
        "packets_sent": int(tx.pkt),
        "packets_received": received,
        "packets_lost": lost,
        "packets_discarded": int(rx.discard),
        "jitter_max_ms": round(rx.jitterUsec.max / 1000.0, 3) if rx.jitterUsec.n else 0.0,
        "jbuf_avg_delay_ms": float(st.jbuf.avgDelayMsec),
        "jbuf_discard": int(st.jbuf.discard),
        "discard_pct": _pct(int(st.jbuf.discard), received),
        "rtcp_reports": int(tx.updateCount),
        "rtt_samples": int(st.rtcp.rttUsec.n),
    }
    if tx.updateCount:
        # The far end's view of what we sent, from its RTCP receiver reports.
        out["far_end_loss_pct"] = _pct(int(tx.loss), int(tx.pkt))
        out["far_end_jitter_ms"] = round(tx.jitterUsec.mean / 1000.0, 3) if tx.jitterUsec.n else 0.0
    if st.rtcp.rttUsec.n:
        metrics["rtt_ms"] = round(st.rtcp.rttUsec.mean / 1000.0, 3)
        out["rtt_min_ms"] = round(st.rtcp.rttUsec.min / 1000.0, 3)  # the path itself: host delays only add
        out["rtt_max_ms"] = round(st.rtcp.rttUsec.max / 1000.0, 3)
    out["metrics"] = metrics
    return out


def score(metrics: dict[str, float], details: dict[str, Any]) -> dict[str, float]:
    """MOS from the shared E-model (R and MOS also go to details). Without an RTCP round-trip sample
    (calls shorter than ~12 s) the network delay counts as 0 and details say so; a codec the model
    has no planning values for gets no MOS."""
    rtt = metrics.get("rtt_ms")
    if rtt is None:
        details["mos_rtt_assumed_ms"] = 0.0
    try:
        r, mos = assess(
            float(rtt or 0.0),
            float(details.get("jbuf_avg_delay_ms", 0.0)),
            float(metrics.get("packet_loss_pct", 0.0)),
            float(details.get("discard_pct", 0.0)),
            str(details.get("codec", "PCMU")),
        )
    except ValueError as exc:
        details["mos_unavailable"] = str(exc)
        return {}
    details["r_factor"] = round(float(r), 2)
    details["mos"] = round(float(mos), 2)
    return {"mos": round(float(mos), 2)}
