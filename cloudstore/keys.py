"""`cloudstore keys`: the auth server's signing key set."""

from __future__ import annotations

import click

from cloudstore.services import service_app

__all__ = ["keys_group"]


@click.group("keys")
def keys_group() -> None:
    """Signing keys."""


@keys_group.command("rotate")
@click.option("--alg", "algs", multiple=True, type=click.Choice(["ES256", "RS256"]), help="Only these algorithms.")
def rotate(algs: tuple[str, ...]) -> None:
    """Retire the active signing keys and create new ones; old public keys stay published while needed."""
    from authserver.extensions import db
    from authserver.keys.service import purge_expired_keys, rotate_keys
    from shared.keys import SUPPORTED_ALGS
    from shared.service import encryptor

    app = service_app("authserver")
    with app.app_context():
        new_ids = rotate_keys(session=db.session, encryptor=encryptor(), algs=algs or SUPPORTED_ALGS)
        purged = purge_expired_keys(session=db.session, max_token_lifetime=app.config["MAX_TOKEN_LIFETIME"])
    for kid in new_ids:
        click.echo(f"new signing key {kid}")
    click.echo(f"purged {purged} expired key(s)")
