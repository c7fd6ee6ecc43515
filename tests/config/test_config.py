"""Config file: every problem reported at once, one line each, naming the file and the key path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from callmeter_tui.config import ConfigError, load_config, parse_config
from callmeter_tui.config.validate import validate_page_fields, validate_probe_fields, validate_webhook_url
from callmeter_tui.domain.probe import ProbeKind

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "callmeter_tui.cli"]

GOOD = """
[project]
name = "Production Environment"
[[probes]]
name = "Production PBX Health"
kind = "sip_call"
target = "sip:echo@pbx.example.com:5060"
interval = "60s"
thresholds = { mos = { warning = 3.5, critical = 2.5 } }
webhooks = [ { url = "https://hooks.example.com/x", format = "slack" } ]
[[status_pages]]
slug = "voip"
name = "VoIP"
components = [ { probe = "Production PBX Health", name = "Primary SIP Trunk (US East)" } ]
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse_config(text, label="config.toml", env={})
    return e.value.lines


def test_good_config_reads_into_specs() -> None:
    cfg, warnings = parse_config(GOOD, env={})
    assert cfg.project_name == "Production Environment"
    (p,) = cfg.probes
    assert p.kind is ProbeKind.SIP_CALL and p.interval_s == 60.0 and p.thresholds["mos"].warning == 3.5
    assert p.webhooks[0].format.value == "slack"
    assert cfg.status_pages[0].components[0].name == "Primary SIP Trunk (US East)"
    assert warnings == []


def test_threshold_direction_error_names_file_and_key() -> None:
    bad = GOOD.replace("warning = 3.5, critical = 2.5", "warning = 2.0, critical = 2.5")
    assert problems(bad) == [
        "config.toml: probes[0].thresholds.mos: warning (2.0) must be above critical (2.5) for a metric where lower is worse"
    ]


def test_every_problem_is_reported_at_once() -> None:
    bad = (
        GOOD.replace('interval = "60s"', 'interval = "60 seconds"\ntypo_key = 1')
        .replace("https://hooks.example.com/x", "http://hooks.example.com/x")
        .replace('slug = "voip"', 'slug = "VoIP!"')
    )
    lines = problems(bad)
    assert any(line.startswith("config.toml: probes[0].interval: expected a duration") for line in lines)
    assert "config.toml: probes[0].typo_key: unknown key (check the spelling; see config.example.toml)" in lines
    assert any(
        line.startswith("config.toml: probes[0].webhooks[0].url: HTTP webhook URLs are refused") for line in lines
    )
    assert any(line.startswith("config.toml: status_pages[0].slug:") for line in lines)
    assert len(lines) == 4


def test_toml_syntax_error_reports_line_and_column() -> None:
    (line,) = problems('[project]\nname = "x\n')
    assert line.startswith("config.toml: TOML syntax error: line 2, column")


@pytest.mark.parametrize(
    "snippet,key",
    [
        ('target = "pbx.example.com"', "probes[0].target"),
        ('target = "sip:pbx.example.com:70000"', "probes[0].target"),
        ('target = "sip:pbx;transport=sctp"', "probes[0].target"),
        ('kind = "sip_ping"', "probes[0].kind"),
        ('auth = { username = "a", password = "hunter2" }', "probes[0].auth.password"),
        ('codec = "G729"', "probes[0].codec"),
        ("expect_codes = [200, 99]", "probes[0].expect_codes"),
        ('timeout = "0s"', "probes[0].timeout"),
    ],
)
def test_bad_probe_fields_name_the_key(snippet: str, key: str) -> None:
    field = snippet.split(" = ")[0]
    text = "\n".join(line for line in GOOD.splitlines() if not line.startswith(field + " ="))
    text = text.replace('interval = "60s"', f'interval = "60s"\n{snippet}')
    lines = problems(text)
    assert any(line.startswith(f"config.toml: {key}:") for line in lines), lines


def test_component_must_name_an_existing_probe_and_slugs_are_unique() -> None:
    text = GOOD + '\n[[status_pages]]\nslug = "voip"\nname = "Again"\ncomponents = [{ probe = "Nope" }]\n'
    lines = problems(text)
    assert "config.toml: status_pages[1].components[0].probe: no probe named 'Nope'" in lines
    assert "config.toml: status_pages[1].slug: duplicate slug 'voip' (also status_pages[0])" in lines


def test_database_url_env_wins() -> None:
    cfg, _ = parse_config(
        GOOD + '\n[database]\nurl = "sqlite:///a.db"\n', env={"CALLMETER_DATABASE_URL": "sqlite:///b.db"}
    )
    assert cfg.database_url == "sqlite:///b.db"


