"""EBS WebApi simulator: a stand-in for a customer's on-premises Entersoft Business Suite WebApi server.

It stands for a foreign system: it imports nothing of the product (only Flask, Werkzeug and the stdlib).
The contract it implements is ``docs/ebs-contract.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from . import assets, login, page, rpc
from .config import ConfigError, default_config_path, load_config
from .context import Simulator, init_app
from .errors import register_error_handlers
from .tokens import add_refresh_header

__all__ = ["ConfigError", "create_app"]

DEFAULT_TOKEN_LIFETIME_SECONDS = 3600
DEFAULT_REFRESH_WITHIN_PERCENT = 50


def _number(value: Any, name: str, low: float, high: float | None = None) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be a number, not {value!r}") from exc
    if number < low or (high is not None and number > high):
        bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise ConfigError(f"{name} must be {bound}, not {value!r}")
    return number


def _simulator(settings: dict[str, Any]) -> Simulator:
    config_path = settings.get("SIMULATOR_CONFIG") or default_config_path()
    if not config_path:
        raise ConfigError("SIMULATOR_CONFIG is not set: give the path of the simulator's TOML file")
    config = load_config(config_path)
    lifetime = settings.get("TOKEN_LIFETIME_SECONDS")
    if lifetime is None:
        minutes = config.webapi.get("TokenLifetimeInMinutes")
        lifetime = (
            DEFAULT_TOKEN_LIFETIME_SECONDS if minutes is None else _number(minutes, "TokenLifetimeInMinutes", 1) * 60
        )
    refresh = settings.get("REFRESH_WITHIN_PERCENT")
    if refresh is None:
        refresh = config.webapi.get("RefreshTokenIfWithinRemainingPercentage", DEFAULT_REFRESH_WITHIN_PERCENT)
    return Simulator(
        config=config,
        data_dir=Path(settings.get("SIMULATOR_DATA_DIR") or "var/simulator"),
        token_lifetime=_number(lifetime, "TOKEN_LIFETIME_SECONDS", 0.001),
        refresh_within_percent=_number(refresh, "REFRESH_WITHIN_PERCENT", 0, 100),
    )


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the simulator's Flask app from defaults, ``SIMULATOR_*`` environment variables, then ``config``.

    Keys: ``SIMULATOR_CONFIG`` (TOML file), ``SIMULATOR_DATA_DIR`` (holds ``CSWebAssets/`` and ``state.db``),
    ``TOKEN_LIFETIME_SECONDS`` (3600), ``REFRESH_WITHIN_PERCENT`` (50). Raises ConfigError on bad settings.
    """
    app = Flask(__name__)
    app.config.from_prefixed_env("SIMULATOR")
    for short in ("CONFIG", "DATA_DIR"):  # SIMULATOR_CONFIG in the environment arrives as CONFIG
        if short in app.config:
            app.config[f"SIMULATOR_{short}"] = str(app.config.pop(short))
    if config:
        app.config.update(config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.mimetype = "application/json; charset=utf-8"  # type: ignore[attr-defined]
    init_app(app, _simulator(app.config))
    register_error_handlers(app)
    app.after_request(add_refresh_header)
    for blueprint in (login.bp, rpc.bp, assets.bp, page.bp):
        app.register_blueprint(blueprint)
    return app
