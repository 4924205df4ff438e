"""The gateway's parts, built once per app from config: guard, upstream channels, metrics, caches, verifier."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from bridge_gateway.guard import Guard, parse_networks
from bridge_gateway.metrics import Metrics
from bridge_gateway.targets import UpstreamSettings
from bridge_gateway.upstream import Upstream
from shared.cache import MemoryCache
from shared.config import ConfigError
from shared.service_auth import BearerVerifier

if TYPE_CHECKING:
    from bridge_gateway.audit import AuditWriter

__all__ = ["AUDIENCE", "Gateway", "build_gateway", "gateway"]

log = logging.getLogger(__name__)
AUDIENCE = "bridge_gateway"

# config key -> (UpstreamSettings field, type, lowest allowed value)
_NUMBERS: dict[str, tuple[str, Callable[[Any], Any], float]] = {
    "CONNECT_TIMEOUT_SECONDS": ("connect_timeout", float, 0.01),
    "READ_TIMEOUT_SECONDS": ("read_timeout", float, 0.01),
    "CALL_DEADLINE_SECONDS": ("call_deadline", float, 0.01),
    "MAX_RESPONSE_BYTES": ("max_response_bytes", int, 1),
    "RETRIES": ("retries", int, 0),
    "RETRY_BACKOFF_SECONDS": ("retry_backoff", float, 0),
    "RETRY_BACKOFF_MAX_SECONDS": ("retry_backoff_max", float, 0),
    "BREAKER_FAILURE_THRESHOLD": ("breaker_failure_threshold", int, 1),
    "BREAKER_RESET_SECONDS": ("breaker_reset_seconds", float, 0.01),
    "BRIDGE_MAX_CONCURRENCY": ("max_concurrency", int, 1),
    "BRIDGE_QUEUE_TIMEOUT_SECONDS": ("queue_timeout", float, 0),
    "MAX_BRIDGES": ("max_bridges", int, 1),
}


@dataclass
class Gateway:
    """Everything a request needs besides the database session."""

    guard: Guard
    upstream: Upstream
    metrics: Metrics
    targets: MemoryCache
    target_ttl: float
    verifier: BearerVerifier
    audit: AuditWriter

    def close(self) -> None:
        """Close every pooled upstream connection and write the audit rows still queued."""
        self.upstream.close()
        self.audit.close()


def gateway() -> Gateway:
    """The current app's gateway."""
    return current_app.extensions["bridge_gateway"]


def _list(value: Any) -> list[str]:
    """A list setting: a TOML/JSON list, or a comma-separated string from the environment."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return [str(item) for item in value]


def _settings(config: dict[str, Any], problems: list[str]) -> UpstreamSettings:
    values: dict[str, Any] = {}
    for key, (name, kind, low) in _NUMBERS.items():
        if config.get(key) is None:
            continue
        try:
            number = kind(config[key])
        except (TypeError, ValueError):
            problems.append(f"{key} must be a number, not {config[key]!r}")
            continue
        if number < low:
            problems.append(f"{key} must be at least {low:g}")
        values[name] = number
    verify = config.get("TLS_CA_BUNDLE") or config.get("TLS_VERIFY", True)
    if isinstance(verify, str) and verify.lower() in ("true", "false"):
        verify = verify.lower() == "true"
    values["tls_verify"] = verify
    values["egress_addresses"] = tuple(_list(config.get("EGRESS_ADDRESSES")))
    return UpstreamSettings(**values)


def build_gateway(app: Flask, *, audit: AuditWriter) -> Gateway:
    """Read and check the gateway's settings; raises ConfigError naming every bad one."""
    config = app.config
    problems: list[str] = []
    settings = _settings(config, problems)
    networks, bad = parse_networks(_list(config.get("ALLOWED_NETWORKS")))
    if bad:
        problems.append(f"ALLOWED_NETWORKS has entries that are not networks or addresses: {bad}")
    if problems:
        raise ConfigError("bridge_gateway: " + "; ".join(problems))
    if networks and config.get("ENV_PRODUCTION"):
        log.warning("ALLOWED_NETWORKS lets the gateway reach non-public addresses: %s", [str(n) for n in networks])
    base = str(config["AUTH_SERVER_URL"]).rstrip("/")
    verifier = BearerVerifier(f"{base}/.well-known/jwks.json", config.get("AUTH_ISSUER") or base, AUDIENCE)
    metrics = Metrics()
    guard = Guard(allowed_networks=networks)
    return Gateway(
        guard=guard,
        upstream=Upstream(settings=settings, guard=guard, metrics=metrics),
        metrics=metrics,
        targets=MemoryCache(max_entries=settings.max_bridges),
        target_ttl=float(config.get("BRIDGE_CACHE_SECONDS", 5.0)),
        verifier=verifier,
        audit=audit,
    )
