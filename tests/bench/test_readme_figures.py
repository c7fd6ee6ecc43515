"""README.md's figures table is exactly what bench/readme_table.py writes from bench/results.json.

So a figure in the README is always one a bench script measured (``make bench`` regenerates both).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("readme_table", ROOT / "bench" / "readme_table.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_readme_figures_table_is_generated_from_results_json() -> None:
    rt = _module()
    results = json.loads((ROOT / "bench" / "results.json").read_text())
    assert results["figures"], "bench/results.json holds no figures"
    readme = (ROOT / "README.md").read_text()
    assert rt.render(readme, results) == readme, "README.md's figures table differs: run bench/readme_table.py"


def test_a_changed_figure_or_a_hand_edit_is_caught(tmp_path: Path) -> None:
    rt = _module()
    results = json.loads((ROOT / "bench" / "results.json").read_text())
    readme = (ROOT / "README.md").read_text()
    key = sorted(results["figures"])[0]
    results["figures"][key]["value"] = results["figures"][key]["value"] + 1
    assert rt.render(readme, results) != readme  # a new measurement changes the table
    edited = readme.replace("| what | figure |", "| what | figure (typed) |")
    assert rt.render(edited, json.loads((ROOT / "bench" / "results.json").read_text())) != edited
    with pytest.raises(rt.ReadmeError, match="markers"):
        rt.render(readme.replace(rt.END, ""), results)


def test_check_mode_exits_1_when_readme_is_stale(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, str(ROOT / "bench" / "readme_table.py"), "--check"], cwd=ROOT)
    assert ok.returncode == 0
    rows = {
        "machine": {"cores": 2},
        "figures": {"x": {"label": "a | b", "value": 1234.5, "unit": "ms", "peer": 617.5, "ratio": 2.0}},
    }
    text = _module().table(rows)
    assert "| a \\| b | 1,234.5 ms | 617.5 ms (peer) | 2.00 (higher is better) |" in text
