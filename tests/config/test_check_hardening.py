"""`check` against hostile or odd configs: control characters in names, a UTF-8 BOM, non-ASCII port digits,
webhook URLs to internal IP literals. Each answered by one line naming the key, via the real CLI too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from callmeter_tui.config import ConfigError, parse_config
from callmeter_tui.config.validate import validate_page_fields, validate_probe_fields

CLI = [sys.executable, "-m", "callmeter_tui.cli"]

BASE = """
[project]
name = "{project}"
[[probes]]
name = "{probe}"
kind = "sip_options"
target = "{target}"
interval = "60s"
group = "{group}"
webhooks = [ {{ url = "{url}" }} ]
[[status_pages]]
slug = "voip"
name = "{page}"
components = [ {{ probe = "{probe}", name = "{component}" }} ]
"""
OK = {
    "project": "Prod",
    "probe": "PBX",
    "target": "sip:pbx.example.com:5060",
    "group": "core",
    "url": "https://hooks.example.com/x",
    "page": "VoIP",
    "component": "Trunk",
}


def config(**kw: str) -> str:
    return BASE.format(**(OK | kw))


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse_config(text, label="c.toml", env={})
    return e.value.lines


@pytest.mark.parametrize(
    "key, value, path",
    [
        ("probe", "PBX\\u001b[31m", "probes[0].name"),
        ("probe", "PBX\\nforged log line", "probes[0].name"),
        ("group", "co\\u0085re", "probes[0].group"),
        ("page", "Vo\\u0000IP", "status_pages[0].name"),
        ("component", "Tr\\u007funk", "status_pages[0].components[0].name"),
        ("project", "Pr\\u009bod", "project.name"),
    ],
)
def test_control_characters_in_names_are_refused(key: str, value: str, path: str) -> None:
    lines = problems(config(**{key: value}))
    assert any(line.startswith(f"c.toml: {path}: must not contain control characters (found U+") for line in lines), (
        lines
    )


def test_forms_refuse_control_characters_with_the_same_rule() -> None:
    fields = {"name": "p\x1b]0;owned\x07", "kind": "sip_options", "target": "sip:127.0.0.1:5060", "interval": "30s"}
    spec, errors = validate_probe_fields(fields)
    assert spec is None and errors["name"].startswith("must not contain control characters (found U+001B)")
    page, errors = validate_page_fields({"slug": "ok", "name": "N\x85o"}, [("p", "C\x0bd")], {"p"})
    assert page is None and errors["name"] == "must not contain control characters (found U+0085)"
    assert errors["components[0].name"] == "must not contain control characters (found U+000B)"
    ok, errors = validate_probe_fields(fields | {"name": "Ünïcode – fine 🙂"})
    assert errors == {} and ok is not None


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    f = tmp_path / "bom.toml"
    f.write_bytes(b"\xef\xbb\xbf" + config().encode())
    r = subprocess.run([*CLI, "check", "--config", str(f)], capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    assert parse_config("\ufeff" + config(), env={})[0].project_name == "Prod"


@pytest.mark.parametrize("port", ["５０６０", "²", "٥٠٦٠"])
def test_non_ascii_port_digits_get_a_clear_message(port: str) -> None:
    lines = problems(config(target=f"sip:pbx.example.com:{port}"))
    assert lines == [
        f"c.toml: probes[0].target: SIP URI 'sip:pbx.example.com:{port}' has an invalid port '{port}' "
        "(ASCII digits, 1-65535)"
    ]


@pytest.mark.parametrize(
    "url, reason",
    [
        ("https://127.0.0.1/hook", "127.0.0.1 is a loopback address"),
        ("https://10.1.2.3/hook", "10.1.2.3 is a private address"),
        ("https://[::1]:8443/hook", "::1 is a loopback address"),
        ("https://169.254.169.254/latest", "169.254.169.254 is a link-local address"),
        ("https://localhost/hook", "localhost is a loopback name"),
    ],
)
def test_webhook_urls_to_internal_literals_warn_at_check(tmp_path: Path, url: str, reason: str) -> None:
    _cfg, warnings = parse_config(config(url=url), label="c.toml", env={})
    assert len(warnings) == 1 and warnings[0].startswith(f"c.toml: probes[0].webhooks[0].url: warning: {reason}")
    assert "allow_private_targets = false" in warnings[0]
    allowed = config(url=url) + "\n[webhooks]\nallow_private_targets = true\n"
    assert parse_config(allowed, env={})[1] == []
    assert parse_config(config(url="https://93.184.215.14/hook"), env={})[1] == []
    f = tmp_path / "c.toml"
    f.write_text(config(url=url))
    r = subprocess.run([*CLI, "check", "--config", str(f)], capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0 and reason in r.stderr + r.stdout


TINY_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><rect width="4" height="4"/></svg>'


@pytest.mark.parametrize(
    "content, message",
    [
        (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "b">]><svg xmlns="http://www.w3.org/2000/svg"/>', "DOCTYPE"),
        (b"<html><body><svg></svg><p>an HTML page</p></body></html>", "root element is not <svg>"),
        (None, "larger than the 1 MiB limit"),
    ],
    ids=["svg-doctype", "html-named-png", "50MB"],
)
def test_check_validates_the_logo_with_the_page_loader(tmp_path: Path, content: bytes | None, message: str) -> None:
    logo = tmp_path / "logo.png"
    if content is None:
        with logo.open("wb") as f:
            f.truncate(50 * 1024 * 1024)  # sparse: stat'ed, never read
    else:
        logo.write_bytes(content)
    f = tmp_path / "c.toml"
    f.write_text(config().replace('name = "VoIP"', 'name = "VoIP"\nlogo = "logo.png"'))
    r = subprocess.run([*CLI, "check", "--config", str(f)], capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2
    [line] = r.stderr.splitlines()
    assert line.startswith("c.toml: status_pages[0].logo: ") and message in line


def test_a_logo_file_is_read_once_while_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from callmeter_tui.config import logo as logo_mod

    reads: list[Path] = []
    real_open = Path.open

    def counting_open(self: Path, mode: str = "r", *a, **kw):  # type: ignore[no-untyped-def]
        if "r" in mode:
            reads.append(self)
        return real_open(self, mode, *a, **kw)

    monkeypatch.setattr(Path, "open", counting_open)
    f = tmp_path / "logo.svg"
    f.write_bytes(TINY_SVG)
    first = logo_mod.load_logo(f)
    assert [logo_mod.load_logo(f) for _ in range(5)] == [first] * 5
    assert reads == [f]
    f.write_bytes(TINY_SVG.replace(b'width="4"', b'width="3"'))  # size changes: read again
    assert logo_mod.load_logo(f) != first and reads == [f, f]
