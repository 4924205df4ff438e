"""The account e-mails: rendered from templates, with links built from ISSUER (never from the Host header)."""

from __future__ import annotations

from flask import current_app, render_template, url_for

from authserver.accounts.models import AdminAccount
from authserver.accounts.service import Registration
from authserver.accounts.tokens import CONFIRM, RESET, make_token
from authserver.mail import send_mail

__all__ = ["send_confirmation", "send_registration", "send_reset", "send_reset_unknown"]


def _link(endpoint: str, **values: str) -> str:
    return str(current_app.config["ISSUER"]).rstrip("/") + url_for(endpoint, **values)


def _duration(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def _send(template: str, *, to: str, subject: str, **context: object) -> None:
    context = {"subject": subject, **context}
    send_mail(
        to=to,
        subject=subject,
        text=render_template(f"accounts/email/{template}.txt", **context),
        html=render_template(f"accounts/email/{template}.html", **context),
    )


def send_confirmation(account: AdminAccount) -> None:
    """The link that confirms the address; raise MailError."""
    max_age = int(current_app.config["CONFIRM_LINK_MAX_AGE"])
    token = make_token(secret_key=current_app.secret_key, purpose=CONFIRM, account=account)  # type: ignore[arg-type]
    _send(
        "confirm",
        to=account.email,
        subject="Confirm your Cloud Store account",
        link=_link("accounts.confirm", token=token),
        valid_for=_duration(max_age),
    )


def send_registration(registration: Registration) -> None:
    """After Register: a confirmation link, or for a confirmed account a notice that someone tried again."""
    if registration.created or not registration.account.is_confirmed:
        send_confirmation(registration.account)
        return
    _send(
        "already_registered",
        to=registration.account.email,
        subject="Someone tried to register with your e-mail address",
        signin_link=_link("accounts.signin"),
        forgot_link=_link("accounts.forgot_password"),
    )


def send_reset(account: AdminAccount) -> None:
    """The link that sets a new password; raise MailError."""
    max_age = int(current_app.config["RESET_LINK_MAX_AGE"])
    token = make_token(secret_key=current_app.secret_key, purpose=RESET, account=account)  # type: ignore[arg-type]
    _send(
        "reset",
        to=account.email,
        subject="Reset your Cloud Store password",
        link=_link("accounts.reset_password", token=token),
        valid_for=_duration(max_age),
    )


def send_reset_unknown(email: str) -> None:
    """Tell an address without an account that a reset was asked for it (so both answers behave alike)."""
    _send(
        "reset_unknown",
        to=email,
        subject="Cloud Store password reset request",
        register_link=_link("accounts.register"),
    )
