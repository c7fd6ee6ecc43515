"""``callmeter-tui report`` as a user runs it (real processes, a real SQLite file, Debian's Chromium for
PDF): every format carries the same figures, operator text is shown as text, bad input is one line and
exit 2, a bad ``sla_target`` is refused by ``check`` naming the key."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from callmeter_tui.config import load_config
from callmeter_tui.store.database import open_database
from callmeter_tui.store.models import HealthSpanRow, Probe
from callmeter_tui.store.sync import sync_config

from ..fixtures import peer_missing

CLI = [sys.executable, "-m", "callmeter_tui.cli"]
OCT = datetime(2026, 10, 1, tzinfo=UTC).timestamp()
DAY = 86400.0
NAME = 'Trunk <b>EU</b> & "Co"'

CONFIG = """
[database]
url = "sqlite:///{db}"
[web]
enabled = false
[[probes]]
name = "trunk"
kind = "sip_options"
target = "sip:127.0.0.1:9"
[[probes]]
name = "ivr"
kind = "sip_options"
target = "sip:127.0.0.1:9"
[[status_pages]]
slug = "acme"
name = "Acme <i>VoIP</i>"
components = [{{ probe = "trunk", name = '{name}', sla_target = 99.9 }}, {{ probe = "ivr", name = "IVR" }}]
"""


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(db=tmp_path / "cm.db", name=NAME))
    config, _ = load_config(path)
    db = open_database(config.database_url)
    try:
        with db.session() as s:
            sync_config(s, config)
            ids = {p.name: p.id for p in s.query(Probe).all()}
            # October (UTC): trunk healthy but for one unhealthy hour on the 10th, no data after the 30th.
            for state, a, b in (
                ("HEALTHY", OCT - DAY, OCT + 9 * DAY),
                ("UNHEALTHY", OCT + 9 * DAY, OCT + 9 * DAY + 3600),
                ("HEALTHY", OCT + 9 * DAY + 3600, OCT + 30 * DAY),
            ):
                s.add(HealthSpanRow(probe_id=ids["trunk"], state=state, started_at=a, ended_at=b, open=False))
            s.add(HealthSpanRow(probe_id=ids["ivr"], state="HEALTHY", started_at=OCT, ended_at=OCT + 31 * DAY))
    finally:
        db.close()
    return path


def run(*args: str, timeout: float = 120, **extra_env: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "CALLMETER_DATABASE_URL"} | extra_env
    return subprocess.run([*CLI, *args], capture_output=True, timeout=timeout, env=env, check=False)


def test_json_csv_text_agree_and_names_stay_text(cfg: Path) -> None:
    base = ("report", "--config", str(cfg), "--page", "acme", "--month", "2026-10")
    r = run(*base, "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    trunk, ivr = doc["components"]
    assert trunk["name"] == NAME and doc["page"]["name"] == "Acme <i>VoIP</i>"
    assert (trunk["unhealthy_s"], trunk["no_data_s"], trunk["incidents"]) == (3600.0, DAY, 1)
    assert trunk["healthy_s"] == 30 * DAY - 3600
    assert (trunk["uptime_pct"], trunk["sla_target_pct"], trunk["verdict"]) == ("99.86", 99.9, "fail")
    assert (ivr["uptime_pct"], ivr["verdict"]) == ("100.00", "no target")
    assert doc["start"] == "2026-10-01T00:00:00Z" and doc["end"] == "2026-11-01T00:00:00Z"

    rows = list(csv.DictReader(io.StringIO(run(*base, "--format", "csv").stdout.decode())))
    assert [(row["component"], row["uptime_pct"], row["verdict"]) for row in rows] == [
        (NAME, "99.86", "fail"),
        ("IVR", "100.00", "no target"),
    ]
    assert float(rows[0]["unhealthy_s"]) == 3600.0

    text = run(*base).stdout.decode()
    assert f"{NAME}: uptime 99.86%, target 99.9%: FAIL" in text and "Overall: FAIL (at least one" in text
    assert doc["verdict"] == "fail"
    assert "no executions kept for this month" in text and trunk["metrics_seen_s"] == 0


def test_html_is_printable_and_escapes_operator_text(cfg: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    r = run("report", "--config", str(cfg), "--page", "acme", "--month", "2026-10", "--format", "html", "-o", str(out))
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    assert "<b>EU</b>" not in html and "<i>VoIP</i>" not in html
    assert "Trunk &lt;b&gt;EU&lt;/b&gt; &amp; &#34;Co&#34;" in html and "Acme &lt;i&gt;VoIP&lt;/i&gt;" in html
    assert "@media print" in html and "@page" in html and "99.86%" in html


@pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="Debian's chromium is not installed")
def test_pdf_is_a_real_pdf_naming_the_components(cfg: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.pdf"
    r = run("report", "--config", str(cfg), "--page", "acme", "--month", "2026-10", "--format", "pdf", "-o", str(out))
    assert r.returncode == 0, r.stderr
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and b"%%EOF" in data[-64:]
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        peer_missing("pdftotext (poppler-utils, scripts/install-peers.sh) is missing")
    text = subprocess.run([pdftotext, "-layout", str(out), "-"], capture_output=True, check=True).stdout.decode()
    assert 'Trunk <b>EU</b> & "Co"' in text and "IVR" in text  # the names as text, markup not interpreted
    assert "99.86%" in text and "FAIL" in text and "Acme <i>VoIP</i>" in text


def test_pdf_without_chromium_is_one_line_exit_1_and_writes_nothing(cfg: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.pdf"
    args = ("report", "--config", str(cfg), "--page", "acme", "--month", "2026-10", "--format", "pdf", "-o", str(out))
    r = run(*args, CALLMETER_CHROMIUM=str(tmp_path / "no-such-browser"))
    lines = r.stderr.decode().strip().splitlines()
    assert r.returncode == 1 and len(lines) == 1 and lines[0].startswith("report: pdf: Chromium not found"), r.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--page", "nope", "--month", "2026-10"), "report: --page: no status page 'nope' (pages: 'acme')"),
        (
            ("--page", "acme", "--month", "2026-10", "--component", "Nope"),
            "report: --component: no component 'Nope' on page 'acme'",
        ),
        (("--page", "acme", "--month", "2026-13"), "report: --month: expected a month like '2026-10'"),
        (("--page", "acme", "--month", "2999-01"), "report: --month: month 2999-01 has not started yet"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cfg: Path, args: tuple[str, ...], expected: str) -> None:
    r = run("report", "--config", str(cfg), *args)
    lines = r.stderr.decode().strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith(expected), r.stderr
    assert r.stdout == b""


@pytest.mark.parametrize("value", ["0", "100.5", '"high"', "true"])
def test_check_refuses_a_bad_sla_target_naming_the_key(tmp_path: Path, value: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        CONFIG.format(db=tmp_path / "cm.db", name="T").replace("sla_target = 99.9", f"sla_target = {value}")
    )
    r = run("check", "--config", str(path))
    assert r.returncode == 2
    assert "status_pages[0].components[0].sla_target" in r.stderr.decode(), r.stderr
