"""The consent page (rendered for the authorize endpoint) and the end user's list of remembered consents."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for

from authserver.clients.service import RegisteredClient
from authserver.consent import service
from authserver.extensions import db
from authserver.oauth2.scopes import CATALOGUE
from authserver.signin.current import current_end_user
from authserver.signin.users import EndUser

__all__ = ["bp", "render_consent_page", "scopes_in_words"]

bp = Blueprint("consent", __name__, template_folder="templates")


def scopes_in_words(scopes: list[str] | tuple[str, ...]) -> list[str]:
    """What each scope allows, from the catalogue, in the order asked."""
    return [CATALOGUE[name].description if name in CATALOGUE else name for name in scopes]


def render_consent_page(
    *,
    client: RegisteredClient,
    user: EndUser,
    scopes: list[str],
    details: list[tuple[str, str]] | None,
    redirect_uri: str,
) -> Any:
    """The page that says who asks, for what, for which subscription and bridge, with Allow and Deny.

    The form posts back to the authorization request's own URL; "Remember" is offered only for plain
    app sign-in (no provider details).
    """
    body = render_template(
        "consent/consent.html",
        client=client,
        user=user,
        scopes=scopes_in_words(scopes),
        details=details or [],
        can_remember=details is None,
        destination=urlsplit(redirect_uri).netloc,
        action=request.full_path,
    )
    return make_response(body, 200)


@bp.get("/consent")
def remembered() -> Any:
    """The apps the signed-in end user allowed and asked to be remembered, each with a Revoke button."""
    user = current_end_user()
    if user is None:
        return redirect(url_for("signin.erp_signin", next=url_for("consent.remembered")))
    entries = service.list_consents(session=db.session, user=user)
    return render_template("consent/remembered.html", entries=entries, scopes_in_words=scopes_in_words)


@bp.post("/consent/<consent_id>/revoke")
def revoke(consent_id: str) -> Any:
    """Forget a remembered consent (the app asks again next time) and end that app's refresh tokens."""
    user = current_end_user()
    if user is None:
        return redirect(url_for("signin.erp_signin", next=url_for("consent.remembered")))
    if service.revoke_consent(session=db.session, user=user, consent_id=consent_id[:64]):
        flash("Revoked. The app will ask for your permission again.", "success")
    else:
        flash("That permission was already revoked.", "info")
    current_app.logger.info("end user %s revoked remembered consent", user.sub)
    return redirect(url_for("consent.remembered"))
