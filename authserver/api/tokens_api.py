"""`/api/v1/tokens` (personal access tokens) and `/api/v1/me` (who is calling, and the session's CSRF token)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf.csrf import generate_csrf

from authserver.api import tokens
from authserver.api.auth import api_account, protect, via_token
from authserver.api.schemas import Augmented, MeSchema, NewTokenSchema, TokenCreateSchema, TokenSchema
from authserver.extensions import db
from shared.api import Blueprint
from shared.errors import Forbidden

bp = protect(Blueprint("api_tokens", __name__, url_prefix="/api/v1", description="Personal access tokens"))


@bp.get("/me")
@bp.response(200, MeSchema)
def me() -> Any:
    """The calling account; with the session, also the CSRF token unsafe calls must send as X-CSRFToken."""
    return {"email": api_account().email, "csrf_token": None if via_token() else generate_csrf()}


@bp.get("/tokens")
@bp.response(200, TokenSchema(many=True))
def list_tokens() -> Any:
    """The caller's personal access tokens, newest first (never their values)."""
    return tokens.list_tokens(session=db.session, account=api_account())


@bp.post("/tokens")
@bp.arguments(TokenCreateSchema)
@bp.response(201, NewTokenSchema)
def create_token(data: dict[str, Any]) -> Any:
    """Create a token (session only: a token cannot make more tokens). Its value is answered this once."""
    if via_token():
        raise Forbidden("Create personal access tokens in the portal, signed in, not with another token.")
    new = tokens.create_token(
        session=db.session,
        account=api_account(),
        name=data["name"],
        lifetime_days=data["lifetime_days"],
        ip=request.remote_addr,
    )
    return Augmented(new.token, token=new.value)


@bp.delete("/tokens/<int:token_id>")
@bp.response(204)
def revoke_token(token_id: int) -> Any:
    """Revoke a token: it stops working at once."""
    row = tokens.owned_token(session=db.session, account=api_account(), token_id=token_id)
    tokens.revoke_token(session=db.session, account=api_account(), token=row, ip=request.remote_addr)
    return None
