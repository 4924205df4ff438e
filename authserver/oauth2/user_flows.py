"""Grants for signed-in users: authorization code (RFC 6749 §4.1) with PKCE S256 (RFC 7636, RFC 9700 §2.1.1)
and OpenID Connect (OIDC Core §3.1), and the refresh token (RFC 6749 §6) with rotation (RFC 9700 §4.14.2).

Each hook is an adapter: the storage rules live in `codes`, `refresh_tokens` and `user_grants`.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc6749.hooks import hooked
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7636.challenge import compare_s256_code_challenge
from authlib.oidc.core.grants import OpenIDCode as _OpenIDCode
from flask import current_app

from authserver.extensions import db
from authserver.oauth2 import codes, refresh_tokens
from authserver.oauth2.access import check_app_access, error_description
from authserver.oauth2.grants import USER_GRANT_AUTH_METHODS
from authserver.oauth2.runtime import mint_id_token, mint_user_tokens
from authserver.oauth2.scopes import parse_scope, user_scopes
from authserver.oauth2.user_grants import revoke_grant
from authserver.signin.users import SignInRefused

__all__ = ["AuthorizationCodeGrant", "OpenIDCode", "RefreshTokenGrant", "S256CodeChallenge"]

_MAX_NONCE = 255


def _with_refresh(client: Any, scopes: list[str]) -> bool:
    # OIDC Core §11: a refresh token only for `offline_access`, and only to clients registered for the grant.
    return "offline_access" in scopes and client.check_grant_type("refresh_token")


class S256CodeChallenge(CodeChallenge):
    """PKCE on every authorization request, public or confidential client (RFC 9700 §2.1.1), S256 only:
    `plain` (also the default when no method is named, RFC 7636 §4.3) is refused."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {"S256": compare_s256_code_challenge}

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        """RFC 7636 §4.4.1: require `code_challenge` with `code_challenge_method=S256`."""
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256; plain is not accepted.")
        super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """Codes stored as digests, single use, short-lived; a replayed code revokes what it issued."""

    TOKEN_ENDPOINT_AUTH_METHODS = USER_GRANT_AUTH_METHODS

    def validate_requested_scope(self) -> None:
        """RFC 6749 §3.3: only scopes the client holds that a user can grant (none asks for all of them)."""
        allowed = user_scopes(self.request.client.record.scopes)
        if any(scope not in allowed for scope in parse_scope(self.request.payload.scope)):
            raise InvalidScopeError("The client may not request this scope.")
        if len(self.request.payload.data.get("nonce") or "") > _MAX_NONCE:
            raise InvalidRequestError(f"The nonce may be at most {_MAX_NONCE} characters long.")

    def save_authorization_code(self, code: str, request: Any) -> None:
        """Store the code's digest, bound to client, redirect URI, PKCE challenge, nonce, scope and user."""
        data = request.payload.data
        codes.save_code(
            session=db.session,
            code=code,
            client_id=request.client.get_client_id(),
            redirect_uri=request.payload.redirect_uri,
            scopes=parse_scope(request.scope),
            user=request.user,
            nonce=data.get("nonce"),
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
            lifetime=int(current_app.config["AUTHORIZATION_CODE_LIFETIME"]),
        )

    def query_authorization_code(self, code: str, client: Any) -> codes.RedeemedCode | None:
        """Redeem the code (once); a replay revokes its grant and finds nothing."""
        return codes.redeem_code(session=db.session, code=code, client_id=client.get_client_id())

    def delete_authorization_code(self, authorization_code: codes.RedeemedCode) -> None:
        """Nothing to do: redeeming marked the code used, and it is kept to recognise a replay."""

    def authenticate_user(self, authorization_code: codes.RedeemedCode) -> Any:
        """The user who allowed the request."""
        return authorization_code.user

    @hooked
    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        """RFC 6749 §4.1.4: an access token, a refresh token with `offline_access`; OpenIDCode adds the ID token."""
        code: codes.RedeemedCode = self.request.authorization_code
        self.request.user = code.user
        scopes = list(code.grant.scopes)
        body = mint_user_tokens(
            self.client.record, grant=code.grant, scopes=scopes, with_refresh=_with_refresh(self.client, scopes)
        )
        return 200, body, self.TOKEN_RESPONSE_HEADER


class OpenIDCode(_OpenIDCode):
    """OIDC Core §3.1.2.1 nonce replay check and §3.1.3.6 ID token, signed with the client's algorithm."""

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        """True when this client already received a code for this nonce."""
        return codes.nonce_used(session=db.session, client_id=request.payload.client_id, nonce=nonce)

    def encode_id_token(self, token: dict[str, Any], request: Any) -> str:
        """The ID token for the code's user, with the code's nonce and the access token's `at_hash`."""
        code: codes.RedeemedCode = request.authorization_code
        return mint_id_token(
            request.client.record,
            user=code.user,
            scopes=parse_scope(token["scope"]),
            nonce=code.nonce,
            access_token=token["access_token"],
        )


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """Every use rotates the refresh token; presenting a used one revokes its whole family."""

    TOKEN_ENDPOINT_AUTH_METHODS = USER_GRANT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> refresh_tokens.FoundRefreshToken | None:
        """The presented token; a used one of this client's is reuse, which revokes the family."""
        found = refresh_tokens.find_refresh_token(session=db.session, token=refresh_token)
        if found is not None and found.used and found.check_client(self.request.client):
            self._claim(found)
        return found

    def authenticate_user(self, refresh_token: refresh_tokens.FoundRefreshToken) -> Any:
        """The user of the token's grant."""
        return refresh_token.grant.user

    def _claim(self, found: refresh_tokens.FoundRefreshToken) -> None:
        try:
            refresh_tokens.claim_refresh_token(session=db.session, found=found)
        except refresh_tokens.RefreshTokenReused:
            raise InvalidGrantError(
                "The refresh token was already used; every token of its grant is revoked."
            ) from None

    @hooked
    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        """RFC 6749 §6: a new access token and a new refresh token of the same family (and an ID token with
        `openid`, OIDC Core §12.2), while the user may still use the app (a seat or licence may have ended)."""
        found: refresh_tokens.FoundRefreshToken = self.request.refresh_token
        client = self.client.record
        try:
            check_app_access(client=client, user=found.grant.user)
        except SignInRefused as refusal:
            revoke_grant(session=db.session, grant_id=found.grant.id)
            raise InvalidGrantError(error_description(refusal.message)) from None
        self._claim(found)
        self.request.user = found.grant.user
        scopes = parse_scope(self.request.payload.scope) or list(found.grant.scopes)
        body = mint_user_tokens(client, grant=found.grant, scopes=scopes, with_refresh=True)
        if "openid" in scopes:
            body["id_token"] = mint_id_token(
                client, user=found.grant.user, scopes=scopes, nonce=None, access_token=body["access_token"]
            )
        return 200, body, self.TOKEN_RESPONSE_HEADER
