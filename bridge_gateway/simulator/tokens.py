"""WebApi tokens: random opaque values stored by digest, bearer checks and sliding renewal.

A call made with a token that has less than ``REFRESH_WITHIN_PERCENT`` of its lifetime left is answered
normally and carries a new token in the ``x-es-refresh-token`` header; the old token keeps working until
its own expiry.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Response, g, request

from . import state
from .config import Bridge, Subscription, User
from .context import db, find_user, simulator
from .errors import EbsError

REFRESH_HEADER = "x-es-refresh-token"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Session:
    subscription: Subscription
    bridge: Bridge
    user: User
    branch_id: str
    lang_id: str
    issued_at: float
    expires_at: float

    @property
    def is_service_user(self) -> bool:
        """Tell whether this session belongs to the bridge's service user (DefaultUserCredentials)."""
        return self.user.user_id.lower() == self.bridge.default_user.user_id.lower()


def digest(token: str) -> str:
    """The SHA-256 digest under which a token is stored (the token itself is never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def iso(timestamp: float) -> str:
    """An epoch time as ISO 8601 with an offset, like ``WebApiTokenExpiresAt``."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def issue_token(
    *, subscription_id: str, bridge_id: str, user_id: str, branch_id: str, lang_id: str
) -> tuple[str, float]:
    """Create and store a new token; return ``(token, expires_at)``."""
    token = secrets.token_urlsafe(32)
    issued_at = time.time()
    expires_at = issued_at + simulator().token_lifetime
    session = {
        "subscription_id": subscription_id,
        "bridge_id": bridge_id,
        "user_id": user_id,
        "branch_id": branch_id,
        "lang_id": lang_id,
        "issued_at": issued_at,
        "expires_at": expires_at,
    }
    state.save_token(db(), digest=digest(token), session=session)
    return token, expires_at


def _presented_token() -> str | None:
    header = request.headers.get("Authorization") or request.args.get("webapitoken") or ""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _invalid() -> EbsError:
    return EbsError(401, "invalid-webapi-token", "Your session has expired. You need to relogin")


def current_session() -> Session:
    """Check the bearer token of this request and return its session (401 when missing, unknown, expired)."""
    token = _presented_token()
    if token is None:
        raise _invalid()
    row = state.find_token(db(), digest=digest(token))
    if row is None:
        raise _invalid()
    now = time.time()
    if now >= row["expires_at"]:
        raise EbsError(401, "expired-webapi-token", "Your session has expired. You need to relogin")
    subscription = simulator().config.subscription(row["subscription_id"])
    bridge = subscription.bridge(row["bridge_id"]) if subscription else None
    user = find_user(row["user_id"])
    if subscription is None or bridge is None or user is None:
        raise _invalid()
    lifetime = row["expires_at"] - row["issued_at"]
    if (row["expires_at"] - now) < lifetime * simulator().refresh_within_percent / 100:
        g.sim_refresh_token, _ = issue_token(
            subscription_id=row["subscription_id"],
            bridge_id=row["bridge_id"],
            user_id=row["user_id"],
            branch_id=row["branch_id"],
            lang_id=row["lang_id"],
        )
    g.sim_token_digest = row["digest"]
    return Session(subscription, bridge, user, row["branch_id"], row["lang_id"], row["issued_at"], row["expires_at"])


def bearer(view: F) -> F:
    """Require a valid WebApi token; the view receives the session as ``session``."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return view(*args, session=current_session(), **kwargs)

    return wrapper  # type: ignore[return-value]


def add_refresh_header(response: Response) -> Response:
    """After a request: hand out the renewed token, if one was issued, in ``x-es-refresh-token``."""
    token = g.pop("sim_refresh_token", None)
    if token is not None:
        response.headers[REFRESH_HEADER] = token
        response.headers["Access-Control-Expose-Headers"] = REFRESH_HEADER
    return response
