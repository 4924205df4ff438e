"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): end the end user's session, then return to
the client only to a `post_logout_redirect_uri` registered for it, and only when an ID token we issued
(`id_token_hint`) vouches for the request (§3). Without one the user is asked to confirm (§6)."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oidc.rpinitiated import EndSessionEndpoint as _EndSessionEndpoint
from flask import current_app, make_response, render_template, request
from flask_wtf.csrf import CSRFError, validate_csrf
from joserfc.errors import JoseError
from wtforms import ValidationError

from authserver.extensions import db
from authserver.keys.service import ensure_keys, published_jwks
from authserver.oauth2.runtime import oauth_state
from authserver.oauth2.views import bp
from authserver.signin.current import current_end_user, end_end_user_session
from shared.keys import SUPPORTED_ALGS
from shared.service import encryptor

__all__ = ["EndSessionEndpoint", "end_session"]

_PARAMS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "logout_hint", "ui_locales")


class EndSessionEndpoint(_EndSessionEndpoint):
    """Authlib's endpoint over our key set and end-user session."""

    def get_server_jwks(self) -> dict[str, Any]:
        """The published keys, which verify the ID tokens we issued (expired ones too, §2)."""
        ensure_keys(session=db.session, encryptor=encryptor(), algs=SUPPORTED_ALGS)
        return published_jwks(session=db.session, max_token_lifetime=current_app.config["MAX_TOKEN_LIFETIME"])

    def end_session(self, end_session_request: Any) -> None:
        """Sign the end user out (the portal's admin session is not touched)."""
        end_end_user_session()


def _confirmed() -> bool:
    if request.method != "POST" or request.form.get("confirm") != "yes":
        return False
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (CSRFError, ValidationError):
        return False
    return True


def _page(template: str, status: int = 200, **context: Any) -> Any:
    return make_response(render_template(template, **context), status)


@bp.route("/oauth/end-session", methods=["GET", "POST"])
def end_session() -> Any:
    """Sign the end user out for a client, then redirect to its registered post-logout URI or say so."""
    server = oauth_state().server
    try:
        validated = server.validate_endpoint_request("end_session")
    except (OAuth2Error, JoseError, ValueError) as error:  # §4: no redirect after an error
        return _page(
            "signin/message.html",
            400,
            title="Sign-out request not valid",
            message="The app asked to sign you out with a request this server cannot accept, so you were not sent "
            "back to it.",
            detail=getattr(error, "description", None) or "The ID token hint is not one this server issued.",
            alert=True,
        )
    if validated.needs_confirmation and not _confirmed():
        params = {name: request.values[name] for name in _PARAMS if request.values.get(name)}
        return _page("signin/end_session.html", user=current_end_user(), params=params, client=validated.client)
    response = server.create_endpoint_response("end_session", validated)
    if response is not None:
        return response
    return _page("signin/message.html", title="Signed out", message="You have signed out.")
