"""``serve`` exit codes as systemd sees them: 2 for a configuration problem found at start (the unit's
RestartPreventExitStatus stops a restart loop), 1 for a runtime one, each with one line naming the key.
Real ``serve`` processes (issue 12 #6)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "callmeter_tui.cli"]


def _serve(tmp_path: Path, body: str, timeout: float = 40.0) -> tuple[int, list[str]]:
    cfg = tmp_path / "serve.toml"
    cfg.write_text(
        '[[probes]]\nname = "p"\nkind = "sip_options"\ntarget = "sip:127.0.0.1:9"\ninterval = "60s"\n' + body
    )
    env = {k: v for k, v in os.environ.items() if k != "CALLMETER_DATABASE_URL"}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    try:
        r = subprocess.run(
            [*CLI, "serve", "--config", str(cfg)], capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired as e:  # still serving: the problem was taken for a warning
        raise AssertionError(f"serve kept running: {(e.stdout or b'')[-2000:]!r}") from None
    lines = [line for line in (r.stdout + r.stderr).splitlines() if " ERROR " in line or line.startswith("database")]
    return r.returncode, lines


def _db(path: Path | str) -> str:
    return f'[database]\nurl = "sqlite:///{path}"\n[web]\nenabled = false\n'


def _cfg(tmp_path: Path, body: str) -> Path:
    cfg = tmp_path / "serve.toml"
    cfg.write_text(body)
    return cfg


def test_non_pem_ca_bundle_exits_2_naming_the_key(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate\n")
    r = subprocess.run(
        [*CLI, "serve", "--config", str(_cfg(tmp_path, f'[webhooks]\nca_bundle = "{bundle}"\n'))],
        capture_output=True,
        text=True,
        timeout=40,
        check=False,
    )
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.startswith("serve.toml: webhooks.ca_bundle: cannot load") and len(r.stderr.splitlines()) == 1


def test_database_path_that_is_a_directory_exits_2(tmp_path: Path) -> None:
    (tmp_path / "db.sqlite").mkdir()
    code, lines = _serve(tmp_path, _db(tmp_path / "db.sqlite"))
    assert code == 2 and len(lines) == 1 and "database.url: cannot use" in lines[0], lines
    assert "is a directory" in lines[0]


def test_database_path_that_cannot_be_created_exits_2(tmp_path: Path) -> None:
    (tmp_path / "plain-file").write_text("")
    code, lines = _serve(tmp_path, _db(tmp_path / "plain-file" / "x.db"))  # root writes anywhere: a file as parent
    assert code == 2 and len(lines) == 1 and "database.url: cannot use" in lines[0], lines


def test_malformed_database_url_exits_2_and_unreachable_postgresql_exits_1(tmp_path: Path) -> None:
    code, lines = _serve(
        tmp_path, '[database]\nurl = "postgresql://u:p@127.0.0.1:notaport/db"\n[web]\nenabled = false\n'
    )
    assert code == 2 and len(lines) == 1 and "database.url" in lines[0], lines
    with socket.socket() as s:  # a port nobody listens on: the server is down, a later restart may succeed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, lines = _serve(
        tmp_path, f'[database]\nurl = "postgresql://u:p@127.0.0.1:{port}/db"\n[web]\nenabled = false\n'
    )
    assert code == 1 and len(lines) == 1 and "database.url: cannot open" in lines[0], lines
    assert "u:p@" not in lines[0]  # the password stays hidden


def test_web_port_in_use_is_an_error_exit_2_naming_web_port(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        body = f'[database]\nurl = "sqlite:///{tmp_path / "x.db"}"\n[web]\nhost = "127.0.0.1"\nport = {port}\n'
        code, lines = _serve(tmp_path, body)
    assert code == 2 and len(lines) == 1, lines
    assert f"fatal: web.port: cannot listen on 127.0.0.1:{port}: " in lines[0]


@pytest.mark.parametrize("unit", ["contrib/callmeter-tui.service"])
def test_the_unit_does_not_restart_on_exit_2(unit: str) -> None:
    text = (Path(__file__).resolve().parents[2] / unit).read_text()
    assert "RestartPreventExitStatus=2" in text.splitlines()


def test_postgresql_up_but_database_missing_exits_2(tmp_path: Path, postgres_url: str) -> None:
    """The server answers that the database does not exist: no restart will change that."""
    url = postgres_url.rsplit("/", 1)[0] + "/callmeter_no_such_database"
    code, lines = _serve(tmp_path, f'[database]\nurl = "{url}"\n[web]\nenabled = false\n')
    assert code == 2 and len(lines) == 1 and "does not exist" in lines[0], lines
