"""The fast lane of the two machine endpoints on every customer's request path (`shared.fast_lane`).

It answers a client-credentials token request and an introspection request
when they are fully valid, and passes everything else (errors, other grants, unusual requests) to the full
endpoints, which answer it as before (RFC 6749 §5.2 errors included). Nothing is checked differently: the
client is authenticated the way it was registered and read through the same cache; scopes and audience are
granted by `grants.granted_scopes`/`token_audience`; the token is minted by `mint_access_token`; the
introspected token is found by `find_token` and shown by `introspection_body`; requests are counted on the
token endpoint's one rate limit. What the lane skips is the per-request machinery of Flask, Werkzeug and
Authlib (request and response objects, routing, hooks, the grant dispatch): most of a token request's cost.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from authlib.oauth2.rfc6749.errors import OAuth2Error
from flask import Flask, current_app

from authserver.clients.service import RegisteredClient
from authserver.oauth2.endpoints import introspection_body, may_introspect
from authserver.oauth2.grants import granted_scopes, token_audience
from authserver.oauth2.limits import COUNTED
from authserver.oauth2.purge import maybe_purge
from authserver.oauth2.runtime import find_client, mint_access_token, oauth_state
from authserver.oauth2.token_kinds import find_token
from authserver.portal.security import security_headers
from shared.fast_lane import Answer, FastLane, Handler, read_body

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["install_fast_lane"]

_FORM = "application/x-www-form-urlencoded"
_MAX_BODY = 16 * 1024
_CREDENTIALS = frozenset({"client_id", "client_secret"})
_TOKEN_PARAMS = _CREDENTIALS | {"grant_type", "scope", "resource", "audience"}
_INTROSPECTION_PARAMS = _CREDENTIALS | {"token", "token_type_hint"}

Reply = tuple[int, dict[str, Any], dict[str, str]]  # status, JSON body, extra headers


def _form(body: bytes) -> dict[str, str] | None:
    """The form's fields, or None for anything the full endpoint should judge (bad encoding, a repeated field)."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        return None
    form = dict(pairs)
    return form if len(form) == len(pairs) else None


def _credentials(environ: WSGIEnvironment, form: dict[str, str]) -> tuple[str, str, str] | None:
    """(method, client id, secret) as presented, by exactly one method; None when unclear."""
    authorization = environ.get("HTTP_AUTHORIZATION")
    if authorization is None:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        return ("client_secret_post", client_id, secret) if client_id and secret else None
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or "client_secret" in form:
        return None
    try:
        client_id, colon, secret = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, secret = unquote(client_id), unquote(secret)  # RFC 6749 §2.3.1: form-encoded before Basic
    if not colon or not client_id or not secret or form.get("client_id", client_id) != client_id:
        return None
    return "client_secret_basic", client_id, secret


def _authenticated(environ: WSGIEnvironment, form: dict[str, str]) -> RegisteredClient | None:
    """The confidential client these credentials prove, by the method it registered; else None."""
    presented = _credentials(environ, form)
    if presented is None:
        return None
    method, client_id, secret = presented
    client = find_client(client_id)
    if client is None or client.token_endpoint_auth_method != method or not client.secret_matches(secret):
        return None
    return client


def _token(environ: WSGIEnvironment, form: dict[str, str]) -> Reply | None:
    if form.get("grant_type") != "client_credentials" or not form.keys() <= _TOKEN_PARAMS:
        return None
    retry_after = oauth_state().token_limit.retry_after(environ.get("REMOTE_ADDR") or "unknown")
    environ[COUNTED] = True
    if retry_after is not None:
        error = {"error": "temporarily_unavailable", "error_description": "rate limit exceeded"}
        return 429, error, {"Retry-After": str(retry_after)}
    client = _authenticated(environ, form)
    if client is None or "client_credentials" not in client.grant_types:
        return None
    targets = [form[name] for name in ("resource", "audience") if name in form]
    try:
        scopes = granted_scopes(client, form.get("scope"))
        audience = token_audience(client, targets, issuer=current_app.config["ISSUER"])
    except OAuth2Error:
        return None
    body = mint_access_token(client, scopes=scopes, audience=audience)
    maybe_purge()
    return 200, body, {}


def _introspection(environ: WSGIEnvironment, form: dict[str, str]) -> Reply | None:
    if not form.get("token") or not form.keys() <= _INTROSPECTION_PARAMS:
        return None
    client = _authenticated(environ, form)
    if client is None:
        return None
    found = find_token(form["token"], form.get("token_type_hint"))
    if found is None or found.is_expired() or found.is_revoked() or not may_introspect(client, found):
        return None  # the full endpoint answers {"active": false}
    return 200, introspection_body(found), {}


def _form_handler(answer: Callable[[WSGIEnvironment, dict[str, str]], Reply | None]) -> Handler:
    """A lane handler for a form endpoint: the small form body decoded, then `answer` asked."""

    def handle(environ: WSGIEnvironment, _: dict[str, Any]) -> Answer | None:
        body = read_body(environ, media_type=_FORM, limit=_MAX_BODY)
        form = _form(body) if body is not None else None
        reply = answer(environ, form) if form is not None else None
        if reply is None:
            return None
        status, document, extra = reply
        return Answer(status, json.dumps(document, separators=(",", ":")).encode(), tuple(extra.items()))

    return handle


def install_fast_lane(app: Flask) -> None:
    """Put the lane of the token and introspection endpoints in front of the app (inside ProxyFix, added later)."""
    headers = [
        ("Content-Type", "application/json"),
        ("Cache-Control", "no-store"),
        ("Pragma", "no-cache"),
        *security_headers(str(app.config["ISSUER"])).items(),
    ]
    handlers = {"oauth.token": _form_handler(_token), "oauth.introspect": _form_handler(_introspection)}
    app.wsgi_app = FastLane(app, handlers, headers=headers)  # type: ignore[method-assign]
