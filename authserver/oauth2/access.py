"""May this signed-in user use this client? The client's tenant must be the user's, then the directory decides."""

from __future__ import annotations

import re
import unicodedata

from flask import current_app

from authserver.clients.service import RegisteredClient
from authserver.signin.users import EndUser, SignInRefused

__all__ = ["check_app_access", "error_description"]

NOT_CONFIGURED = "ERP sign-in is not configured on this server."
_OUTSIDE_RFC6749 = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


def check_app_access(*, client: RegisteredClient, user: EndUser) -> None:
    """Raise `SignInRefused` unless `user` may use `client`: a client that belongs to a subscription (or bridge)
    serves only its users, and the ERP authenticator's `app_access` (seats, licences) must agree."""
    if client.subscription_id and client.subscription_id != user.subscription_id:
        raise SignInRefused(f"{client.name} belongs to another subscription.")
    if client.bridge_id and client.bridge_id != user.bridge_id:
        raise SignInRefused(f"{client.name} is connected to another Company ID.")
    authenticator = current_app.extensions.get("erp_authenticator")
    if authenticator is None:
        raise SignInRefused(NOT_CONFIGURED)
    authenticator.app_access(user=user, client=client)


def error_description(message: str, limit: int = 300) -> str:
    """`message` in the characters RFC 6749 §4.1.2.1 allows in `error_description` (accents dropped, quotes and
    backslashes replaced), at most `limit` long."""
    ascii_text = unicodedata.normalize("NFKD", message).encode("ascii", "ignore").decode()
    cleaned = _OUTSIDE_RFC6749.sub(" ", ascii_text.replace('"', "'").replace("\\", "/"))
    return " ".join(cleaned.split())[:limit] or "access denied"
