"""Portal accounts: registration with e-mail confirmation, sign-in, password reset, roles."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from authserver.portal import client_address, form_field_key, limit_endpoint

__all__ = ["init_app"]

DEFAULTS = {
    "CONFIRM_LINK_MAX_AGE": 2 * 86400,
    "RESET_LINK_MAX_AGE": 3600,
    "SIGNIN_LIMIT_PER_ADDRESS": "30 per minute",
    "SIGNIN_LIMIT_PER_EMAIL": "10 per minute",
    "MAIL_LIMIT_PER_ADDRESS": "20 per hour",
    "MAIL_LIMIT_PER_EMAIL": "5 per hour",
}


def init_app(app: Flask) -> None:
    """Register the account pages, Flask-Login and their rate limits."""
    from authserver.accounts import models as _models  # noqa: F401 - registers the table
    from authserver.accounts.access import init_login
    from authserver.accounts.views import bp

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    init_login(app)
    bp.cli.add_command(set_role_command)
    app.register_blueprint(bp)

    email = form_field_key("email")
    limit_endpoint(app, "accounts.signin", "SIGNIN_LIMIT_PER_ADDRESS", key=client_address)
    limit_endpoint(app, "accounts.signin", "SIGNIN_LIMIT_PER_EMAIL", key=email)
    for endpoint in ("accounts.register", "accounts.forgot_password", "accounts.resend_confirmation"):
        limit_endpoint(app, endpoint, "MAIL_LIMIT_PER_ADDRESS", key=client_address, scope="mail-address")
        limit_endpoint(app, endpoint, "MAIL_LIMIT_PER_EMAIL", key=email, scope="mail-email")


@click.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(["admin", "operator"]))
@with_appcontext
def set_role_command(email: str, role: str) -> None:
    """Make the account with EMAIL an admin or an operator (operators run the store)."""
    from authserver.accounts import service
    from authserver.extensions import db

    try:
        account = service.set_role(session=db.session, email=email, role=role)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{account.email} is now {account.role}")
