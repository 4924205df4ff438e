"""The invitation e-mail, with its "Confirm account" link built from ISSUER (never from the Host header)."""

from __future__ import annotations

from flask import current_app, render_template, url_for

from authserver.mail import send_mail
from authserver.users.service import Invitation

__all__ = ["send_invitation"]


def _days(seconds: int) -> str:
    days = max(1, round(seconds / 86400))
    return f"{days} day{'s' if days != 1 else ''}"


def send_invitation(invitation: Invitation) -> None:
    """E-mail the invitation to the user; raise MailError."""
    user = invitation.user
    subscription = user.subscription
    context = {
        "subject": f"Confirm your account for {subscription.company_name}",
        "link": str(current_app.config["ISSUER"]).rstrip("/") + url_for("users.invitation", token=invitation.token),
        "user": user,
        "subscription": subscription,
        "valid_for": _days(int(current_app.config["INVITATION_LIFETIME"])),
    }
    send_mail(
        to=user.email,
        subject=context["subject"],
        text=render_template("users/email/invitation.txt", **context),
        html=render_template("users/email/invitation.html", **context),
    )
