"""Which settings a running ``serve`` can take on SIGHUP, and which only a restart applies.

Probes, status pages, maintenance windows, the project name and retention are re-read on reload. Everything
that was wired into a long-lived part at start (the web server's listener and headers, the webhook sender's TLS
and SSRF guard, the engine's pools, the database) needs a restart; a reload that changes any of those is refused
as a whole, with one line naming the keys, so the settings in effect are always those of one version of the file.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from .model import Config

# Config fields re-applied on reload, and those only a restart applies (a new field must be put in one of them).
RELOADABLE = frozenset({"path", "project_name", "retention", "dashboard", "probes", "status_pages", "maintenance"})
RESTART_ONLY = frozenset({"database_url", "web", "webhooks", "engine", "demo"})
# Config field names that differ from their TOML key.
_TOML = {"database_url": "database.url", "demo": "demo.enabled", "metrics_enabled": "metrics", "timeout_s": "timeout"}


def restart_keys(running: Config, new: Config) -> list[str]:
    """TOML keys (``web.metrics``, ``webhooks.allow_private_targets``...) whose change needs a restart."""
    keys: list[str] = []
    for name in sorted(RESTART_ONLY):
        old_value, new_value = getattr(running, name), getattr(new, name)
        if old_value == new_value:
            continue
        if hasattr(old_value, "__dataclass_fields__"):
            keys += [f"{name}.{_TOML.get(k, k)}" for k in _changed_fields(old_value, new_value)]
        else:
            keys.append(_TOML.get(name, name))
    return keys


def _changed_fields(old: Any, new: Any) -> list[str]:
    return [f.name for f in fields(old) if getattr(old, f.name) != getattr(new, f.name)]
