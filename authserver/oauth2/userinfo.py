"""The UserInfo endpoint (OIDC Core §5.3): claims about the user of a bearer access token that holds `openid`.

The token comes in the Authorization header (RFC 6750 §2.1) or, on POST, the form body (§2.2), never the URL;
errors are RFC 6750 §3 answers with `WWW-Authenticate`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, current_app, jsonify, request

from authserver.extensions import db
from authserver.oauth2 import tokens
from authserver.oauth2.oidc import user_claims
from authserver.oauth2.runtime import find_client, verify_jwt
from authserver.oauth2.scopes import parse_scope
from authserver.oauth2.user_grants import find_active_grant
from authserver.oauth2.views import bp

__all__ = ["userinfo"]


def _challenge(status: int, error: str | None = None, description: str | None = None, **attributes: str) -> Response:
    """RFC 6750 §3: the status, `WWW-Authenticate: Bearer ...` and, with an error code, the JSON body."""
    params = {"realm": current_app.config["ISSUER"], **attributes}
    if error:
        params |= {"error": error, "error_description": description or error}
    response = jsonify({"error": error, "error_description": description}) if error else Response(status=status)
    response.status_code = status
    response.headers["WWW-Authenticate"] = "Bearer " + ", ".join(f'{key}="{value}"' for key, value in params.items())
    return response


def _presented_token() -> tuple[str | None, Response | None]:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    from_header = value.strip() if scheme.lower() == "bearer" else None
    if header and from_header is None:
        return None, _challenge(401, "invalid_token", "Use the Bearer scheme.")
    from_body = request.form.get("access_token") if request.method == "POST" else None
    if from_header and from_body:
        return None, _challenge(400, "invalid_request", "Send the access token once.")
    return from_header or from_body, None


@bp.route("/oauth/userinfo", methods=["GET", "POST"])
def userinfo() -> Any:
    """The signed-in user's claims, as far as the token's scopes release them."""
    token, refused = _presented_token()
    if refused is not None:
        return refused
    if not token:
        return _challenge(401)
    claims = verify_jwt(token)
    invalid = "The access token is expired, revoked, or not one of this server's."
    if claims is None or find_client(claims["client_id"]) is None:
        return _challenge(401, "invalid_token", invalid)
    grant = find_active_grant(session=db.session, grant_id=str(claims.get("grant_id", "")), now=datetime.now(UTC))
    if grant is None or grant.user.sub != claims["sub"] or tokens.is_revoked(engine=db.engine, jti=claims["jti"]):
        return _challenge(401, "invalid_token", invalid)
    scopes = parse_scope(claims.get("scope"))
    if "openid" not in scopes:
        return _challenge(403, "insufficient_scope", "The access token lacks the openid scope.", scope="openid")
    return jsonify(user_claims(grant.user, scopes))
