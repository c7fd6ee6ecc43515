"""The layer rule: only tui/ imports textual; domain/ imports only stdlib, numpy and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "callmeter_tui"
LAYERS = ("domain", "probes", "store", "engine", "webhooks", "web", "tui", "config")


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


def _modules(layer: str) -> list[Path]:
    return sorted((PKG / layer).rglob("*.py"))


def test_every_layer_exists() -> None:
    for layer in LAYERS:
        assert _modules(layer), f"layer {layer}/ has no modules"


def test_only_tui_imports_textual() -> None:
    offenders = [
        str(p.relative_to(PKG))
        for p in PKG.rglob("*.py")
        if "tui" not in p.relative_to(PKG).parts[:1]
        and any(m == "textual" or m.startswith("textual.") for m in _imports(p))
    ]
    assert offenders == []


def test_domain_imports_only_stdlib_numpy_and_domain() -> None:
    allowed_third_party = {"numpy"}
    offenders = []
    for p in _modules("domain"):
        for mod in _imports(p):
            top = mod.split(".")[0]
            if mod.startswith("callmeter_tui."):
                if not mod.startswith("callmeter_tui.domain"):
                    offenders.append(f"{p.name}: {mod}")
            elif top not in sys.stdlib_module_names and top not in allowed_third_party and top != "__future__":
                offenders.append(f"{p.name}: {mod}")
    assert offenders == []


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    """Guard against a rule that cannot fail: a fake module importing textual is caught."""
    fake = tmp_path / "x.py"
    fake.write_text("import textual\nfrom sqlalchemy import select\n")
    assert {"textual", "sqlalchemy"} <= _imports(fake)
