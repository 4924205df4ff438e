"""The road to one EBS server: a connection pool per bridge, breaker, cap, timeouts, retries, error mapping.

`Upstream` keeps one `BridgeChannel` per bridge and worker. A channel sends one logical call at a time per
thread: breaker check → concurrency slot → up to 1 + RETRIES attempts (idempotent calls only) with full-jitter
backoff, each attempt under the body cap and within the call's deadline. Transport failures become the
problems in `errors.py`; EBS answers (any status) come back as `UpstreamAnswer` for the caller to judge.
The service user's WebApiToken is cached by `tokens.ServiceSessionMixin`; the data it works with is in `targets.py`.

The hot path is built for a relayed call: the exchange is libcurl's (`transport.Transport`), metric labels
are made once per channel, and an answer is read once into one bytes object.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

from bridge_gateway import errors
from bridge_gateway.breaker import CLOSED, OPEN, CircuitBreaker, ConcurrencyLimit
from bridge_gateway.guard import Guard
from bridge_gateway.metrics import Labels, Metrics
from bridge_gateway.targets import BridgeTarget, UpstreamAnswer, UpstreamSettings
from bridge_gateway.tokens import ServiceSessionMixin
from bridge_gateway.transport import RawAnswer, Transport, TransportError
from shared.logging import REQUEST_ID_HEADER, current_request_id

__all__ = ["BridgeChannel", "BridgeTarget", "Upstream", "UpstreamAnswer", "UpstreamSettings"]

log = logging.getLogger(__name__)
_jitter = random.SystemRandom()
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9._~+/=-]{16,512}$")
_RETRY_STATUSES = frozenset({500, 502, 503, 504})


class _AttemptFailedError(Exception):
    """One attempt failed in transport; `problem` is what the caller gets if no retry helps."""

    def __init__(self, problem: errors.GatewayProblem, *, retryable: bool) -> None:
        super().__init__(problem.detail)
        self.problem = problem
        self.retryable = retryable


class BridgeChannel(ServiceSessionMixin):
    """One bridge's keep-alive connection pool with its breaker, concurrency cap and service-user token."""

    def __init__(self, target: BridgeTarget, *, settings: UpstreamSettings, guard: Guard, metrics: Metrics) -> None:
        super().__init__()
        self.target = target
        self.settings = settings
        self.metrics = metrics
        self.transport = Transport(
            target,
            guard=guard,
            pool_size=settings.max_concurrency,
            verify=settings.tls_verify,
            limit=settings.max_response_bytes,
        )
        self.breaker = CircuitBreaker(
            failure_threshold=settings.breaker_failure_threshold, reset_seconds=settings.breaker_reset_seconds
        )
        self.limit = ConcurrencyLimit(limit=settings.max_concurrency, wait_seconds=settings.queue_timeout)
        self._labels = target.labels

    def close(self) -> None:
        """Close the pooled connections."""
        self.transport.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        json_body: Any = None,
        data: bytes | None = None,
        params: Mapping[str, Any] | list[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> UpstreamAnswer:
        """One call to EBS `path` (relative to the server root) through breaker, cap and retries."""
        sent = dict(headers or {})
        request_id = current_request_id()
        if request_id:
            sent.setdefault(REQUEST_ID_HEADER, request_id)
        if json_body is not None:
            data = json.dumps(json_body, allow_nan=False).encode()
            sent.setdefault("Content-Type", "application/json")
        url = "/" + path
        if params:
            url += "?" + urlencode(params, doseq=True)
        self.breaker.before_call()
        try:
            with self.limit.slot():
                return self._with_retries(method, url, idempotent=idempotent, body=data, headers=sent)
        finally:
            self.breaker.release_probe()

    def _with_retries(self, method: str, url: str, *, idempotent: bool, **kwargs: Any) -> UpstreamAnswer:
        settings = self.settings
        deadline = time.monotonic() + settings.call_deadline
        attempts = 1 + (settings.retries if idempotent else 0)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                answer = self._attempt(method, url, deadline=deadline, **kwargs)
            except _AttemptFailedError as exc:
                if last or not exc.retryable or not self._backoff(attempt, deadline):
                    raise exc.problem from None
                continue
            if answer.status in _RETRY_STATUSES and not last and self._backoff(attempt, deadline):
                continue
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int, deadline: float) -> bool:
        """Sleep a full-jitter backoff before the next attempt; False when the deadline leaves no room."""
        delay = _jitter.uniform(0, min(self.settings.retry_backoff_max, self.settings.retry_backoff * 2**attempt))
        if time.monotonic() + delay >= deadline:
            return False
        time.sleep(delay)
        return True

    def _attempt(
        self, method: str, url: str, *, deadline: float, body: bytes | None, headers: dict[str, str]
    ) -> UpstreamAnswer:
        settings, started = self.settings, time.monotonic()
        try:
            answer = self.transport.send(
                method,
                url,
                body=body,
                headers=headers,
                timeout=max(0.05, min(settings.read_timeout, deadline - started)),
                connect_timeout=settings.connect_timeout,
            )
        except errors.DestinationRefusedError:
            self._count("destination-refused", None)
            raise
        except errors.UpstreamTooLargeError:
            self._count("too-large", started)
            self.breaker.record_success()
            raise
        except TransportError as exc:
            raise self._transport_failure(exc, started) from None
        status = answer.status
        if 300 <= status < 400:
            self._count("redirect", started)
            self.breaker.record_success()  # the server answered; it is misconfigured, not down
            raise errors.UpstreamRedirectError(
                f"The EBS server at {self.target.host}:{self.target.port} answered with a redirect "
                f"(HTTP {status}); the gateway never follows redirects. "
                "Register the address the WebApi really answers on."
            )
        self._count(str(status), started)
        if status >= 500:
            self.breaker.record_failure()
        else:
            self.breaker.record_success()
        return _upstream_answer(answer)

    def _count(self, outcome: str, started: float | None) -> None:
        seconds = None if started is None else time.monotonic() - started
        self.metrics.record_upstream(self._labels, outcome=outcome, seconds=seconds)

    def _transport_failure(self, exc: TransportError, started: float) -> _AttemptFailedError:
        """Map a transport failure to a problem, count it, and tell the breaker."""
        target, settings, kind = self.target, self.settings, exc.kind
        where = f"{target.host}:{target.port}"
        firewall = (
            f"Check that the EBS WebApi server is running and that its firewall lets TCP port {target.port} in "
            "from the gateway's egress addresses"
            + (f": {', '.join(settings.egress_addresses)}." if settings.egress_addresses else ".")
        )
        extras = {"host": target.host, "port": target.port, "egressAddresses": list(settings.egress_addresses)}
        problem: errors.GatewayProblem
        retryable = kind not in ("tls", "unresolved")
        if kind == "tls":
            slug = "tls-failure"
            problem = errors.UpstreamTlsError(
                f"TLS with {where} failed: the server's certificate could not be verified, or it does not speak "
                "TLS on this port.",
                hint="Install a certificate a public CA issued for this host name, or register the right scheme.",
                host=target.host,
                port=target.port,
            )
        elif kind == "connect-timeout":
            slug = kind
            problem = errors.UpstreamTimeoutError(
                f"The EBS server at {where} did not accept a connection within {settings.connect_timeout:g} s.",
                hint=firewall,
                **extras,
            )
        elif kind == "timeout":
            slug = kind
            problem = errors.UpstreamTimeoutError(
                f"The EBS server at {where} did not answer within {settings.read_timeout:g} s.",
                hint="The server is overloaded or a call takes too long; try again later.",
                host=target.host,
                port=target.port,
            )
        else:
            slug = "unreachable"
            if kind == "unresolved":
                reason = "its host name does not resolve"
                hint = "Check the host name of the EBS application server in the connection settings."
            else:
                reason = "the connection was refused" if kind == "refused" else "the connection failed"
                hint = firewall
            problem = errors.UpstreamUnreachableError(
                f"The gateway cannot reach the EBS server at {where}: {reason}.", hint=hint, **extras
            )
        self._count(slug, started)
        self.breaker.record_failure()
        log.info("upstream %s/%s: %s (%s)", target.subscription_id, target.bridge_id, slug, exc)
        return _AttemptFailedError(problem, retryable=retryable)


