"""`cloudstore clients`: register and manage the auth server's OAuth clients."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from cloudstore.services import service_app

__all__ = ["clients_group"]

_GRANTS = ["client_credentials", "authorization_code", "refresh_token"]


@contextmanager
def _session() -> Iterator[Any]:
    from authserver.extensions import db
    from shared.errors import Problem

    app = service_app("authserver")
    with app.app_context():
        try:
            yield db.session
        except Problem as exc:
            raise click.ClickException(exc.detail or exc.title) from None
        finally:
            db.session.remove()
            db.engine.dispose()


def _describe(client: Any) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "grant_types": list(client.grant_types),
        "scope": " ".join(client.scopes),
        "audience": " ".join(client.audiences) or None,
        "alg": client.alg,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "redirect_uris": list(client.redirect_uris),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        "is_internal": client.is_internal,
        "app": client.app,
        "subscription_id": client.subscription_id,
        "created_at": client.created_at.isoformat(),
    }


def _print_secret(new: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"client_id": new.client.client_id, "client_secret": new.client_secret}))
        return
    click.echo(f"client_id:     {new.client.client_id}")
    if new.client_secret is None:
        click.echo("A public client: it has no secret and must use PKCE (S256).", err=True)
        return
    click.echo(f"client_secret: {new.client_secret}")
    click.echo("Store the secret now: it is not kept and cannot be shown again.", err=True)


def _json_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(f)


@click.group("clients")
def clients_group() -> None:
    """OAuth clients of the auth server."""


@clients_group.command("create")
@click.option("--name", required=True, help="A name people recognise.")
@click.option(
    "--grant",
    "grants",
    multiple=True,
    type=click.Choice(_GRANTS),
    help="Grant type (repeat for several). [default: client_credentials; authorization_code with --public]",
)
@click.option("--scope", default="", help="Space-separated scopes from the catalogue.")
@click.option(
    "--audience", default=None, help="The service its tokens are for, e.g. resource_api (space-separated for several)."
)
@click.option(
    "--alg",
    type=click.Choice(["ES256", "RS256"]),
    default="ES256",
    show_default=True,
    help="Algorithm that signs its tokens.",
)
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Redirect URI (repeat for several).")
@click.option(
    "--post-logout-redirect-uri",
    "logout_uris",
    multiple=True,
    help="Where the client may send users after signing them out (repeat for several).",
)
@click.option(
    "--auth-method",
    type=click.Choice(["client_secret_basic", "client_secret_post"]),
    default="client_secret_basic",
    show_default=True,
    help="How it authenticates to the token endpoint.",
)
@click.option(
    "--public",
    is_flag=True,
    help="A public client (a browser or native app): no secret, PKCE S256 required; needs --redirect-uri.",
)
@click.option(
    "--internal/--external",
    "is_internal",
    default=None,
    help="An internal platform service (may hold internal scopes and introspect any token). "
    "[default: internal, external with --public or --app]",
)
@click.option("--app", "app_code", default=None, help="Make it the sign-in client of this catalogue app (its code).")
@_json_option
def create(
    name: str,
    grants: tuple[str, ...],
    scope: str,
    audience: str | None,
    alg: str,
    redirect_uris: tuple[str, ...],
    logout_uris: tuple[str, ...],
    auth_method: str,
    public: bool,
    is_internal: bool | None,
    app_code: str | None,
    as_json: bool,
) -> None:
    """Register a client and print its id and secret (the secret is shown only this once; a public client has none)."""
    from authserver.clients import service
    from authserver.store.catalogue.app_clients import register_app_client

    if is_internal is None:
        is_internal = not (public or app_code)
    metadata = {
        "name": name,
        "grant_types": grants or (("authorization_code",) if public else ("client_credentials",)),
        "scope": scope,
        "audience": audience,
        "alg": alg,
        "redirect_uris": redirect_uris,
        "post_logout_redirect_uris": logout_uris,
        "token_endpoint_auth_method": service.PUBLIC if public else auth_method,
        "is_internal": is_internal,
    }
    with _session() as session:
        if app_code:
            new = register_app_client(session=session, app_code=app_code, **metadata)
        else:
            new = service.create_client(session=session, **metadata)
    _print_secret(new, as_json)


@clients_group.command("list")
@_json_option
def list_(as_json: bool) -> None:
    """List the registered clients."""
    from authserver.clients import service

    with _session() as session:
        clients = [_describe(client) for client in service.list_clients(session=session)]
    if as_json:
        click.echo(json.dumps(clients))
        return
    for c in clients:
        click.echo(
            f"{c['client_id']}  {c['name']}  [{' '.join(c['grant_types'])}]  scope={c['scope']!r}"
            f"  audience={c['audience'] or '-'}  alg={c['alg']}"
        )


@clients_group.command("show")
@click.argument("client_id")
@_json_option
def show(client_id: str, as_json: bool) -> None:
    """Show one client (never its secret)."""
    from authserver.clients import service

    with _session() as session:
        description = _describe(service.get_client(session=session, client_id=client_id))
    if as_json:
        click.echo(json.dumps(description))
        return
    for key, value in description.items():
        click.echo(f"{key}: {' '.join(value) if isinstance(value, list) else value}")


@clients_group.command("rotate-secret")
@click.argument("client_id")
@_json_option
def rotate_secret(client_id: str, as_json: bool) -> None:
    """Give a client a new secret and print it; the old one stops working (running servers: within seconds)."""
    from authserver.clients import service

    with _session() as session:
        new = service.rotate_secret(session=session, client_id=client_id, cache=None)
    _print_secret(new, as_json)


@clients_group.command("delete")
@click.argument("client_id")
def delete(client_id: str) -> None:
    """Delete a client; its tokens stop being accepted by introspection (running servers: within seconds)."""
    from authserver.clients import service

    with _session() as session:
        service.delete_client(session=session, client_id=client_id, cache=None)
    click.echo(f"deleted client {client_id}")
