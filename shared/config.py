"""Configuration loading: config/<service>.toml, then prefixed environment variables, then overrides."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["GLOBAL_SETTINGS", "ConfigError", "config_dir", "load_config", "var_dir"]

_REPO_ROOT = Path(__file__).resolve().parent.parent
GLOBAL_SETTINGS = ("DATABASE_URL", "REDIS_URL")


class ConfigError(RuntimeError):
    """Raised at start-up when required settings are missing or invalid."""


def config_dir() -> Path:
    """The folder holding `<service>.toml` files (CLOUDSTORE_CONFIG_DIR, else the project's config/)."""
    return Path(os.environ.get("CLOUDSTORE_CONFIG_DIR") or _REPO_ROOT / "config")


def var_dir() -> Path:
    """The folder for local state: SQLite files, outbox, development secrets (CLOUDSTORE_VAR_DIR or ./var)."""
    path = Path(os.environ.get("CLOUDSTORE_VAR_DIR") or Path.cwd() / "var")
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_config(
    app: Flask,
    *,
    service: str,
    overrides: Mapping[str, Any] | None = None,
    required: Iterable[str] = (),
) -> None:
    """Fill `app.config` from the service's TOML file, `<SERVICE>_*` variables and `overrides`, in that order.

    The plain variables in GLOBAL_SETTINGS apply to every service; `<SERVICE>_<NAME>` wins over them.
    """
    toml_path = config_dir() / f"{service}.toml"
    if toml_path.exists():
        with toml_path.open("rb") as fh:
            app.config.update({key.upper(): value for key, value in tomllib.load(fh).items()})
    for name in GLOBAL_SETTINGS:
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    app.config.from_prefixed_env(service.upper())
    if overrides:
        app.config.update(overrides)
    app.config.setdefault("DATABASE_URL", f"sqlite:///{var_dir() / f'{service}.db'}")
    missing = sorted(key for key in required if app.config.get(key) in (None, ""))
    if missing:
        raise ConfigError(f"{service}: missing settings: {', '.join(missing)} (set {service.upper()}_<NAME>)")
