"""Client registration and lookup: create, rotate the secret, delete, list, show; cached reads for the hot path."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from authserver.clients.cache import TTLCache
from authserver.clients.models import OAuthClient
from authserver.oauth2.scopes import is_internal, parse_scope, unknown_scopes
from shared.errors import NotFound, Problem
from shared.keys import SUPPORTED_ALGS
from shared.secrets import digest, digests_match, random_token

__all__ = [
    "AUTH_METHODS",
    "GRANT_TYPES",
    "ClientCache",
    "PUBLIC",
    "InvalidClientMetadataError",
    "NewClient",
    "RegisteredClient",
    "create_client",
    "delete_client",
    "get_client",
    "list_clients",
    "load_client",
    "new_client_id",
    "rotate_secret",
    "set_redirect_uris",
]

# Grants a client may be registered for; implicit and password are never offered (OAuth 2.0 Security BCP §2.1.2, §2.4).
GRANT_TYPES = ("client_credentials", "authorization_code", "refresh_token")
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
# RFC 7591 §2: a public client (a browser or native app that cannot keep a secret) authenticates with `none`.
PUBLIC = "none"
# What a public client may be registered for: user grants only, since it proves nothing about itself.
_PUBLIC_GRANTS = ("authorization_code", "refresh_token")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")
_AUDIENCE = re.compile(r"^[A-Za-z0-9._:/-]{1,100}$")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class InvalidClientMetadataError(Problem):
    """Client metadata that cannot be registered (RFC 7591 §3.2.2 `invalid_client_metadata`)."""

    status = 422
    title = "Invalid client metadata"


@dataclass(frozen=True)
class RegisteredClient:
    """An immutable snapshot of a client row, safe to cache and share between threads."""

    client_id: str
    client_secret_digest: str | None
    name: str
    grant_types: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    token_endpoint_auth_method: str
    alg: str
    is_internal: bool
    audiences: tuple[str, ...]
    subscription_id: str | None
    subscription_gid: str | None
    bridge_id: str | None
    app: str | None
    created_at: datetime
    post_logout_redirect_uris: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: OAuthClient) -> RegisteredClient:
        """Snapshot an ORM row."""
        return cls(
            client_id=row.client_id,
            client_secret_digest=row.client_secret_digest,
            name=row.name,
            grant_types=tuple(row.grant_types),
            redirect_uris=tuple(row.redirect_uris),
            scopes=tuple(parse_scope(row.scope)),
            token_endpoint_auth_method=row.token_endpoint_auth_method,
            alg=row.id_token_signed_response_alg,
            is_internal=row.is_internal,
            audiences=tuple((row.audience or "").split()),
            subscription_id=row.subscription_id,
            subscription_gid=row.subscription_gid,
            bridge_id=row.bridge_id,
            app=row.app,
            # SQLite hands back naive datetimes; everything stored is UTC.
            created_at=row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC),
            post_logout_redirect_uris=tuple(row.post_logout_redirect_uris or ()),
        )

    @property
    def is_public(self) -> bool:
        """A public client: no secret, PKCE S256 is its only proof (RFC 6749 §2.1, RFC 9700 §2.1.1)."""
        return self.token_endpoint_auth_method == PUBLIC

    def secret_matches(self, secret: str) -> bool:
        """Constant-time check of a presented secret against the stored digest."""
        return self.client_secret_digest is not None and digests_match(self.client_secret_digest, secret)


@dataclass(frozen=True)
class NewClient:
    """A client just created or re-keyed, with its plain secret: shown once, never stored (None: a public client)."""

    client: RegisteredClient
    client_secret: str | None


ClientCache = TTLCache[str, RegisteredClient]


def new_client_id() -> str:
    """A random client id (144 bits) that never starts with '-', so a command line cannot take it for an option."""
    while (client_id := random_token(18)).startswith("-"):
        pass
    return client_id


def _now() -> datetime:
    return datetime.now(UTC)


def _check_redirect_uri(uri: str) -> None:
    parts = urlsplit(uri)
    loopback_http = parts.scheme == "http" and parts.hostname in _LOOPBACK
    if not (parts.scheme == "https" or loopback_http) or not parts.netloc or parts.fragment:
        raise InvalidClientMetadataError(
            f"redirect URI {uri!r} must be absolute https (or http on a loopback host) without a fragment"
        )


def _validate(
    *,
    name: str,
    grant_types: Sequence[str],
    scopes: list[str],
    audiences: list[str],
    alg: str,
    redirect_uris: Sequence[str],
    auth_method: str,
    is_internal_client: bool,
) -> None:
    problems = []
    if not name.strip() or len(name) > 200:
        problems.append("name must be 1 to 200 characters")
    if bad := [grant for grant in grant_types if grant not in GRANT_TYPES]:
        problems.append(f"unsupported grant types {bad}; choose from {list(GRANT_TYPES)}")
    if "authorization_code" in grant_types and not redirect_uris:
        problems.append("the authorization_code grant needs at least one redirect URI")
    if unknown := unknown_scopes(scopes):
        problems.append(f"scopes {unknown} are not in the catalogue")
    elif not is_internal_client and (internal := [s for s in scopes if is_internal(s)]):
        problems.append(f"scopes {internal} are reserved to internal clients")
    if bad := [aud for aud in audiences if not _AUDIENCE.match(aud)]:
        problems.append(f"invalid audiences {bad}")
    if alg not in SUPPORTED_ALGS:
        problems.append(f"alg must be one of {list(SUPPORTED_ALGS)}")
    if auth_method not in AUTH_METHODS:
        problems.append(f"token_endpoint_auth_method must be one of {list(AUTH_METHODS)}")
    elif auth_method == PUBLIC:
        if bad := [grant for grant in grant_types if grant not in _PUBLIC_GRANTS]:
            problems.append(f"token_endpoint_auth_method none (a public client) allows only {list(_PUBLIC_GRANTS)}")
        elif "authorization_code" not in grant_types:
            problems.append("token_endpoint_auth_method none (a public client) needs the authorization_code grant")
        if is_internal_client:
            problems.append("token_endpoint_auth_method none is not for internal clients, which hold a secret")
    if problems:
        raise InvalidClientMetadataError("; ".join(problems))
    for uri in redirect_uris:
        _check_redirect_uri(uri)


def create_client(
    *,
    session: Session,
    name: str,
    grant_types: Sequence[str] = ("client_credentials",),
    scope: str = "",
    audience: str | None = None,
    alg: str = "ES256",
    redirect_uris: Sequence[str] = (),
    token_endpoint_auth_method: str = "client_secret_basic",  # noqa: S107 - a method name, not a secret
    is_internal: bool = False,
    subscription_id: str | None = None,
    subscription_gid: str | None = None,
    bridge_id: str | None = None,
    app: str | None = None,
    post_logout_redirect_uris: Sequence[str] = (),
) -> NewClient:
    """Register a client and return it with its secret, which is shown this once and stored only as a digest
    (a public client, `token_endpoint_auth_method="none"`, gets no secret)."""
    scopes = parse_scope(scope)
    audiences = parse_scope(audience)
    _validate(
        name=name,
        grant_types=grant_types,
        scopes=scopes,
        audiences=audiences,
        alg=alg,
        redirect_uris=redirect_uris,
        auth_method=token_endpoint_auth_method,
        is_internal_client=is_internal,
    )
    for uri in post_logout_redirect_uris:
        _check_redirect_uri(uri)
    secret = None if token_endpoint_auth_method == PUBLIC else random_token(32)
    row = OAuthClient(
        client_id=new_client_id(),
        client_secret_digest=digest(secret) if secret else None,
        name=name.strip(),
        grant_types=list(dict.fromkeys(grant_types)),
        redirect_uris=list(dict.fromkeys(redirect_uris)),
        post_logout_redirect_uris=list(dict.fromkeys(post_logout_redirect_uris)),
        scope=" ".join(scopes),
        token_endpoint_auth_method=token_endpoint_auth_method,
        id_token_signed_response_alg=alg,
        is_internal=is_internal,
        audience=" ".join(audiences) or None,
        subscription_id=subscription_id,
        subscription_gid=subscription_gid,
        bridge_id=bridge_id,
        app=app,
        created_at=_now(),
    )
    session.add(row)
    session.commit()
    return NewClient(client=RegisteredClient.from_row(row), client_secret=secret)


def _row(session: Session, client_id: str) -> OAuthClient:
    row = session.get(OAuthClient, client_id) if _CLIENT_ID.match(client_id) else None
    if row is None:
        raise NotFound(f"There is no client {client_id!r}.")
    return row


def rotate_secret(*, session: Session, client_id: str, cache: ClientCache | None) -> NewClient:
    """Replace the client's secret; the old one stops working here at once, elsewhere within the cache TTL."""
    row = _row(session, client_id)
    if row.token_endpoint_auth_method == PUBLIC:
        raise InvalidClientMetadataError("A public client has no secret to rotate.")
    secret = random_token(32)
    row.client_secret_digest = digest(secret)
    row.secret_rotated_at = _now()
    session.commit()
    if cache is not None:
        cache.invalidate(client_id)
    return NewClient(client=RegisteredClient.from_row(row), client_secret=secret)