def test_missing_secret_env_is_a_warning_not_an_error() -> None:
    text = GOOD.replace('interval = "60s"', 'interval = "60s"\nauth = { username = "u", password_env = "PBX_PW" }')
    cfg, warnings = parse_config(text, env={})
    assert cfg.probes[0].password_env == "PBX_PW"
    assert warnings == ["config.toml: probes[0]: warning: environment variable PBX_PW is not set"]


def test_example_and_demo_configs_are_valid() -> None:
    cfg, _ = load_config(REPO / "config.example.toml", env={})
    assert len(cfg.probes) == 3 and cfg.status_pages[0].timezone == "America/New_York"
    demo, _ = load_config(None, env={"CALLMETER_DEMO_PASSWORD": "demo"})
    assert demo.demo and {p.kind for p in demo.probes} == set(ProbeKind)


def test_form_validation_uses_the_same_rules() -> None:
    spec, errors = validate_probe_fields(
        {
            "name": "p",
            "kind": "sip_options",
            "target": "sip:127.0.0.1:5060",
            "interval": "30s",
            "thresholds.response_time_ms.warning": "200",
            "thresholds.response_time_ms.critical": "100",
        }
    )
    assert spec is None
    assert errors == {
        "thresholds.response_time_ms": "warning (200.0) must be below critical (100.0) for a metric where higher is worse"
    }
    spec, errors = validate_probe_fields(
        {"name": "p", "kind": "sip_options", "target": "sip:127.0.0.1:5060", "interval": "30s"}
    )
    assert errors == {} and spec is not None and spec.interval_s == 30
    _, errors = validate_probe_fields({"name": "", "kind": "sip_register", "target": "nope", "interval": "x"})
    assert set(errors) >= {"name", "target", "interval"}
    page, errors = validate_page_fields({"slug": "ok", "name": "N", "accent_color": "#12345"}, [("p", "")], {"p"})
    assert page is None and "accent_color" in errors
    assert validate_webhook_url("http://x.example") and validate_webhook_url("https://x.example/h") is None


