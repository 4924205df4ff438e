"""WebApi logins and the bridge's service-user session (docs/ebs-contract.md §2, §3).

A channel logs in as the bridge's service user (a login without user credentials) and reuses that
WebApiToken until shortly before `WebApiTokenExpiresAt`. When EBS sends `x-es-refresh-token`, the new token
replaces the cached one. When EBS answers `expired-webapi-token` (or `invalid-webapi-token`: the server
forgot it), the channel logs in once more and repeats the call once: the refused call never ran, so even a
non-idempotent call is safe to repeat. Concurrent callers share one login (single flight).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bridge_gateway.errors import UpstreamInvalidResponseError

if TYPE_CHECKING:
    from bridge_gateway.targets import BridgeTarget, UpstreamAnswer

__all__ = ["LOGIN_PATH", "ServiceSessionMixin", "WebApiToken", "login_body"]

LOGIN_PATH = "api/Login/Login"
RELOGIN_IDS = frozenset({"expired-webapi-token", "invalid-webapi-token"})
_DEFAULT_LIFETIME = 300.0


@dataclass(frozen=True)
class WebApiToken:
    """A WebApiToken with its expiry (epoch seconds) and lifetime; never printed."""

    value: str = field(repr=False)
    expires_at: float
    lifetime: float

    def usable(self, now: float) -> bool:
        """True until a small margin before expiry (a tenth of the lifetime, at most 5 s)."""
        return now < self.expires_at - min(5.0, self.lifetime / 10)

    @classmethod
    def from_login(cls, model: Mapping[str, Any]) -> WebApiToken:
        """The token of a login answer's Model."""
        now = time.time()
        try:
            expires_at = datetime.fromisoformat(str(model.get("WebApiTokenExpiresAt"))).timestamp()
        except ValueError:
            expires_at = now + _DEFAULT_LIFETIME
        return cls(value=model["WebApiToken"], expires_at=expires_at, lifetime=max(expires_at - now, 1.0))

    def renewed(self, value: str) -> WebApiToken:
        """The token EBS sent in `x-es-refresh-token`: same lifetime, starting now."""
        return WebApiToken(value=value, expires_at=time.time() + self.lifetime, lifetime=self.lifetime)


def login_body(target: BridgeTarget, user: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The Login body: subscription credentials, bridge, and the user (none: the bridge's service user)."""
    model = {name: value for name, value in (user or {}).items() if value not in (None, "")}
    return {
        "SubscriptionID": target.subscription_id,
        "SubscriptionPassword": target.subscription_password,
        "BridgeID": target.bridge_id,
        "Model": model,
    }


class ServiceSessionMixin:
    """Login and the cached service-user token, for `BridgeChannel`."""

    target: BridgeTarget

    def __init__(self) -> None:
        self._token: WebApiToken | None = None
        self._token_lock = threading.Lock()
        self.logins = 0

    def request(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> UpstreamAnswer:
        raise NotImplementedError

    def login(self, user: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Log in (as `user`, or as the service user) and return EBS's Model; rejections raise problems."""
        # A login only creates a session, so repeating one after a lost answer is harmless.
        answer = self.request("POST", LOGIN_PATH, idempotent=True, json_body=login_body(self.target, user))
        body = answer.ok_json("login")
        model = body.get("Model") if isinstance(body, dict) else None
        if not isinstance(model, dict) or not isinstance(model.get("WebApiToken"), str):
            raise UpstreamInvalidResponseError("The EBS server's login answer has no WebApiToken.")
        self.logins += 1
        return model

    def service_token(self, stale: WebApiToken | None = None) -> WebApiToken:
        """The cached service-user token, or a new login when there is none, it expired, or it is `stale`."""
        with self._token_lock:
            current = self._token
            if current is not None and current is not stale and current.usable(time.time()):
                return current
            self._token = WebApiToken.from_login(self.login())
            return self._token

    def drop_service_token(self) -> None:
        """Forget the cached token."""
        with self._token_lock:
            self._token = None

    def service_request(
        self, method: str, path: str, *, idempotent: bool, headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> UpstreamAnswer:
        """A call as the bridge's service user, with token reuse, renewal and one re-login on expiry."""
        token = self.service_token()
        answer = self._with_token(method, path, token, idempotent=idempotent, headers=headers, **kwargs)
        if answer.status == 401 and answer.message_id in RELOGIN_IDS:
            token = self.service_token(stale=token)
            answer = self._with_token(method, path, token, idempotent=idempotent, headers=headers, **kwargs)
        return answer

    def _with_token(
        self, method: str, path: str, token: WebApiToken, *, headers: Mapping[str, str] | None, **kwargs: Any
    ) -> UpstreamAnswer:
        sent = {**(headers or {}), "Authorization": f"Bearer {token.value}"}
        answer = self.request(method, path, headers=sent, **kwargs)
        if answer.refresh_token:
            with self._token_lock:
                if self._token is not None and self._token.value == token.value:
                    self._token = token.renewed(answer.refresh_token)
        return answer
