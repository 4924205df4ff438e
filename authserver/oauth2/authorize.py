"""The authorization endpoint (RFC 6749 §3.1, §4.1; OIDC Core §3.1.2): ERP sign-in, app access, consent, code.

GET validates the request, sends a visitor to the ERP sign-in page (which can only return here), checks that
the user may use the client's app, then asks for consent unless the user asked to remember it. The consent
form posts back to the same URL. Every redirect to the client carries `state` and `iss` (RFC 9207); a request
whose client or redirect URI cannot be trusted gets an error page and is never redirected (RFC 6749 §4.1.2.1).
"""

from __future__ import annotations

import time
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import AccessDeniedError, OAuth2Error
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from flask import Response, current_app, make_response, redirect, render_template, request, url_for

from authserver.consent import collect_details
from authserver.consent import service as consents
from authserver.consent.views import render_consent_page
from authserver.extensions import db
from authserver.oauth2.access import check_app_access, error_description
from authserver.oauth2.runtime import oauth_state
from authserver.oauth2.scopes import parse_scope
from authserver.oauth2.views import bp
from authserver.signin.current import current_end_user, take_fresh_sign_in
from authserver.signin.users import EndUser, SignInRefused
from authserver.signin.views import signin_url

__all__ = ["authorize"]

BAD_REQUEST = (
    "The app that sent you here is not registered with this server, or asked to send you back to an address it "
    "is not registered for, so you were not sent back. Go back to the app and try again, or tell its support."
)


def _with_iss(response: Response) -> Response:
    """RFC 9207 §2: every authorization response, error or not, names the issuer."""
    if response.location:
        response.location = add_params_to_uri(response.location, {"iss": current_app.config["ISSUER"]})
    return response


def _error(error: OAuth2Error) -> Response:
    """A redirect with the error when the redirect URI was validated, else an error page (RFC 6749 §4.1.2.1)."""
    if not error.redirect_uri:
        body = render_template(
            "signin/message.html",
            title="This sign-in link does not work",
            message=BAD_REQUEST,
            detail=f"{error.error}: {error.description}" if error.description else error.error,
            alert=True,
        )
        return make_response(body, 400)
    return _with_iss(oauth_state().server.handle_error_response(None, error))


def _this_request() -> str:
    query = request.query_string.decode("utf-8", "replace")
    return url_for("oauth.authorize") + (f"?{query}" if query else "")


def _must_sign_in_again(user: EndUser, prompts: set[str], fresh: bool) -> bool:
    """OIDC Core §3.1.2.1: `prompt=login`, or a sign-in older than `max_age` (asked on GET only)."""
    if request.method != "GET" or fresh:
        return False
    max_age = request.args.get("max_age", "")
    too_old = max_age.isdigit() and time.time() - user.auth_time > int(max_age)
    return "login" in prompts or too_old


def _issue(grant: Any, user: EndUser) -> Response:
    return _with_iss(oauth_state().server.create_authorization_response(grant=grant, grant_user=user))


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize() -> Any:
    """Authorize the client's request for the signed-in end user (GET: check and ask; POST: Allow or Deny)."""
    server = oauth_state().server
    fresh = take_fresh_sign_in() if request.method == "GET" else False
    user = current_end_user()
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return _error(error)
    state = grant.request.payload.state
    prompts = set((grant.request.payload.data.get("prompt") or "").split())
    if user is None or _must_sign_in_again(user, prompts, fresh):
        if "none" in prompts:
            return _error(LoginRequiredError(redirect_uri=grant.redirect_uri, state=state))
        return redirect(signin_url(_this_request()))
    client = grant.client.record
    try:
        check_app_access(client=client, user=user)
        details = collect_details(
            current_app.extensions["consent_details"], client=client, params=request.args.to_dict(), user=user
        )
    except SignInRefused as refusal:
        denied = AccessDeniedError(error_description(refusal.message), redirect_uri=grant.redirect_uri, state=state)
        return _error(denied)
    scopes = parse_scope(grant.request.scope)
    lifetime = int(current_app.config["REMEMBERED_CONSENT_LIFETIME"])
    if request.method == "POST" and request.form.get("sub") == user.sub:  # decided by the user who was asked
        decision = request.form.get("decision")
        if decision == "deny":
            return _with_iss(server.create_authorization_response(grant=grant, grant_user=None))
        if decision != "allow":
            return _error(AccessDeniedError("No decision was made.", redirect_uri=grant.redirect_uri, state=state))
        if details is None and request.form.get("remember") == "yes":
            consents.remember_consent(
                session=db.session, user=user, client_id=client.client_id, scopes=scopes, lifetime=lifetime
            )
        return _issue(grant, user)
    remembered = details is None and "consent" not in prompts
    if remembered and consents.is_remembered(
        session=db.session, user=user, client_id=client.client_id, scopes=scopes, lifetime=lifetime
    ):
        return _issue(grant, user)
    if "none" in prompts:
        return _error(ConsentRequiredError(redirect_uri=grant.redirect_uri, state=state))
    return render_consent_page(
        client=client, user=user, scopes=scopes, details=details, redirect_uri=grant.redirect_uri
    )
