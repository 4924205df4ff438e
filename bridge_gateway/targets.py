"""What the upstream works with: settings, a bridge's target, and an EBS answer."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bridge_gateway import errors
from bridge_gateway.metrics import Labels

__all__ = ["BridgeTarget", "UpstreamAnswer", "UpstreamSettings"]


@dataclass(frozen=True)
class UpstreamSettings:
    """Timeouts, caps and limits for every EBS server (config keys in docs/gateway.md)."""

    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    call_deadline: float = 30.0
    max_response_bytes: int = 2 * 1024 * 1024
    retries: int = 2
    retry_backoff: float = 0.2
    retry_backoff_max: float = 2.0
    breaker_failure_threshold: int = 5
    breaker_reset_seconds: float = 30.0
    max_concurrency: int = 8
    queue_timeout: float = 1.0
    tls_verify: bool | str = True
    egress_addresses: tuple[str, ...] = ()
    max_bridges: int = 1000


@dataclass(frozen=True)
class BridgeTarget:
    """What the gateway needs to reach one bridge; the decrypted password lives only in memory."""

    subscription_id: str
    bridge_id: str
    subscription_gid: str
    scheme: str
    host: str
    port: int
    subscription_password: str = field(repr=False)

    @property
    def key(self) -> tuple[str, str]:
        """Subscription and bridge ids, case-folded (EBS ids are case-insensitive)."""
        return self.subscription_id.lower(), self.bridge_id.lower()

    @property
    def base_url(self) -> str:
        """`scheme://host:port/`, with brackets around an IPv6 literal."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}/"

    @property
    def labels(self) -> Labels:
        return (("subscription", self.subscription_id), ("bridge", self.bridge_id))


@dataclass(frozen=True)
class UpstreamAnswer:
    """An EBS answer that arrived whole and within the cap."""

    status: int
    content_type: str
    body: bytes
    refresh_token: str | None = field(default=None, repr=False)

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON is an upstream-invalid-response problem."""
        try:
            return json.loads(self.body.decode("utf-8")) if self.body else None
        except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            kind = self.content_type or "no content type"
            raise errors.UpstreamInvalidResponseError(
                f"The EBS server answered HTTP {self.status} with a body that is not JSON ({kind})."
            ) from None

    @property
    def message_id(self) -> str | None:
        """EBS's MessageID for an error answer, if the body carries one."""
        if self.status < 400:
            return None
        body = self.json_or_none()
        return errors.clean_message_id(body.get("MessageID")) if isinstance(body, dict) else None

    def json_or_none(self) -> Any:
        """The body as JSON, or None when it is not JSON (bad UTF-8, bad syntax, absurdly deep nesting): for error
        answers, whose body is only looked into."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return None

    def ok_json(self, operation: str) -> Any:
        """The JSON of a 2xx answer; any error answer raises the matching problem."""
        if self.status >= 400:
            raise errors.ebs_error(self.status, self.json_or_none(), operation=operation)
        return self.json()