def _upstream_answer(raw: RawAnswer) -> UpstreamAnswer:
    refresh = raw.header("x-es-refresh-token")
    return UpstreamAnswer(
        status=raw.status,
        content_type=raw.content_type,
        body=raw.body,
        refresh_token=refresh if refresh and _TOKEN_SHAPE.match(refresh) else None,
    )


class Upstream:
    """The channels of one worker, one per bridge, least recently used ones closed beyond `max_bridges`."""

    def __init__(self, *, settings: UpstreamSettings, guard: Guard, metrics: Metrics) -> None:
        self.settings = settings
        self.guard = guard
        self.metrics = metrics
        self._channels: OrderedDict[tuple[str, str], BridgeChannel] = OrderedDict()
        self._lock = threading.Lock()
        metrics.add_gauges(self._gauges)

    def channel(self, target: BridgeTarget) -> BridgeChannel:
        """The channel for `target`, new when the bridge's settings changed since it was made."""
        stale: list[BridgeChannel] = []
        with self._lock:
            channel = self._channels.get(target.key)
            if channel is None or channel.target != target:
                if channel is not None:
                    stale.append(channel)
                channel = BridgeChannel(target, settings=self.settings, guard=self.guard, metrics=self.metrics)
                self._channels[target.key] = channel
            self._channels.move_to_end(target.key)
            while len(self._channels) > self.settings.max_bridges:
                stale.append(self._channels.popitem(last=False)[1])
        for old in stale:
            old.close()
        return channel

    def forget(self, key: tuple[str, str]) -> None:
        """Drop a bridge's channel (its settings were deleted)."""
        with self._lock:
            channel = self._channels.pop(key, None)
        if channel is not None:
            channel.close()

    def close(self) -> None:
        """Close every channel."""
        with self._lock:
            channels, self._channels = list(self._channels.values()), OrderedDict()
        for channel in channels:
            channel.close()

    def _gauges(self) -> Iterator[tuple[str, Labels, float]]:
        with self._lock:
            channels = list(self._channels.values())
        for channel in channels:
            state = channel.breaker.state
            code = 0 if state == CLOSED else 1 if state == OPEN else 2
            yield "bridge_gateway_circuit_state", channel.target.labels, code
            yield "bridge_gateway_upstream_in_flight", channel.target.labels, channel.limit.in_flight
