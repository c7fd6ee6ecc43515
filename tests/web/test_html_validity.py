"""The HTML we publish is valid HTML as the W3C's Nu Html Checker (vnu.jar, from npm) reads it: the
uptime history view and the printable SLA report, with markup-looking operator text in them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from callmeter_tui.commands.report import load_report
from callmeter_tui.web.report import report_html

from .conftest import NOW, Seed
from .test_sla_report import _seed


def nu_errors(jar: Path, files: list[Path]) -> list[str]:
    proc = subprocess.run(
        ["java", "-Xss8m", "-jar", str(jar), "--format", "json", "--exit-zero-always", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    messages = json.loads(proc.stderr or proc.stdout)["messages"]
    return [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']}"
        for m in messages
        if m["type"] == "error" or m.get("subType") == "warning"
    ]


async def test_uptime_history_and_report_are_valid_html(
    seed: Seed, db, make_server, vnu_jar: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _seed(seed, db)
    srv = await make_server()
    history = tmp_path / "uptime.html"
    history.write_bytes((await srv.client.get("/acme/uptime")).content)
    report = tmp_path / "report.html"
    report.write_bytes(report_html(load_report(db, "acme", "2026-10", NOW)))
    assert nu_errors(vnu_jar, [history, report]) == []
