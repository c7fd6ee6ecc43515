"""Page weight (issue 16): 50 components with 90 days of mixed history stay within 150 KB as HTML and
10 KB gzip-encoded on the wire, while every day keeps its tooltip (one element per run of equal days)."""

from __future__ import annotations

import gzip
import random

import httpx

from .conftest import DAY, NOW, Seed
from .test_http import bar_runs

COMPONENTS = 50
IDENTITY_MAX = 150_000
GZIP_MAX = 10_000


def mixed_history(rng: random.Random) -> list[tuple[str, float, float]]:
    """Healthy runs of 3-20 days, each ended by 10 minutes to 4 hours degraded or unhealthy."""
    spans, t = [], NOW - 91 * DAY
    while t < NOW:
        end = min(NOW, t + rng.uniform(3, 20) * DAY)
        spans.append(("HEALTHY", t, end))
        if end >= NOW:
            break
        bad = rng.uniform(600, 4 * 3600)
        spans.append((rng.choice(["DEGRADED", "UNHEALTHY"]), end, end + bad))
        t = end + bad
    return spans


async def test_fifty_components_fit_the_weight_budget(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(16)
    ids = [seed.probe(f"p{i}", "HEALTHY", spans=mixed_history(rng)) for i in range(COMPONENTS)]
    seed.page("noc", "NOC", [(pid, f"SIP Trunk {i + 1} (Region {i % 7})") for i, pid in enumerate(ids)])
    srv = await make_server()
    plain = await srv.client.get("/noc", headers={"Accept-Encoding": "identity"})
    async with (
        httpx.AsyncClient(base_url=srv.url) as raw,
        raw.stream("GET", "/noc", headers={"Accept-Encoding": "gzip"}) as resp,
    ):
        wire = b"".join([chunk async for chunk in resp.aiter_raw()])
    assert resp.headers["content-encoding"] == "gzip" and gzip.decompress(wire) == plain.content
    assert len(plain.content) <= IDENTITY_MAX, len(plain.content)
    assert len(wire) <= GZIP_MAX, len(wire)
    bars = bar_runs(plain.text)
    assert len(bars) == COMPONENTS and all(sum(r.days for r in bar) == 90 for bar in bars)
    bad_days = [r.label for bar in bars for r in bar[:-1] if r.classes[0] in ("d", "u")]  # today aside
    assert len(bad_days) >= 5 * COMPONENTS  # the history really is mixed
    assert all(label.endswith("&#10;Healthy the rest") for label in bad_days)
