"""Registered OAuth clients (RFC 6749 §2, metadata names from RFC 7591 §2 and OIDC Registration §2)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from authserver.extensions import db


class OAuthClient(db.Model):  # type: ignore[name-defined]
    """A client of the authorization server: an internal service, a catalogue app, or a tenant's client.

    The secret is kept only as a SHA-256 digest. `id_token_signed_response_alg` signs both the client's
    access tokens and (later) its ID tokens. Tenant columns are set for clients that belong to a
    subscription and become the tokens' tenant claims; internal clients leave them empty.
    """

    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_secret_digest: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    grant_types: Mapped[list[str]] = mapped_column(JSON)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    # OIDC RP-Initiated Logout 1.0 §3.1: where the client may ask to be sent after signing the user out.
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    scope: Mapped[str] = mapped_column(Text, default="")
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(40))
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(10))
    is_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    # Space-separated audiences the client's tokens may be for; the first is the default.
    audience: Mapped[str | None] = mapped_column(String(200))
    subscription_id: Mapped[str | None] = mapped_column(String(64), index=True)
    subscription_gid: Mapped[str | None] = mapped_column(String(64))
    bridge_id: Mapped[str | None] = mapped_column(String(64))
    app: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    secret_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
