"""The agent's settings: `agent.toml`, then `CLOUDSTORE_AGENT_*` variables; the API key from env or a file."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["API_KEY_ENV", "AgentConfig", "ConfigError", "DeviceSettings", "default_config_path", "load_config"]

API_KEY_ENV = "CLOUDSTORE_AGENT_API_KEY"
ENV_PREFIX = "CLOUDSTORE_AGENT_"
_REPO_CONFIG = Path(__file__).resolve().parents[2] / "config"
log = logging.getLogger(__name__)


class ConfigError(RuntimeError):
    """Raised when the agent's settings are missing or invalid."""


@dataclass(frozen=True)
class DeviceSettings:
    """What the agent knows of one clock: its ESDeviceCode in WorkLife Payroll and its time zone."""

    serial: str
    device_code: str
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        """The device's time zone."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class AgentConfig:
    """Every setting of the agent; `repr` never shows the API key."""

    resource_api_url: str = "http://127.0.0.1:8100"
    listen_host: str = "127.0.0.1"
    listen_port: int = 8081
    spool_dir: Path = field(default_factory=lambda: _default_var_dir() / "agent")
    timezone: str = "Europe/Athens"
    batch_size: int = 500
    upload_interval: float = 5.0
    request_timeout: float = 30.0
    retry_initial: float = 1.0
    retry_max: float = 300.0
    retention_days: int = 90
    log_level: str = "INFO"
    devices: dict[str, DeviceSettings] = field(default_factory=dict)
    api_key: str | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.name != "api_key")
        return f"AgentConfig({shown}, api_key={'***' if self.api_key else None})"

    def device(self, serial: str) -> DeviceSettings:
        """The settings of a device; one not in the table uses its serial as code and the default zone."""
        return self.devices.get(serial) or DeviceSettings(serial, serial, self.timezone)

    @property
    def punches_url(self) -> str:
        """The resource API's punches endpoint."""
        return self.resource_api_url.rstrip("/") + "/v1/attendance/punches"

    @property
    def api_key_fingerprint(self) -> str:
        """A digest prefix that names the key in logs without revealing it."""
        if not self.api_key:
            return "none"
        return "sha256:" + hashlib.sha256(self.api_key.encode()).hexdigest()[:12]

    def with_api_key(self, api_key: str) -> AgentConfig:
        """A copy carrying the API key."""
        return replace(self, api_key=api_key)


def _default_var_dir() -> Path:
    return Path(os.environ.get("CLOUDSTORE_VAR_DIR") or Path.cwd() / "var")


def default_config_path() -> Path:
    """`agent.toml` in CLOUDSTORE_CONFIG_DIR, else in the project's config/ folder."""
    return Path(os.environ.get("CLOUDSTORE_CONFIG_DIR") or _REPO_CONFIG) / "agent.toml"


_KINDS: dict[str, type] = {"str": str, "int": int, "float": float, "Path": Path}
_SCALARS = {f.name: _KINDS[str(f.type)] for f in fields(AgentConfig) if f.name not in ("devices", "api_key")}


def _coerce(name: str, value: Any) -> Any:
    kind = _SCALARS[name]
    try:
        if kind is int and not isinstance(value, bool):
            return int(value)
        if kind is float and not isinstance(value, bool):
            return float(value)
        if kind is Path and isinstance(value, str):
            return Path(value).expanduser()
        if kind is str and isinstance(value, str):
            return value
    except (TypeError, ValueError):
        pass
    raise ConfigError(f"agent: setting {name!r} must be a {kind.__name__}, not {value!r}")


def _parse_devices(table: Any, default_zone: str) -> dict[str, DeviceSettings]:
    if not isinstance(table, dict):
        raise ConfigError("agent: [devices] must be a table of serial = { device_code, timezone }")
    devices = {}
    for serial, entry in table.items():
        if not isinstance(entry, dict) or set(entry) - {"device_code", "timezone"}:
            raise ConfigError(f"agent: device {serial!r} takes only device_code and timezone")
        devices[serial] = DeviceSettings(
            serial, str(entry.get("device_code") or serial), str(entry.get("timezone") or default_zone)
        )
    return devices


def _validate(config: AgentConfig) -> None:
    problems = []
    url = urlsplit(config.resource_api_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        problems.append(f"resource_api_url must be an http(s) URL, not {config.resource_api_url!r}")
    if not 1 <= config.batch_size <= 1000:
        problems.append("batch_size must be between 1 and 1000")
    if not 0 <= config.listen_port <= 65535:
        problems.append("listen_port must be between 0 and 65535")
    for name in ("upload_interval", "request_timeout", "retry_initial", "retry_max"):
        if getattr(config, name) <= 0:
            problems.append(f"{name} must be positive")
    if config.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        problems.append(f"log_level must be DEBUG, INFO, WARNING or ERROR, not {config.log_level!r}")
    for zone in {config.timezone, *(d.timezone for d in config.devices.values())}:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"unknown time zone {zone!r} (use an IANA name such as Europe/Athens)")
    if problems:
        raise ConfigError("agent: " + "; ".join(problems))


def read_api_key(api_key_file: Path | None) -> str | None:
    """The API key from `api_key_file` if given, else from CLOUDSTORE_AGENT_API_KEY; never from the command line."""
    if api_key_file is not None:
        try:
            key = api_key_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"agent: cannot read the API key file {api_key_file}: {exc.strerror}") from None
        if os.name == "posix" and api_key_file.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("the API key file %s is readable by other users; chmod 600 it", api_key_file)
    else:
        key = os.environ.get(API_KEY_ENV, "").strip()
    if key and not (key.isascii() and key.isprintable() and not any(ch.isspace() for ch in key)):
        raise ConfigError("agent: the API key has spaces or odd characters; copy it again from the Integrations tab")
    return key or None


def load_config(
    path: Path | None = None, *, api_key_file: Path | None = None, require_key: bool = False
) -> AgentConfig:
    """Read the TOML file (if present), apply CLOUDSTORE_AGENT_* overrides, add the API key and validate."""
    path = path or default_config_path()
    data: dict[str, Any] = {}
    if path.exists():
        with path.open("rb") as fh:
            try:
                data = tomllib.load(fh)
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"agent: {path}: {exc}") from None
    elif path != default_config_path():
        raise ConfigError(f"agent: config file {path} not found")
    unknown = set(data) - set(_SCALARS) - {"devices"}
    if unknown:
        raise ConfigError(f"agent: unknown settings in {path}: {', '.join(sorted(unknown))}")
    values = {name: _coerce(name, value) for name, value in data.items() if name != "devices"}
    for name in _SCALARS:
        env = os.environ.get(ENV_PREFIX + name.upper())
        if env:
            values[name] = _coerce(name, env)
    config = AgentConfig(**values)
    config = replace(config, devices=_parse_devices(data.get("devices", {}), config.timezone))
    _validate(config)
    key = read_api_key(api_key_file)
    if require_key and not key:
        raise ConfigError(f"agent: no API key: set {API_KEY_ENV} or pass --api-key-file PATH")
    return config.with_api_key(key) if key else config
