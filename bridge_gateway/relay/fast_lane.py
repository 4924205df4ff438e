"""The relay's fast lane: a relayed EBS call answered in front of Flask (`shared.fast_lane`).

Nearly every call the gateway serves is a relay, and Flask's per-request machinery (request and response objects,
flask-smorest's dispatch, the hooks) cost more than the relay's own work. The lane makes the view's checks with
the view's functions, in the view's order: the service token (`auth.service_claims`: `require_service_token`'s
verifier, scope, service-token and tenant rules), the bridge (`relay_channel`), the call (`prepare_relay`: path,
query, X-ESPQOptions, JSON body). A call that fails any of them, or that the lane does not fully understand (a
body that is not small JSON, a chunked body, an undecodable query or path), reaches nothing upstream and goes on
to Flask, which answers it as always.

Once a call is sent (`send_relay`) the lane answers it itself, whatever happens, so that no call is ever sent
twice: EBS's answer with the view's headers (`answer_headers`), a problem rendered by the app's own renderer
(`render_problem`), or for anything unexpected the app's logged 500 (`unexpected_error_response`). The call is
audited and counted by the same functions as Flask's hooks (`start_audit`, `finish_audit`, `call_outcome`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from flask import Flask, Response, current_app, g
from werkzeug.datastructures import MultiDict

from bridge_gateway.audit import call_outcome, finish_audit, start_audit
from bridge_gateway.auth import SCOPE_RELAY, service_claims
from bridge_gateway.errors import render_problem
from bridge_gateway.extensions import db
from bridge_gateway.relay.service import RelayCall, answer_headers, prepare_relay, send_relay
from bridge_gateway.relay.views import relay_channel
from bridge_gateway.upstream import BridgeChannel
from shared.errors import Problem, unexpected_error_response
from shared.fast_lane import Answer, FastLane, read_body

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["ENDPOINT", "install_fast_lane"]

log = logging.getLogger(__name__)

ENDPOINT = "relay.relay"
_OPERATION = ENDPOINT.rsplit(".", 1)[-1]  # what Flask's audit hook names the call
_ARGUMENTS = ("subscription_id", "bridge_id", "ebs_path")
_JSON = "application/json"
_MAX_BODY = 64 * 1024  # larger bodies (up to MAX_CONTENT_LENGTH) take Flask's path


def _body(environ: WSGIEnvironment) -> bytes | None:
    """The request body: empty, or small JSON put back for Flask; None for anything else."""
    if "HTTP_TRANSFER_ENCODING" in environ:
        return None
    if environ.get("CONTENT_LENGTH") in (None, "", "0"):
        return b""
    limit = min(_MAX_BODY, current_app.config.get("MAX_CONTENT_LENGTH") or _MAX_BODY)
    return read_body(environ, media_type=_JSON, limit=limit)


def _query(environ: WSGIEnvironment) -> list[tuple[str, str]] | None:
    """The query's pairs as `request.args.items(multi=True)` gives them (grouped by name in order of first
    appearance, repeats kept); None when it does not decode (Werkzeug would keep such bytes percent-encoded)."""
    query = environ.get("QUERY_STRING", "")
    if not query:
        return []
    try:
        pairs = parse_qsl(query.encode("latin-1").decode("utf-8"), keep_blank_values=True, errors="strict")
    except ValueError:  # UnicodeError included
        return None
    return list(MultiDict(pairs).items(multi=True))


def _forwarded(environ: WSGIEnvironment) -> dict[str, str]:
    """The request headers `prepare_relay` looks at, as Werkzeug's headers give them."""
    value = environ.get("HTTP_X_ESPQOPTIONS")
    return {} if value is None else {"X-ESPQOptions": value}


def _relay(environ: WSGIEnvironment, arguments: dict[str, Any]) -> Answer | None:
    """The view's checks, then the call; None (nothing sent) when any check fails."""
    start_audit()
    method = environ["REQUEST_METHOD"]
    subscription_id, bridge_id, path = (arguments[name] for name in _ARGUMENTS)
    body, query = _body(environ), _query(environ)
    if body is None or query is None:
        return None
    claims = service_claims(environ.get("HTTP_AUTHORIZATION", ""), SCOPE_RELAY, subscription_id)
    if claims is None:
        return None
    g.token_claims = claims
    try:
        channel = relay_channel(subscription_id, bridge_id, method, path)
        call = prepare_relay(method=method, path=path, query=query, headers=_forwarded(environ), body=body)
    except Problem:
        return None
    db.session.remove()  # nothing more needs the database: its connection goes back to the pool during the call
    return _send(channel, call, arguments)


def _send(channel: BridgeChannel, call: RelayCall, arguments: dict[str, Any]) -> Answer:
    """Send the call and answer it, whatever happens: the call is never handed to Flask once sent."""
    try:
        relayed = send_relay(channel, call)
        status, body, headers = relayed.status, relayed.body, answer_headers(relayed)
    except Exception as exc:  # noqa: BLE001 - every failure is answered here, as Flask's handlers answer it
        status, body, headers = _failure(exc)
    try:
        finish_audit(_OPERATION, arguments, status, call_outcome(status, body, is_json=True))
    except Exception:  # noqa: BLE001 - the answer stands; a lost row is logged
        log.exception("relayed call answered %s but not recorded", status)
    return Answer(status, body, headers)


def _failure(exc: Exception) -> tuple[int, bytes, tuple[tuple[str, str], ...]]:
    """A failure as the app's error handlers answer it: a problem rendered, anything else the logged 500."""
    if isinstance(exc, Problem):
        try:
            return _parts(render_problem(exc))
        except Exception as broken:  # noqa: BLE001 - a problem that cannot be rendered is a 500 like any other
            exc = broken
    return _parts(unexpected_error_response(exc))


def _parts(response: Response) -> tuple[int, bytes, tuple[tuple[str, str], ...]]:
    """A rendered response as the lane answers it (the lane sets Content-Length and X-Request-ID itself)."""
    headers = tuple((name, value) for name, value in response.headers.items() if name.lower() != "content-length")
    return response.status_code, response.get_data(), headers


def install_fast_lane(app: Flask) -> None:
    """Put the relay's lane in front of the app; any other WSGI wrapper (say, ProxyFix) goes around it."""
    app.wsgi_app = FastLane(app, {ENDPOINT: _relay})  # type: ignore[method-assign]
