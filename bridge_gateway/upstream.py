"""The road to one EBS server: a pooled session per bridge, breaker, cap, timeouts, retries, error mapping.

`Upstream` keeps one `BridgeChannel` per bridge and worker. A channel sends one logical call at a time per
thread: breaker check → concurrency slot → up to 1 + RETRIES attempts (idempotent calls only) with full-jitter
backoff, each attempt streamed under the body cap and the call's deadline. Transport failures become the
problems in `errors.py`; EBS answers (any status) come back as `UpstreamAnswer` for the caller to judge.
The service user's WebApiToken is cached by `tokens.ServiceSessionMixin`; the data it works with is in `targets.py`.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

import requests
from urllib3.exceptions import NameResolutionError

from bridge_gateway import errors
from bridge_gateway.breaker import CLOSED, OPEN, CircuitBreaker, ConcurrencyLimit
from bridge_gateway.guard import Guard
from bridge_gateway.metrics import Labels, Metrics
from bridge_gateway.targets import BridgeTarget, UpstreamAnswer, UpstreamSettings
from bridge_gateway.tokens import ServiceSessionMixin
from bridge_gateway.transport import DeadlineExceededError, new_session, read_capped

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
    """One bridge's pooled keep-alive session with its breaker, concurrency cap and service-user token."""

    def __init__(self, target: BridgeTarget, *, settings: UpstreamSettings, guard: Guard, metrics: Metrics) -> None:
        super().__init__()
        self.target = target
        self.settings = settings
        self.metrics = metrics
        self.session = new_session(guard=guard, pool_size=settings.max_concurrency, verify=settings.tls_verify)
        self.breaker = CircuitBreaker(
            failure_threshold=settings.breaker_failure_threshold, reset_seconds=settings.breaker_reset_seconds
        )
        self.limit = ConcurrencyLimit(limit=settings.max_concurrency, wait_seconds=settings.queue_timeout)

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

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
        self.breaker.before_call()
        try:
            with self.limit.slot():
                return self._with_retries(
                    method,
                    self.target.base_url + path,
                    idempotent=idempotent,
                    json=json_body,
                    data=data,
                    params=params,
                    headers=dict(headers or {}),
                )
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

    def _attempt(self, method: str, url: str, *, deadline: float, **kwargs: Any) -> UpstreamAnswer:
        settings, started = self.settings, time.monotonic()
        read_timeout = max(0.05, min(settings.read_timeout, deadline - started))
        try:
            response = self.session.request(
                method,
                url,
                timeout=(settings.connect_timeout, read_timeout),
                allow_redirects=False,
                stream=True,
                **kwargs,
            )
        except errors.DestinationRefusedError:
            self._count("destination-refused", None)
            raise
        except requests.RequestException as exc:
            raise self._transport_failure(exc, started) from None
        try:
            if response.is_redirect or 300 <= response.status_code < 400:
                self._count("redirect", started)
                self.breaker.record_success()  # the server answered; it is misconfigured, not down
                raise errors.UpstreamRedirectError(
                    f"The EBS server at {self.target.host}:{self.target.port} answered with a redirect "
                    f"(HTTP {response.status_code}); the gateway never follows redirects. "
                    "Register the address the WebApi really answers on."
                )
            body = read_capped(response, limit=settings.max_response_bytes, deadline=deadline)
        except errors.UpstreamTooLargeError:
            self._count("too-large", started)
            self.breaker.record_success()
            raise
        except DeadlineExceededError:
            raise self._transport_failure(requests.exceptions.ReadTimeout(), started) from None
        except requests.RequestException as exc:
            raise self._transport_failure(exc, started) from None
        finally:
            response.close()
        status = response.status_code
        self._count(str(status), started)
        if status >= 500:
            self.breaker.record_failure()
        else:
            self.breaker.record_success()
        refresh = response.headers.get("x-es-refresh-token")
        return UpstreamAnswer(
            status=status,
            content_type=response.headers.get("Content-Type", ""),
            body=body,
            refresh_token=refresh if refresh and _TOKEN_SHAPE.match(refresh) else None,
        )

    def _count(self, outcome: str, started: float | None) -> None:
        seconds = None if started is None else time.monotonic() - started
        self.metrics.record_upstream(
            subscription=self.target.subscription_id, bridge=self.target.bridge_id, outcome=outcome, seconds=seconds
        )

    def _transport_failure(self, exc: requests.RequestException, started: float) -> _AttemptFailedError:
        """Map a transport exception to a problem, count it, and tell the breaker."""
        target, settings = self.target, self.settings
        where = f"{target.host}:{target.port}"
        firewall = (
            f"Check that the EBS WebApi server is running and that its firewall lets TCP port {target.port} in "
            "from the gateway's egress addresses"
            + (f": {', '.join(settings.egress_addresses)}." if settings.egress_addresses else ".")
        )
        extras = {"host": target.host, "port": target.port, "egressAddresses": list(settings.egress_addresses)}
        problem: errors.GatewayProblem
        retryable = True
        if isinstance(exc, requests.exceptions.SSLError):
            slug, retryable = "tls-failure", False
            problem = errors.UpstreamTlsError(
                f"TLS with {where} failed: the server's certificate could not be verified, or it does not speak "
                "TLS on this port.",
                hint="Install a certificate a public CA issued for this host name, or register the right scheme.",
                host=target.host,
                port=target.port,
            )
        elif isinstance(exc, requests.exceptions.ConnectTimeout):
            slug = "connect-timeout"
            problem = errors.UpstreamTimeoutError(
                f"The EBS server at {where} did not accept a connection within {settings.connect_timeout:g} s.",
                hint=firewall,
                **extras,
            )
        elif isinstance(exc, requests.exceptions.Timeout):
            slug = "timeout"
            problem = errors.UpstreamTimeoutError(
                f"The EBS server at {where} did not answer within {settings.read_timeout:g} s.",
                hint="The server is overloaded or a call takes too long; try again later.",
                host=target.host,
                port=target.port,
            )
        else:
            slug = "unreachable"
            unresolved = any(isinstance(cause, NameResolutionError) for cause in _causes(exc))
            if unresolved:
                retryable = False
                reason = "its host name does not resolve"
                hint = "Check the host name of the EBS application server in the connection settings."
            else:
                refused = any(isinstance(cause, ConnectionRefusedError) for cause in _causes(exc))
                reason = "the connection was refused" if refused else "the connection failed"
                hint = firewall
            problem = errors.UpstreamUnreachableError(
                f"The gateway cannot reach the EBS server at {where}: {reason}.", hint=hint, **extras
            )
        self._count(slug, started)
        self.breaker.record_failure()
        log.info("upstream %s/%s: %s (%s)", target.subscription_id, target.bridge_id, slug, type(exc).__name__)
        return _AttemptFailedError(problem, retryable=retryable)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (urllib3's `reason`, causes, contexts, and exception args)."""
    stack, seen = [exc], set()
    while stack and len(seen) < 32:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for inner in (getattr(current, "reason", None), current.__cause__, current.__context__, *current.args):
            if isinstance(inner, BaseException):
                stack.append(inner)


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
