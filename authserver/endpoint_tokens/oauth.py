"""The OAuth server's view of endpoint tokens: an introspection/revocation kind (`token_type_hint=api_key`)
and a client resolver, so that a key works as client credentials (`client_id` = its `ept_…` id)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app

from authserver.clients.cache import TTLCache
from authserver.clients.service import RegisteredClient
from authserver.endpoint_tokens import lookup
from authserver.endpoint_tokens.keys import SCOPES
from authserver.extensions import db
from authserver.oauth2.runtime import client_cache
from authserver.oauth2.token_kinds import FoundToken, TokenKind
from shared.secrets import digests_match

__all__ = ["API_KEY", "KEY_STATES", "EndpointTokenClient", "forget_key_states", "key_states", "resolve_client"]

RESOURCE_AUDIENCE = "resource_api"


KEY_STATES = "endpoint_token_key_states"


def key_states() -> TTLCache[str, lookup.KeyState]:
    """This worker's recently read key states, by digest (ENDPOINT_TOKEN_CACHE_SECONDS)."""
    return current_app.extensions[KEY_STATES]  # type: ignore[no-any-return]


def forget_key_states() -> None:
    """After a revocation or rotation: this worker reads every key afresh (others within the cache's TTL)."""
    key_states().clear()


def _find(value: str) -> FoundToken | None:
    states = key_states()
    match = lookup.find_key(db.engine, value, states=states)
    if match is None:
        return None
    claims = lookup.claims_for(match.token, expires_at=match.expires_at)
    if match.active and lookup.touch(db.session, match.token):
        states.invalidate(match.digest)
    return FoundToken(kind=API_KEY, claims=claims, revoked=not match.active)


def _revoke(found: FoundToken) -> None:
    from authserver.endpoint_tokens.lifecycle import revoke_by_oauth  # it needs the gateway client

    revoke_by_oauth(token_id=str(found.claims["client_id"]))


API_KEY = TokenKind(name="api_key", hints=("api_key",), find=_find, revoke=_revoke)


@dataclass(frozen=True)
class EndpointTokenClient(RegisteredClient):
    """An endpoint token seen as a confidential client: its key (or, during the grace period, the previous
    key) is the secret; scope, audience and tenant claims come from the token."""

    secrets: tuple[tuple[str, float | None], ...] = ()  # (digest, valid until as a timestamp, None: no end)

    def secret_matches(self, secret: str) -> bool:
        """Constant-time check against each digest still valid now."""
        now = time.time()
        ok = False
        for stored, until in self.secrets:
            ok |= digests_match(stored, secret) and (until is None or now < until)
        return ok


def _load(token_id: str) -> EndpointTokenClient | None:
    token = lookup.key_state(db.engine, token_id)
    if token is None:
        return None
    now = datetime.now(UTC)
    active, ends = lookup.live_until(token, previous=False, now=now)
    if not active:
        return None
    secrets: list[tuple[str, float | None]] = [(token.key_digest, ends.timestamp() if ends else None)]
    grace_active, grace_ends = lookup.live_until(token, previous=True, now=now)
    if grace_active and token.previous_key_digest:
        secrets.append((token.previous_key_digest, grace_ends.timestamp() if grace_ends else None))
    client = EndpointTokenClient(
        client_id=token.id,
        client_secret_digest=None,
        name=token.title,
        grant_types=("client_credentials",),
        redirect_uris=(),
        scopes=SCOPES[token.endpoint_type],
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name
        alg="ES256",
        is_internal=False,
        audiences=(RESOURCE_AUDIENCE,),
        subscription_id=token.subscription_id,
        subscription_gid=str(token.subscription_gid),
        bridge_id=token.bridge_id,
        app=token.app_code,
        created_at=lookup.as_utc(token.created_at) or now,
        secrets=tuple(secrets),
    )
    lookup.touch(db.session, token, now=now)
    return client


def resolve_client(client_id: str) -> RegisteredClient | None:
    """The endpoint token `client_id` as a client while it works (cached with the other clients)."""
    return client_cache().get_or_load(client_id, lambda: _load(client_id))