def set_redirect_uris(
    *,
    session: Session,
    client_id: str,
    redirect_uris: Sequence[str],
    post_logout_redirect_uris: Sequence[str],
    cache: ClientCache | None,
) -> RegisteredClient:
    """Replace where the client may send users back to (after sign-in and after sign-out)."""
    row = _row(session, client_id)
    if "authorization_code" in row.grant_types and not redirect_uris:
        raise InvalidClientMetadataError("the authorization_code grant needs at least one redirect URI")
    for uri in (*redirect_uris, *post_logout_redirect_uris):
        _check_redirect_uri(uri)
    row.redirect_uris = list(dict.fromkeys(redirect_uris))
    row.post_logout_redirect_uris = list(dict.fromkeys(post_logout_redirect_uris))
    session.commit()
    if cache is not None:
        cache.invalidate(client_id)
    return RegisteredClient.from_row(row)


def delete_client(*, session: Session, client_id: str, cache: ClientCache | None) -> None:
    """Delete the client; its tokens stop introspecting as active here at once, elsewhere within the cache TTL."""
    session.delete(_row(session, client_id))
    session.commit()
    if cache is not None:
        cache.invalidate(client_id)


def list_clients(*, session: Session) -> list[RegisteredClient]:
    """Every client, oldest first."""
    rows = session.execute(select(OAuthClient).order_by(OAuthClient.created_at, OAuthClient.client_id)).scalars()
    return [RegisteredClient.from_row(row) for row in rows]


def get_client(*, session: Session, client_id: str) -> RegisteredClient:
    """One client, read from the database; `NotFound` if there is none."""
    return RegisteredClient.from_row(_row(session, client_id))


def load_client(*, session: Session, client_id: str, cache: ClientCache) -> RegisteredClient | None:
    """The client for a token request: from the cache while fresh, else from the database; None if unknown."""
    if not client_id or not _CLIENT_ID.match(client_id):
        return None  # never send malformed ids (NUL bytes, huge strings) to the database

    def load() -> RegisteredClient | None:
        row = session.get(OAuthClient, client_id)
        return RegisteredClient.from_row(row) if row is not None else None

    return cache.get_or_load(client_id, load)
