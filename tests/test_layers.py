"""The layer rules, enforced: the import contracts in pyproject (run with lint-imports, shown able to fail), the
domain's stdlib-and-numpy-only rule (an allow-list import-linter cannot express), and the running proof that the
main process never loads pjsua2 while its workers run real probes."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "callmeter_tui"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACTS = (
    "Layers point one way, down",
    "Only tui imports textual",
    "Domain imports stdlib and numpy only",
    "Actions are functions of a session (no actions-monitor cycle)",
    "Only the worker imports pjsua2 (the main process never loads it)",
)


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports on the package under ``root`` (its own pyproject), with ``root`` first on the path."""
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contracts_hold() -> None:
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in CONTRACTS:
        assert f"{name} KEPT" in done.stdout


def test_each_import_contract_can_fail(tmp_path: Path) -> None:
    """A copy of the package with one violation per contract: every contract reports BROKEN."""
    shutil.copytree(PKG, tmp_path / "callmeter_tui", ignore=shutil.ignore_patterns("__pycache__", "*.wav"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "callmeter_tui" / "engine" / "bad_upward.py").write_text("from ..commands import runtime\n")
    (tmp_path / "callmeter_tui" / "web" / "bad_textual.py").write_text("import textual\n")
    (tmp_path / "callmeter_tui" / "domain" / "bad_sql.py").write_text("import sqlalchemy\n")
    (tmp_path / "callmeter_tui" / "probes" / "pool_bad.py").write_text("from . import sip_call\n")
    (tmp_path / "callmeter_tui" / "engine" / "actions.py").open("a").write("\nfrom .monitor import Monitor\n")
    (tmp_path / "callmeter_tui" / "probes" / "pool.py").open("a").write("\nfrom . import pool_bad\n")
    done = _lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    for name in CONTRACTS:
        assert f"{name} BROKEN" in done.stdout, done.stdout


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve to callmeter_tui.<layer>...
                parts = path.relative_to(PKG.parent).with_suffix("").parts[: -node.level]
                found.add(".".join(parts + ((node.module,) if node.module else ())))
            elif node.module:
                found.add(node.module)
    return found


# Pure computation only: numpy (bars). (RRULE parsing with dateutil is config.recurrence: input, not a rule.)
DOMAIN_THIRD_PARTY = {"numpy", "__future__"}


def _domain_offenders(domain: Path) -> list[str]:
    offenders = []
    for p in sorted(domain.rglob("*.py")):
        for mod in _imports(p):
            top = mod.split(".")[0]
            if mod.startswith("callmeter_tui."):
                if not mod.startswith("callmeter_tui.domain"):
                    offenders.append(f"{p.name}: {mod}")
            elif top not in sys.stdlib_module_names and top not in DOMAIN_THIRD_PARTY:
                offenders.append(f"{p.name}: {mod}")
    return offenders


def test_domain_imports_only_stdlib_numpy_and_domain() -> None:
    assert _domain_offenders(PKG / "domain") == []


def test_the_domain_allow_list_sees_a_violation(tmp_path: Path) -> None:
    fake = tmp_path / "domain"
    fake.mkdir()
    (fake / "x.py").write_text("import yaml\nfrom sqlalchemy import select\nimport numpy\nimport json\n")
    assert sorted(_domain_offenders(fake)) == ["x.py: sqlalchemy", "x.py: yaml"]


# --- the running proof: real probes in workers, pjsua2 never in the main process -----------------------

WATCH = """
import json, os, signal, sqlite3, sys, threading, time
db, out, config, preload = sys.argv[1:5]
if preload:
    __import__(preload)

def watch():
    deadline, kinds = time.monotonic() + 60, []
    while time.monotonic() < deadline and len(kinds) < 3:
        try:
            with sqlite3.connect(db) as c:
                kinds = [k for (k,) in c.execute(
                    "select distinct p.kind from execution e join probe p on p.id = e.probe_id"
                    " where e.state = 'HEALTHY'")]
        except sqlite3.Error:
            pass
        time.sleep(0.2)
    with open(out, "w") as f:
        json.dump({"healthy_kinds": sorted(kinds), "pjsua2_in_main": "pjsua2" in sys.modules}, f)
    os.kill(os.getpid(), signal.SIGTERM)

threading.Thread(target=watch, daemon=True).start()
from callmeter_tui.cli import main
sys.exit(main(["serve", "--config", config]))
"""


def _serve_and_look(tmp_path: Path, target_port: int, preload: str = "") -> dict[str, object]:
    db = tmp_path / "node.db"
    config = tmp_path / "node.toml"
    config.write_text(
        f'[project]\nname = "Layers"\n[database]\nurl = "sqlite:///{db}"\n'
        '[web]\nenabled = true\nhost = "127.0.0.1"\nport = 0\n[engine]\nsip_bind = "127.0.0.1"\n'
        f'[[probes]]\nname = "o"\nkind = "sip_options"\ntarget = "sip:127.0.0.1:{target_port}"\ninterval = "2s"\n'
        f'[[probes]]\nname = "r"\nkind = "sip_register"\ntarget = "sip:demo@127.0.0.1:{target_port}"\n'
        'interval = "2s"\nauth = { username = "demo", password_env = "LAYERS_PW" }\n'
        f'[[probes]]\nname = "c"\nkind = "sip_call"\ntarget = "sip:echo@127.0.0.1:{target_port}"\n'
        'interval = "5s"\ncall_duration = "2s"\n'
    )
    script = tmp_path / "watch.py"
    script.write_text(WATCH)
    out = tmp_path / "seen.json"
    env = dict(os.environ, LAYERS_PW="demo")
    done = subprocess.run(
        [sys.executable, str(script), str(db), str(out), str(config), preload],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.exists(), done.stdout + done.stderr
    return json.loads(out.read_text())


@pytest.mark.slow
def test_serve_runs_real_probes_and_the_main_process_never_loads_pjsua2(tmp_path: Path, make_demo_target) -> None:
    target = make_demo_target()
    seen = _serve_and_look(tmp_path, target.port)
    assert seen["healthy_kinds"] == ["sip_call", "sip_options", "sip_register"]
    assert seen["pjsua2_in_main"] is False


@pytest.mark.slow
def test_the_pjsua2_check_sees_a_main_process_import(tmp_path: Path, make_demo_target) -> None:
    target = make_demo_target()
    seen = _serve_and_look(tmp_path, target.port, preload="pjsua2")
    assert seen["pjsua2_in_main"] is True
