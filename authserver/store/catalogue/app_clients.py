"""Catalogue apps as OpenID Connect clients (seed 000, last section; DESIGN §4 "App sign-in").

An app's users sign in to it through this server, so each app is a confidential client bound to the app
(`OAuthClient.app` = `App.code`): the directory then admits only users holding a seat of an unexpired licence
of it. The apps whose pages the resource API serves get their client here, idempotently; an app hosted
elsewhere is linked by an operator with `cloudstore clients create ... --app CODE`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from authserver import audit
from authserver.clients.models import OAuthClient
from authserver.clients.service import NewClient, create_client, rotate_secret, set_redirect_uris
from authserver.store.models import App
from shared.errors import NotFound
from shared.secrets import digests_match

__all__ = [
    "APP_GRANTS",
    "APP_SCOPE",
    "AppClient",
    "app_client_uris",
    "ensure_app_clients",
    "register_app_client",
    "served_by_resource_api",
]

APP_GRANTS = ("authorization_code", "refresh_token")
APP_SCOPE = "openid profile email"


@dataclass(frozen=True)
class AppClient:
    """The credentials an app's pages sign users in with; the secret stays with whoever runs the pages."""

    code: str
    client_id: str
    client_secret: str


def served_by_resource_api(app: App) -> bool:
    """The resource API holds the data of apps with an Integration Endpoint, and serves their pages unless the
    operator gave the app an address of its own."""
    return app.endpoint_type is not None and not app.web_address


def app_client_uris(resource_api_url: str, code: str) -> tuple[list[str], list[str]]:
    """(redirect URIs, post-logout redirect URIs) of the app's pages on the resource API."""
    home = f"{resource_api_url.rstrip('/')}/apps/{code}/"
    return [home + "callback"], [home]


def _app(session: Session, code: str) -> App:
    app = session.execute(select(App).where(App.code == code)).scalar_one_or_none()
    if app is None:
        raise NotFound(f"There is no app {code!r} in the catalogue.")
    return app


def register_app_client(*, session: Session, app_code: str, **client: Any) -> NewClient:
    """Register a client for the app (keyword arguments as `create_client`) and make it the app's client."""
    app = _app(session, app_code)
    new = create_client(session=session, app=app.code, **client)
    app.oauth_client_id = new.client.client_id
    audit.record(
        session=session,
        event="store.app_client_linked",
        actor=audit.SYSTEM,
        app=app.code,
        client_id=new.client.client_id,
    )
    session.commit()
    return new


def _ensure(session: Session, app: App, resource_api_url: str, held: Sequence[str] | None) -> AppClient:
    redirect_uris, logout_uris = app_client_uris(resource_api_url, app.code)
    row = session.get(OAuthClient, app.oauth_client_id) if app.oauth_client_id else None
    if row is None or row.app != app.code:
        new = register_app_client(
            session=session,
            app_code=app.code,
            name=app.name,
            grant_types=APP_GRANTS,
            scope=APP_SCOPE,
            redirect_uris=redirect_uris,
            post_logout_redirect_uris=logout_uris,
        )
        return AppClient(app.code, new.client.client_id, str(new.client_secret))
    if row.redirect_uris != redirect_uris or row.post_logout_redirect_uris != logout_uris:
        set_redirect_uris(
            session=session,
            client_id=row.client_id,
            redirect_uris=redirect_uris,
            post_logout_redirect_uris=logout_uris,
            cache=None,
        )
    if held and held[0] == row.client_id and digests_match(row.client_secret_digest or "", held[1]):
        return AppClient(app.code, row.client_id, held[1])
    # The secret is shown only once: a caller that lost it gets a new one for the same client.
    new = rotate_secret(session=session, client_id=row.client_id, cache=None)
    audit.record(session=session, event="store.app_client_rekeyed", actor=audit.SYSTEM, app=app.code)
    session.commit()
    return AppClient(app.code, row.client_id, str(new.client_secret))


def ensure_app_clients(
    *, session: Session, resource_api_url: str, held: Mapping[str, Sequence[str]] | None = None
) -> dict[str, AppClient]:
    """Make sure every app served by the resource API has its client, with redirect URIs on `resource_api_url`;
    `held` maps app codes to the (client_id, client_secret) the caller kept from last time, which stay valid."""
    apps = session.execute(select(App).order_by(App.position, App.id)).scalars().all()
    held = held or {}
    return {
        app.code: _ensure(session, app, resource_api_url, held.get(app.code))
        for app in apps
        if served_by_resource_api(app)
    }
