"""Fast lanes: the hot requests of a service answered in front of Flask, everything else passed on untouched.

A `FastLane` wraps a Flask app's WSGI callable. For the endpoints it is given a handler for, it matches the
request against the app's own rules (same paths, same converters) and asks the handler, inside an app
context, for an `Answer`. A handler answers only what it fully understands and what the view would answer the
same way; for anything else (a missing or bad credential, a resource not found, an unusual request) it returns
None, or raises, and the request goes on to the app, which answers it as always, errors included. Once a
handler has answered, its answer stands (a failing teardown is only logged), so a handler that acted, say sent
a call on, is never run again by the app. Handlers use the same functions as the views, so nothing is checked
differently: what the lane skips is Flask's and Werkzeug's per-request machinery (request and response
objects, hooks, signals), which is most of the cost of a small request.

Every answer carries the lane's fixed headers and the request id (`X-Request-ID`), as the app's own do, and
`g.request_id` is set for the handler, so its log lines carry the id too.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, g
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, RequestRedirect

from shared.logging import REQUEST_ID_HEADER, request_id_for

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["Answer", "FastLane", "Handler", "json_answer", "read_body"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Answer:
    """A complete response: status, body bytes, and headers beyond the lane's own."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def json_answer(document: Any, status: int = 200) -> Answer:
    """`document` encoded as Flask's `jsonify` encodes it (the app's JSON provider, compact unless debugging),
    without building a response object."""
    provider = current_app.json
    compact = getattr(provider, "compact", None)
    layout: dict[str, Any] = (
        {"indent": 2} if compact is False or (compact is None and current_app.debug) else {"separators": (",", ":")}
    )
    body = f"{provider.dumps(document, **layout)}\n".encode()
    return Answer(status, body, (("Content-Type", getattr(provider, "mimetype", "application/json")),))


Handler = Callable[["WSGIEnvironment", dict[str, Any]], Answer | None]  # (environ, path arguments)


class FastLane:
    """WSGI middleware: requests its handlers answer skip the app; all others reach it as they came."""

    def __init__(
        self,
        app: Flask,
        handlers: Mapping[str, Handler],
        *,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.app = app
        self.wsgi_app: WSGIApplication = app.wsgi_app
        self.handlers = dict(handlers)
        # Every rule of the app, so a path is routed exactly as the app routes it; the lane takes its endpoints only.
        rules = [rule.empty() for rule in app.url_map.iter_rules()]
        lane_rules = [rule for rule in rules if rule.endpoint in self.handlers]
        if missing := self.handlers.keys() - {rule.endpoint for rule in lane_rules}:
            raise RuntimeError(f"fast lane handlers for endpoints the app does not have: {sorted(missing)}")
        # HEAD and OPTIONS, which Werkzeug adds to rules by itself, are left to the app.
        served = {method for rule in lane_rules for method in rule.methods or ()} - {"HEAD", "OPTIONS"}
        self.methods: Collection[str] = frozenset(served)
        self.routes = Map(rules, strict_slashes=app.url_map.strict_slashes, merge_slashes=False).bind("fast-lane")
        # A path without variables is looked up directly: Werkzeug routes such a rule before any rule with them.
        self.fixed = {
            (rule.rule, method): rule.endpoint
            for rule in lane_rules
            if not rule.arguments
            for method in (rule.methods or ())
            if method in served
        }
        self.headers = tuple(headers)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer a request a handler fully answers; pass anything else on to the app."""
        method = environ.get("REQUEST_METHOD", "")
        if method in self.methods:
            try:
                endpoint, arguments = self._route(_path(environ), method)
            except (HTTPException, RequestRedirect, UnicodeError):
                pass
            else:
                handler = self.handlers.get(endpoint)
                answer = self._ask(handler, environ, arguments) if handler is not None else None
                if answer is not None:
                    return self._respond(environ, start_response, answer)
        return self.wsgi_app(environ, start_response)

    def _route(self, path: str, method: str) -> tuple[str, dict[str, Any]]:
        endpoint = self.fixed.get((path, method))
        return (endpoint, {}) if endpoint is not None else self.routes.match(path, method)

    def _ask(self, handler: Handler, environ: WSGIEnvironment, arguments: dict[str, Any]) -> Answer | None:
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        context = self.app.app_context()
        context.push()
        try:
            g.request_id = request_id
            answer = handler(environ, arguments)
        except Exception:  # noqa: BLE001 - the app runs the request again and answers (or logs) it
            log.debug("fast lane passed a request on after an error", exc_info=True)
            answer = None
        finally:
            try:
                context.pop()
            except Exception:  # noqa: BLE001 - a handler's answer stands: it may have acted (sent a call) already
                log.exception("fast lane: the app context's teardown failed")
        if answer is not None:
            environ[_REQUEST_ID] = request_id
        return answer

    def _respond(self, environ: WSGIEnvironment, start_response: StartResponse, answer: Answer) -> list[bytes]:
        headers = [
            *self.headers,
            *answer.headers,
            ("Content-Length", str(len(answer.body))),
            (REQUEST_ID_HEADER, environ[_REQUEST_ID]),
        ]
        start_response(f"{answer.status} {HTTPStatus(answer.status).phrase}", headers)
        return [answer.body]


_REQUEST_ID = "cloudstore.fast_lane.request_id"


def _path(environ: WSGIEnvironment) -> str:
    """The request path as Werkzeug routes it: WSGI carries its bytes as Latin-1, and they are UTF-8 (a path
    that is not raises UnicodeError, and the app judges it)."""
    return (environ.get("PATH_INFO") or "/").encode("latin-1").decode("utf-8")


def read_body(environ: WSGIEnvironment, *, media_type: str, limit: int) -> bytes | None:
    """The request body when it is of `media_type` and at most `limit` bytes, put back for the app to read
    again; None (nothing read) otherwise."""
    if environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower() != media_type:
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 < length <= limit:
        return None
    body: bytes = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body
