"""Database size after 90 days: 200 probes at a 60 s interval, on SQLite, with retention as the app runs it.

Simulates a subset of the probes (default 10, ``--probes N``) over 90 days -- mostly healthy, a few flaps --
inserting each simulated day in bulk, then rolling up and pruning exactly as the engine does daily
(executions kept 30 days once rolled up, hourly rollups/spans/transitions kept). Probes are independent
rows, so the database grows linearly with their number: the figures are extrapolated to 200 probes.

Compared with the ~6 GB that Uptime Kuma users report for about 200 monitors over 90 days.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from results import load_note, record  # bench/ is on sys.path when this file runs as a script
from sqlalchemy import insert

from callmeter_tui.config.model import RetentionSettings
from callmeter_tui.domain.probe import ProbeKind, ProbeSpec
from callmeter_tui.store.database import open_database, project_id
from callmeter_tui.store.models import Execution, HealthSpanRow, Transition
from callmeter_tui.store.retention import prune, rollup_hours
from callmeter_tui.store.sync import new_probe_row

DAY = 86400.0
INTERVAL = 60.0
KUMA_BYTES = 6e9
TARGET_PROBES = 200
KINDS = (ProbeKind.SIP_OPTIONS, ProbeKind.SIP_OPTIONS, ProbeKind.SIP_REGISTER, ProbeKind.SIP_CALL)


def _execution(rng: random.Random, probe_id: int, kind: ProbeKind, t: float, bad: bool) -> dict:
    """One execution row as the probers fill it (metrics and details of realistic size)."""
    if kind is ProbeKind.SIP_CALL:
        answered = not bad or rng.random() < 0.5
        metrics = (
            {
                "mos": round(rng.uniform(3.9 if not bad else 2.0, 4.4), 2),
                "jitter_ms": round(rng.uniform(0.5, 40 if bad else 6), 2),
                "packet_loss_pct": round(rng.uniform(0, 8 if bad else 0.3), 2),
                "rtt_ms": round(rng.uniform(1, 60), 2),
                "setup_time_ms": round(rng.uniform(20, 400), 1),
            }
            if answered
            else {}
        )
        details = {"call_answered": answered, "codec": "PCMU", "call_id": f"{rng.getrandbits(64):016x}"}
        return {
            "probe_id": probe_id,
            "started_at": t,
            "duration_ms": 5000.0 + rng.random() * 200,
            "state": "DEGRADED" if bad else "HEALTHY",
            "ok": answered,
            "sip_code": 200 if answered else 408,
            "sip_reason": "OK" if answered else "Request Timeout",
            "error": None if answered else "no answer",
            "metrics": metrics,
            "breaches": [],
            "details": details,
            "agent": "local",
        }
    ms = round(rng.uniform(0.3, 3.0) * (20 if bad else 1), 3)
    return {
        "probe_id": probe_id,
        "started_at": t,
        "duration_ms": ms,
        "state": "DEGRADED" if bad else "HEALTHY",
        "ok": True,
        "sip_code": 200,
        "sip_reason": "OK",
        "error": None,
        "metrics": {"response_time_ms": ms},
        "breaches": [
            {
                "metric": "response_time_ms",
                "value": ms,
                "warning_threshold": 20.0,
                "critical_threshold": 100.0,
                "level": "warning",
            }
        ]
        if bad
        else [],
        "details": {},
        "agent": "local",
    }


def simulate(path: Path, probes: int, days: int, seed: int = 1) -> dict:
    rng = random.Random(seed)
    db = open_database(f"sqlite:///{path}")
    start = float(int(time.time() // DAY) * DAY - days * DAY)
    retention = RetentionSettings(executions_s=30 * DAY, history_s=400 * DAY)
    with db.session() as s:
        pid = project_id(s)
        rows = [
            new_probe_row(ProbeSpec(name=f"p{i}", kind=KINDS[i % len(KINDS)], target=f"sip:10.0.0.{i}"), pid, start, i)
            for i in range(probes)
        ]
        s.add_all(rows)
        s.flush()
        probe_ids = [(r.id, ProbeKind(r.kind)) for r in rows]
    flappy = set(rng.sample(range(probes), max(1, probes // 5)))  # 1 in 5 probes has a few bad stretches a day
    state = {pid: ("HEALTHY", start) for pid, _ in probe_ids}
    for day in range(days):
        day_start = start + day * DAY
        execs, spans, transitions = [], [], []
        for n, (probe, kind) in enumerate(probe_ids):
            bad_minutes: set[int] = set()
            if n in flappy:
                for _ in range(rng.randint(1, 4)):
                    m = rng.randrange(1440 - 30)
                    bad_minutes.update(range(m, m + rng.randint(2, 30)))
            for minute in range(1440):
                t = day_start + minute * INTERVAL + rng.random()
                bad = minute in bad_minutes
                execs.append(_execution(rng, probe, kind, t, bad))
                now_state = "DEGRADED" if bad else "HEALTHY"
                prev, since = state[probe]
                if now_state != prev:
                    spans.append({"probe_id": probe, "state": prev, "started_at": since, "ended_at": t, "open": False})
                    transitions.append(
                        {
                            "probe_id": probe,
                            "at": t,
                            "previous_state": prev,
                            "current_state": now_state,
                            "execution_id": None,
                            "metrics": execs[-1]["metrics"],
                            "breaches": execs[-1]["breaches"],
                        }
                    )
                    state[probe] = (now_state, t)
        with db.session() as s:
            s.execute(insert(Execution), execs)
            if spans:
                s.execute(insert(HealthSpanRow), spans)
                s.execute(insert(Transition), transitions)
        with db.session() as s:  # the engine's daily maintenance
            rollup_hours(s, now=day_start + DAY + 600)
            prune(s, retention, now=day_start + DAY + 600)
    with db.session() as s:
        s.execute(
            insert(HealthSpanRow),
            [
                {"probe_id": p, "state": st, "started_at": since, "ended_at": start + days * DAY, "open": True}
                for p, (st, since) in state.items()
            ],
        )
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        page = conn.exec_driver_sql("PRAGMA page_size").scalar()
        free = conn.exec_driver_sql("PRAGMA freelist_count").scalar() * page
        by_table = dict(
            conn.exec_driver_sql("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").all()
        )
        counts = {
            t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
            for t in ("execution", "metric_rollup", "health_span", "transition")
        }
    db.close()
    return {"file": path.stat().st_size, "free": free, "by_table": by_table, "counts": counts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--probes", type=int, default=10, help="probes actually simulated (default 10)")
    ap.add_argument("--days", type=int, default=90)
    args = ap.parse_args()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        r = simulate(Path(tmp) / "bench.db", args.probes, args.days)
    elapsed = time.monotonic() - t0
    probe_days = args.probes * args.days
    per_probe_day = r["file"] / probe_days
    total_200 = per_probe_day * TARGET_PROBES * args.days
    kuma_per = KUMA_BYTES / (TARGET_PROBES * 90)
    print(
        f"simulated {args.probes} probes x {args.days} days at {INTERVAL:.0f} s "
        f"({args.probes * args.days * 1440:,} executions written) in {elapsed:.0f} s; "
        f"extrapolated linearly to {TARGET_PROBES} probes"
    )
    print(f"rows kept: {', '.join(f'{k} {v:,}' for k, v in r['counts'].items())}")
    print(f"SQLite file: {r['file'] / 1e6:.1f} MB ({r['free'] / 1e6:.1f} MB free pages reused by later writes)")
    top = ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in list(r["by_table"].items())[:6])
    print(f"largest objects: {top}")
    print(f"bytes per probe-day: {per_probe_day / 1e3:.1f} kB (Uptime Kuma ~{kuma_per / 1e3:.0f} kB)")
    kuma = kuma_per * TARGET_PROBES * args.days
    record(
        "store.bytes_per_probe_day_kb",
        round(per_probe_day / 1e3, 1),
        "kB per probe-day",
        label=(
            f"SQLite size at 60 s, 30 d raw + hourly rollups: {total_200 / 1e9:.2f} GB for {TARGET_PROBES} probes x "
            f"{args.days} days (bench_db_size.py)"
        ),
        peer=round(kuma_per / 1e3, 1),
        peer_name="Uptime Kuma, as its users report (~6 GB per 200 monitors x 90 days)",
        higher_is_better=False,
        note=f"{load_note()}; simulated {args.probes} probes, extrapolated",
    )
    print(
        f"{TARGET_PROBES} probes x {args.days} days: {total_200 / 1e9:.2f} GB "
        f"(Uptime Kuma ~{kuma / 1e9:.1f} GB at the reported 6 GB per 200 monitors x 90 days: "
        f"{kuma / total_200:.1f}x smaller)"
    )


if __name__ == "__main__":
    main()
