"""Authorization codes (RFC 6749 §4.1.2, RFC 7636, OIDC Core §3.1.2.5): issue, redeem once, detect replay.

A code is a random string the client sees once; only its SHA-256 digest is stored. Redeeming marks it used
in one conditional UPDATE, so two concurrent redemptions cannot both win. A code presented again after use
revokes the grant it started, with every token issued from it (RFC 6749 §4.1.2, §10.5), and is refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from authserver.oauth2.models import AuthorizationCode, UserGrant
from authserver.oauth2.user_grants import GrantRecord, as_utc, bulk, create_grant, revoke_grant
from authserver.signin.users import EndUser
from shared.secrets import digest

__all__ = ["RedeemedCode", "nonce_used", "redeem_code", "save_code"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RedeemedCode:
    """A code that was just redeemed, shaped as Authlib's `AuthorizationCodeMixin` expects."""

    grant: GrantRecord
    redirect_uri: str | None
    code_challenge: str
    code_challenge_method: str
    nonce: str | None

    @property
    def user(self) -> EndUser:
        """The user who allowed the request."""
        return self.grant.user

    def get_redirect_uri(self) -> str | None:
        """The redirect URI of the authorization request, if it named one (RFC 6749 §4.1.3)."""
        return self.redirect_uri

    def get_scope(self) -> str:
        """The granted scope."""
        return " ".join(self.grant.scopes)

    def get_nonce(self) -> str | None:
        """The OIDC nonce of the authorization request."""
        return self.nonce

    def get_auth_time(self) -> int:
        """When the user signed in."""
        return self.grant.user.auth_time


def save_code(
    *,
    session: Session,
    code: str,
    client_id: str,
    redirect_uri: str | None,
    scopes: list[str],
    user: EndUser,
    nonce: str | None,
    code_challenge: str,
    code_challenge_method: str,
    lifetime: int,
) -> str:
    """Store the code's digest with a new grant for `user`; return the grant id."""
    expires_at = datetime.now(UTC) + timedelta(seconds=lifetime)
    grant_id = create_grant(session=session, client_id=client_id, user=user, scopes=scopes, expires_at=expires_at)
    session.add(
        AuthorizationCode(
            code_digest=digest(code),
            grant_id=grant_id,
            client_id=client_id,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            nonce=nonce,
            expires_at=expires_at,
        )
    )
    session.commit()
    return grant_id


def redeem_code(*, session: Session, code: str, client_id: str) -> RedeemedCode | None:
    """Mark the code used and return it; None when unknown, expired, another client's, or used before.

    A code used before is a replay: the grant it started is revoked, with everything it issued.
    """
    now = datetime.now(UTC)
    code_digest = digest(code)
    row = session.get(AuthorizationCode, code_digest) if code else None
    if row is None or row.client_id != client_id:
        return None
    claimed = bulk(
        session,
        update(AuthorizationCode)
        .where(AuthorizationCode.code_digest == code_digest, AuthorizationCode.used_at.is_(None))
        .values(used_at=now),
    )
    session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        log.warning("authorization code replayed (grant %s, client %s): grant revoked", row.grant_id, client_id)
        revoke_grant(session=session, grant_id=row.grant_id)
        return None
    grant = session.get(UserGrant, row.grant_id)
    if as_utc(row.expires_at) <= now or grant is None or grant.revoked_at is not None:
        return None
    record = GrantRecord.from_row(grant)
    if record is None:
        return None
    return RedeemedCode(
        grant=record,
        redirect_uri=row.redirect_uri,
        code_challenge=row.code_challenge,
        code_challenge_method=row.code_challenge_method,
        nonce=row.nonce,
    )


def nonce_used(*, session: Session, client_id: str, nonce: str) -> bool:
    """True when a code was already issued to this client with this nonce (OIDC Core §3.1.2.1: replay)."""
    query = select(AuthorizationCode.code_digest).where(
        AuthorizationCode.client_id == client_id, AuthorizationCode.nonce == nonce
    )
    return session.execute(query.limit(1)).first() is not None
