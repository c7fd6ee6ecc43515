"""Configuration: TOML file -> validated Config (one validator shared with the TUI forms)."""

from .loader import ConfigError, SettingError, load_config, parse_config, resolve_config_path
from .model import Config

__all__ = ["Config", "ConfigError", "SettingError", "load_config", "parse_config", "resolve_config_path"]
