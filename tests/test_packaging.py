"""The wheel is the product: built from the checkout, installed into a fresh venv outside it, it serves the status
page with its stylesheet and the dashboard loads its styles (both read with importlib.resources).

No network: the fresh venv gets only our wheel (``--no-deps``); the dependencies come from this test venv's
site-packages through a ``.pth`` line (a plain path, so this venv's editable install of the checkout is not seen).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import sysconfig
import time
import tomllib
from pathlib import Path

import httpx
import pytest
import setuptools

ROOT = Path(__file__).resolve().parent.parent


# One worker builds the wheel once for both tests: two `pip wheel` runs of the same checkout at once race on
# its build/ and egg-info directories ("No such file or directory" in install_egg_info).
pytestmark = pytest.mark.xdist_group("packaging")


def test_the_listed_packages_are_the_source_tree() -> None:
    """pyproject lists the packages (so styles/ can be mapped in): none missing, none stale."""
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    found = setuptools.find_packages(str(ROOT), include=["callmeter_tui*"])
    assert sorted(listed) == sorted([*found, "callmeter_tui.styles"])


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv outside the checkout with the wheel installed; returns its python."""
    base = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(base / "dist"), str(ROOT)],
        check=True,
        timeout=300,
        cwd=base,
    )
    (wheel,) = (base / "dist").glob("callmeter_tui-*.whl")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(base / "venv")], check=True, timeout=120)
    python = base / "venv" / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "zz_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", site, str(wheel)],
        check=True,
        timeout=300,
    )
    return python


def _run(python: Path, code: str, cwd: Path) -> str:
    done = subprocess.run([str(python), "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.slow
def test_the_installed_wheel_is_not_the_checkout_and_the_tui_css_loads(installed: Path, tmp_path: Path) -> None:
    where = _run(installed, "import callmeter_tui; print(callmeter_tui.__file__)", tmp_path)
    assert not where.startswith(str(ROOT)), where
    checked = _run(
        installed,
        "from pathlib import Path\n"
        "from textual.css.stylesheet import Stylesheet\n"
        "from callmeter_tui.tui.app import CallMeterApp\n"
        "path = Path(CallMeterApp.CSS_PATH)\n"
        "from textual.app import App\n"
        "sheet = Stylesheet(variables=App().get_css_variables())\n"
        "sheet.read(path)\n"
        "sheet.parse()\n"
        "print(path, len(sheet.rules))\n",
        tmp_path,
    )
    path, rules = checked.rsplit(" ", 1)
    assert not path.startswith(str(ROOT)) and path.endswith("callmeter_tui/styles/app.tcss")
    assert int(rules) > 10


@pytest.mark.slow
def test_the_installed_wheel_serves_the_page_with_its_stylesheet(installed: Path, tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text(
        f'[project]\nname = "Wheel"\n[database]\nurl = "sqlite:///{tmp_path / "node.db"}"\n'
        '[web]\nenabled = true\nhost = "127.0.0.1"\nport = 0\n[engine]\nsip_bind = "127.0.0.1"\n'
        '[[probes]]\nname = "edge"\nkind = "sip_options"\ntarget = "sip:127.0.0.1:9"\ninterval = "1h"\n'
        '[[status_pages]]\nslug = "status"\nname = "Wheel Status"\ncomponents = [ { probe = "edge" } ]\n'
    )
    serve = installed.parent / "callmeter-tui"
    argv = [str(serve)] if serve.exists() else [str(installed), "-m", "callmeter_tui.cli"]
    proc = subprocess.Popen(
        [*argv, "serve", "--config", str(config), "--log-format", "json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    try:
        url = _page_url(proc)
        html = httpx.get(url, timeout=10).text
        href = re.search(r'<link rel="stylesheet" href="(/static/page\.css\?v=\w+)">', html)
        assert href, html[:500]
        origin = re.match(r"http://[^/]+", url)
        assert origin, url
        css = httpx.get(origin.group(0) + href.group(1), timeout=10)
        assert css.status_code == 200 and css.content == (ROOT / "styles" / "page.css").read_bytes()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def _page_url(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        found = re.search(r"status pages at (http://[^\"\s\\]+)", line)
        if found:
            return found.group(1)
    raise AssertionError("serve did not report its status page:\n" + "".join(seen))
