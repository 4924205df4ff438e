"""The ERP sign-in page and its Branch ID lookup: parse, call the sign-in service, answer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, current_app, jsonify, make_response, redirect, render_template, request, url_for

from authserver.oauth2.runtime import find_client
from authserver.signin import service
from authserver.signin.current import current_end_user, start_end_user_session
from authserver.signin.forms import ErpSignInForm
from authserver.signin.throttle import FailureTracker
from authserver.signin.users import ErpAuthenticator, ErpUnavailable, SignInRefused
from shared.errors import Problem, ServiceUnavailable, ValidationProblem

__all__ = ["bp", "current_authenticator", "safe_next", "signin_url"]

bp = Blueprint(
    "signin", __name__, template_folder="templates", static_folder="static", static_url_path="/signin/static"
)

NOT_CONFIGURED = (
    "ERP sign-in is not configured on this server, so nobody can sign in with ERP credentials here yet. "
    "Contact the administrator of this Cloud Store."
)
# Where a sign-in may return to: the authorization request that sent the user here, or their own consent list.
_RETURN_ENDPOINTS = ("oauth.authorize", "consent.remembered")


def current_authenticator() -> ErpAuthenticator | None:
    """The app's ERP authenticator, or None when none is configured."""
    return current_app.extensions.get("erp_authenticator")


def safe_next(target: str | None) -> str | None:
    """`target` if it is a local path to an endpoint a sign-in may return to, else None (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    allowed = {url_for(endpoint) for endpoint in _RETURN_ENDPOINTS if endpoint in current_app.view_functions}
    return target if parts.path in allowed else None


def signin_url(next_path: str) -> str:
    """The sign-in page that returns to `next_path` afterwards."""
    return url_for("signin.erp_signin", next=next_path)


def _client_name(target: str | None) -> str | None:
    client_ids = parse_qs(urlsplit(target).query).get("client_id", []) if target else []
    client = find_client(client_ids[0]) if len(client_ids) == 1 else None
    return client.name if client is not None else None


def _tracker() -> FailureTracker:
    return current_app.extensions["erp_signin_failures"]


def _page(form: ErpSignInForm, target: str | None, status: int = 200) -> Any:
    body = render_template(
        "signin/erp_signin.html", form=form, client_name=_client_name(target), user=current_end_user(), next=target
    )
    return make_response(body, status)


@bp.route("/signin/erp", methods=["GET", "POST"])
def erp_signin() -> Any:
    """Sign in with User ID, Password, Company ID and Branch ID, checked live against the ERP."""
    authenticator = current_authenticator()
    if authenticator is None:
        return make_response(
            render_template("signin/message.html", title="Sign-in unavailable", message=NOT_CONFIGURED), 503
        )
    target = safe_next(request.args.get("next"))
    form = ErpSignInForm()
    if not form.validate_on_submit():
        return _page(form, target)
    try:
        user = service.sign_in(
            authenticator=authenticator,
            tracker=_tracker(),
            login=form.login.data,
            password=form.password.data,
            company_id=form.company_id.data,
            branch_id=form.branch_id.data,
            now=datetime.now(UTC),
        )
    except SignInRefused as refusal:
        form.form_errors.append(refusal.message)
        status = (
            429 if isinstance(refusal, service.SignInThrottled) else 503 if isinstance(refusal, ErpUnavailable) else 200
        )
        return _page(form, target, status)
    start_end_user_session(user)
    return redirect(target or url_for("consent.remembered"))


class _BranchesRefused(Problem):
    status = 422
    title = "No branches"


@bp.post("/signin/branches")
def branches() -> Any:
    """The Branch IDs this User ID may sign in to at this Company ID, as JSON (same origin, CSRF header)."""
    authenticator = current_authenticator()
    if authenticator is None:
        raise ServiceUnavailable(NOT_CONFIGURED)
    body = request.get_json(silent=True)
    data = body if isinstance(body, dict) else {}
    login, company_id = str(data.get("login") or "").strip(), str(data.get("company_id") or "").strip()
    errors = {name: ["Required."] for name, value in (("login", login), ("company_id", company_id)) if not value}
    errors |= {
        name: ["Too long."] for name, value in (("login", login), ("company_id", company_id)) if len(value) > 200
    }
    if errors:
        raise ValidationProblem(errors)
    try:
        found = service.list_branches(authenticator=authenticator, login=login, company_id=company_id)
    except ErpUnavailable as refusal:
        raise ServiceUnavailable(refusal.message) from None
    except SignInRefused as refusal:
        raise _BranchesRefused(refusal.message) from None
    return jsonify(branches=[{"id": branch_id, "name": name} for branch_id, name in found])
