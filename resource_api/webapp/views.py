"""The apps' own pages: `/apps/<code>/` (the web address the portal shows), sign-in, callback and sign-out.

Pages, not a JSON API: they stay out of the OpenAPI document, answer errors with a readable page, and every
form carries a CSRF token. The tenant shown is the one in the signed-in user's ID token, never the request's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from flask import Blueprint, Response, current_app, make_response, redirect, render_template, request
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from joserfc.errors import JoseError
from wtforms import ValidationError

from resource_api.extensions import db
from resource_api.webapp import service
from resource_api.webapp.signin import (
    SignedIn,
    client_for,
    forget_identity,
    remember_identity,
    signed_in,
)

__all__ = ["PAGES", "bp"]


@dataclass(frozen=True)
class AppPage:
    """One app's page: its name and template."""

    title: str
    template: str


PAGES = {
    "time-attendance": AppPage("Entersoft Time Attendance", "webapp/time_attendance.html"),
    "app-insights": AppPage("Entersoft Business Suite Application Insights", "webapp/app_insights.html"),
    "surveys": AppPage("Entersoft Surveys", "webapp/surveys.html"),
}
NOT_SET_UP = "Sign-in to this app is not set up on this server yet. Tell your Cloud Store operator."
UNREACHABLE = "The sign-in service cannot be reached right now. Try again in a few minutes."
STALE = "This sign-in link has expired or was already used. Sign in again."

bp = Blueprint("webapp", __name__, template_folder="templates", static_folder="static", static_url_path="/apps/_static")


@bp.after_request
def _headers(response: Response) -> Response:
    """No framing, no third-party content, nothing cached: these pages show a tenant's data."""
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if not request.path.startswith("/apps/_static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def _home_url(code: str) -> str:
    return f"{str(current_app.config['RESOURCE_API_URL']).rstrip('/')}/apps/{code}/"


def _page(code: str, template: str, status: int = 200, **context: Any) -> Response:
    body = render_template(template, code=code, app_page=PAGES.get(code), csrf_token=generate_csrf, **context)
    return make_response(body, status)


def _landing(code: str, status: int = 200, *, message: str | None = None, alert: bool = False) -> Response:
    """The signed-out page: what the app is, a Sign in button, and why the last attempt failed, if it did."""
    return _page(code, "webapp/landing.html", status, message=message, alert=alert)


def _unknown(code: str) -> Response:
    return _page(code, "webapp/unknown.html", 404)


@bp.get("/apps/<code>/")
def home(code: str) -> Response:
    """The app's page for the signed-in user's subscription and bridge; the Sign in page otherwise."""
    if code not in PAGES:
        return _unknown(code)
    identity = signed_in(code)
    if identity is None:
        return _landing(code, message=_signed_out_message(code))
    return _page(code, PAGES[code].template, user=identity, **_content(code, identity))


def _signed_out_message(code: str) -> str | None:
    """OIDC RP-Initiated Logout §3: back from the auth server with the state we sent, the user signed out."""
    client = client_for(code)
    if client is None or not request.args.get("state"):
        return None
    try:
        client.validate_logout_response()
    except OAuthError:
        return None
    return "You have signed out."


def _page_number() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and len(value) < 7 else 1


def _content(code: str, identity: SignedIn) -> dict[str, Any]:
    tenant = {"session": db.session, "subscription_id": identity.subscription_id, "bridge_id": identity.bridge_id}
    if code == "time-attendance":
        return {"punches": service.punch_page(**tenant, page=_page_number()), "labels": service.STATE_LABELS}
    if code == "app-insights":
        return service.insights_overview(**tenant)
    gid = request.args.get("campaign")
    return service.surveys_overview(**tenant, gid=gid if gid and len(gid) <= 100 else None)


def _set_up_client(code: str) -> tuple[Any, Response | None]:
    """The app's sign-in client, or the page to answer instead: an unknown app, or one not set up here."""
    if code not in PAGES:
        return None, _unknown(code)
    client = client_for(code)
    if client is None:
        return None, _landing(code, 503, message=NOT_SET_UP, alert=True)
    return client, None


@bp.get("/apps/<code>/signin")
def sign_in(code: str) -> Any:
    """Send the browser to the auth server's authorization endpoint (code flow, PKCE S256, state and nonce)."""
    client, refused = _set_up_client(code)
    if refused is not None:
        return refused
    try:
        return client.authorize_redirect(_home_url(code) + "callback")
    except (requests.RequestException, ValueError, RuntimeError) as exc:
        current_app.logger.warning("webapp: discovery at the auth server failed for %s: %s", code, type(exc).__name__)
        return _landing(code, 503, message=UNREACHABLE, alert=True)


@bp.get("/apps/<code>/callback")
def callback(code: str) -> Any:
    """The redirect URI: exchange the code, validate the ID token, and sign the user in to this app."""
    client, refused = _set_up_client(code)
    if refused is not None:
        return refused
    try:
        token = client.authorize_access_token()
    except MismatchingStateError:
        return _landing(code, 400, message=STALE, alert=True)
    except OAuthError as error:  # RFC 6749 §4.1.2.1: the auth server said why, in `error_description`
        if error.error == "access_denied":
            return _landing(code, 403, message=error.description or "The sign-in was refused.", alert=True)
        return _landing(code, 400, message=f"The sign-in did not complete ({error.error}). Sign in again.", alert=True)
    except JoseError:
        return _landing(code, 400, message="The sign-in answer could not be verified. Sign in again.", alert=True)
    except requests.RequestException as exc:
        current_app.logger.warning("webapp: token request failed for %s: %s", code, type(exc).__name__)
        return _landing(code, 503, message=UNREACHABLE, alert=True)
    identity = SignedIn.from_claims(dict(token.get("userinfo") or {}), str(token.get("id_token") or ""))
    if identity is None:
        return _landing(code, 403, message="Your sign-in does not name a subscription and Company ID.", alert=True)
    remember_identity(code, identity)
    return redirect(_home_url(code), 303)


@bp.post("/apps/<code>/signout")
def sign_out(code: str) -> Any:
    """End the session here, then at the auth server (RP-Initiated Logout §2), which sends the browser back."""
    if code not in PAGES:
        return _unknown(code)
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (CSRFError, ValidationError):
        return _landing(code, 400, message="The sign-out form expired. Reload the page and try again.", alert=True)
    identity = forget_identity(code)
    client = client_for(code)
    if identity is None or client is None:
        return redirect(_home_url(code), 303)
    try:
        return client.logout_redirect(post_logout_redirect_uri=_home_url(code), id_token_hint=identity.id_token)
    except (requests.RequestException, RuntimeError) as exc:
        current_app.logger.warning("webapp: end-session failed for %s: %s", code, type(exc).__name__)
        return _landing(code, message="You have signed out of this app.")