def test_check_command_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(GOOD)
    r = subprocess.run([*CLI, "check", "--config", str(good)], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "OK (1 probes, 1 status pages)" in r.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(
        GOOD.replace("warning = 3.5, critical = 2.5", "warning = 2.0, critical = 2.5").replace('"60s"', "60")
    )
    r = subprocess.run([*CLI, "check", "--config", str(bad)], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        "bad.toml: probes[0].interval: expected a duration with a unit like '60s' (ms, s, m, h, d), got a bare number",
        "bad.toml: probes[0].thresholds.mos: warning (2.0) must be above critical (2.5) for a metric where lower is worse",
    ]
    r = subprocess.run([*CLI, "check", "--config", str(tmp_path / "missing.toml")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.strip().endswith("missing.toml: file not found")


def test_version_and_help() -> None:
    r = subprocess.run([*CLI, "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("callmeter-tui ")
    for cmd in ("run", "serve", "check", "probe", "webhooks"):
        r = subprocess.run([*CLI, cmd, "--help"], capture_output=True, text=True)
        assert r.returncode == 0 and "--config" in r.stdout, cmd


def test_dashboard_keys_are_checked_against_the_dashboard_actions(tmp_path: Path) -> None:
    cfg = tmp_path / "k.toml"
    cfg.write_text(GOOD + '\n[dashboard]\ntheme = "light"\nkeys = { run_now = "R", fly = "f" }\n')
    r = subprocess.run([*CLI, "check", "--config", str(cfg)], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.startswith("k.toml: dashboard.keys.fly: unknown action (known: ")
    good, _ = parse_config(GOOD + '\n[dashboard]\ntheme = "light"\nkeys = { run_now = "R" }\n', env={})
    assert good.dashboard.theme == "light" and good.dashboard.keys == {"run_now": "R"}
    assert problems(GOOD + '\n[dashboard]\ntheme = "pink"\n') == [
        "config.toml: dashboard.theme: must be one of dark, light, high-contrast, got 'pink'"
    ]


@pytest.mark.parametrize(
    ("keys", "line"),
    [
        (
            'quit_app = "x"',
            "k.toml: dashboard.keys.quit_app: key 'x' is also bound to delete_probe: give one of them another key",
        ),
        (
            'run_now = "z", pause = "z"',
            "k.toml: dashboard.keys.run_now: key 'z' is also bound to pause: give one of them another key",
        ),
        ('help = "k"', "k.toml: dashboard.keys.help: key 'k' is already the dashboard's cursor up key"),
    ],
)
def test_colliding_key_remaps_fail_check_naming_the_key(tmp_path: Path, keys: str, line: str) -> None:
    cfg = tmp_path / "k.toml"
    cfg.write_text(GOOD + f"\n[dashboard]\nkeys = {{ {keys} }}\n")
    r = subprocess.run([*CLI, "check", "--config", str(cfg)], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.splitlines()[0] == line, r.stderr
    cfg.write_text(GOOD + '\n[dashboard]\nkeys = { quit_app = "x", delete_probe = "delete" }\n')  # a swap is fine
    assert subprocess.run([*CLI, "check", "--config", str(cfg)], capture_output=True, text=True).returncode == 0


def test_thresholds_outside_the_metric_scale_and_a_timeout_past_the_interval_are_errors() -> None:
    text = GOOD.replace('interval = "60s"', 'interval = "60s"\ntimeout = "90s"').replace(
        "mos = { warning = 3.5, critical = 2.5 }",
        "mos = { warning = 9, critical = 2.5 }, packet_loss_pct = { critical = 140 }",
    )
    assert problems(text) == [
        "config.toml: probes[0].thresholds.mos.warning: must be between 1 and 5 (MOS), got 9",
        "config.toml: probes[0].thresholds.packet_loss_pct.critical: must be between 0 and 100 (Loss in %), got 140",
        "config.toml: probes[0].timeout: must not be longer than the interval (1m), got 90s",
    ]
    fields = {
        "name": "P",
        "kind": "sip_call",
        "target": "sip:echo@pbx.example.com",
        "interval": "30s",
        "timeout": "45s",
    }
    _spec, errors = validate_probe_fields(fields | {"thresholds.mos.critical": "0.5"})  # the forms' validator
    assert errors == {
        "thresholds.mos.critical": "must be between 1 and 5 (MOS), got 0.5",
        "timeout": "must not be longer than the interval (30s), got 45s",
    }


def test_a_short_interval_without_a_timeout_gets_a_timeout_that_fits() -> None:
    cfg, _ = parse_config(GOOD.replace('interval = "60s"', 'interval = "5s"'), env={})
    assert cfg.probes[0].interval_s == 5.0 and cfg.probes[0].timeout_s == 5.0


@pytest.mark.parametrize(
    "value",
    [
        "'self'\\u000bhttps://x.example",
        "'self'\\r\\nX-Evil: 1",
        "'self'\\t*",
        "https://café.example",
        "'self'; script-src *",
        "'self'\\u0085*",
    ],
)
def test_frame_ancestors_accepts_only_ascii_csp_source_characters(tmp_path: Path, value: str) -> None:
    """A control character passed `check` and then broke every response, /healthz included (issue 12)."""
    path = tmp_path / "fa.toml"
    path.write_text(f'[web]\nframe_ancestors = "{value}"\n')
    r = subprocess.run([*CLI, "check", "--config", str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2, r.stdout
    assert r.stderr.startswith("fa.toml: web.frame_ancestors: expected CSP sources"), r.stderr
    assert len(r.stderr.splitlines()) == 1


def test_frame_ancestors_good_values_pass_and_the_web_server_uses_the_same_rule() -> None:
    from callmeter_tui.config.validate import validate_frame_ancestors

    for good in ("*", "'self'", "'self' https://intranet.example:8443/path", "https://*.example.com  'self'"):
        assert validate_frame_ancestors(good) is None, good
    assert validate_frame_ancestors("'self'\x0b") and validate_frame_ancestors("'self'\r\n")
    from callmeter_tui.bus.events import EventBus
    from callmeter_tui.config.model import Config, WebSettings
    from callmeter_tui.web.server import WebServer

    with pytest.raises(ValueError, match=r"web\.frame_ancestors: expected CSP sources"):
        WebServer(None, Config(web=WebSettings(frame_ancestors="'self'\x0bhttps://x.example")), EventBus())


def test_the_demo_password_is_passed_as_a_value_not_put_into_the_environment(monkeypatch, tmp_path) -> None:
    """`check` with no config loads the built-in demo; its password reaches the config as a value."""
    from callmeter_tui.cli import main
    from callmeter_tui.config.loader import secrets_env

    monkeypatch.delenv("CALLMETER_DEMO_PASSWORD", raising=False)
    monkeypatch.delenv("CALLMETER_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert main(["check"]) == 0
    assert "CALLMETER_DEMO_PASSWORD" not in os.environ
    assert secrets_env(True, {})["CALLMETER_DEMO_PASSWORD"] == "demo"
    assert secrets_env(True, {"CALLMETER_DEMO_PASSWORD": "mine"})["CALLMETER_DEMO_PASSWORD"] == "mine"
    assert "CALLMETER_DEMO_PASSWORD" not in secrets_env(False, {})
