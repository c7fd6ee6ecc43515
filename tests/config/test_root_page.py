"""``[web] root_page``: the page whose Statuspage API is also served at the host root must exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from callmeter_tui.config import ConfigError, load_config

PAGE = """
[web]
root_page = "{slug}"

[[probes]]
name = "p"
kind = "sip_options"
target = "sip:127.0.0.1:5999"

[[status_pages]]
slug = "voip"
name = "VoIP"
components = [{{ probe = "p", name = "P" }}]
"""


def test_root_page_names_a_page(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(PAGE.format(slug="voip"))
    config, _ = load_config(path, env={})
    assert config.web.root_page == "voip"


def test_unknown_root_page_is_refused_with_the_key(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(PAGE.format(slug="nope"))
    with pytest.raises(ConfigError) as e:
        load_config(path, env={})
    assert any("web.root_page: no status page with slug 'nope' (slugs: 'voip')" in line for line in e.value.lines)
