"""Relay one EBS WebApi call as the bridge's service user, answering EBS's status and (filtered) JSON.

Only JSON goes back: a success body must parse as JSON (anything else is upstream-invalid-response) and is then
passed on as the bytes EBS sent, read once and never re-encoded; an error body is cut down to MessageID,
UserMessage and Messages. Login paths are refused: the gateway owns
the WebApi session. Only GET is retried.

A call is checked whole by `prepare_relay` before anything goes to EBS, and only then sent by `send_relay`: the
fast lane (`fast_lane.py`) hands a call that fails a check to Flask, but answers every call it has sent itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from bridge_gateway.errors import RelayRefusedError, filtered_error_body
from bridge_gateway.upstream import BridgeChannel

__all__ = [
    "METHODS",
    "RelayAnswer",
    "RelayCall",
    "answer_headers",
    "check_path",
    "prepare_relay",
    "relay_call",
    "send_relay",
]

METHODS = ("GET", "POST", "PUT", "DELETE")
FORWARDED_HEADERS = ("X-ESPQOptions",)
_FORBIDDEN_QUERY = frozenset({"webapitoken"})
_CONTROL = re.compile(r"[\x00-\x20\x7f\\%?#]")
_MAX_QUERY = 50


@dataclass(frozen=True)
class RelayAnswer:
    """EBS's status and the JSON text to answer with (empty for an empty body)."""

    status: int
    body: bytes


def check_path(path: str) -> str:
    """The EBS path, re-encoded for the URL; RelayRefusedError for anything outside `api/` or oddly formed."""
    segments = path.split("/")
    if (
        len(path) > 1000
        or segments[0].lower() != "api"
        or (len(segments) > 1 and segments[1].lower() == "login")
        or any(segment in ("", ".", "..") for segment in segments[:-1])
        or segments[-1] in (".", "..")
        or _CONTROL.search(path)
    ):
        raise RelayRefusedError(
            "The relay passes calls under api/ only (not api/Login/, which the gateway manages), "
            "without empty, '.' or '..' segments, backslashes, spaces, '%', '?' or '#'.",
            path=path[:200],
        )
    return quote(path, safe="/:@!$&'()*+,;=-._~")


def _query(items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    query = [(name, value) for name, value in items]
    if len(query) > _MAX_QUERY or any(name.lower() in _FORBIDDEN_QUERY for name, _ in query):
        raise RelayRefusedError(f"At most {_MAX_QUERY} query parameters, and never a WebApi token.")
    return query


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    forwarded = {}
    for name in FORWARDED_HEADERS:
        value = headers.get(name)
        if value is None:
            continue
        try:
            valid = len(value) <= 500 and isinstance(json.loads(value), dict)
        except ValueError:
            valid = False
        if not valid:
            raise RelayRefusedError(f"{name} must be a JSON object of at most 500 characters.")
        forwarded[name] = value
    return forwarded


@dataclass(frozen=True)
class RelayCall:
    """A relay call that passed every check and is ready to send: nothing of it has reached EBS yet."""

    method: str
    url_path: str
    params: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes | None


def prepare_relay(
    *, method: str, path: str, query: Iterable[tuple[str, str]], headers: Mapping[str, str], body: bytes
) -> RelayCall:
    """Check the call (path, forwarded headers, JSON body, query) before anything is sent; RelayRefusedError."""
    url_path = check_path(path)
    sent_headers = _headers(headers)
    if body:
        try:
            json.loads(body)
        except ValueError:
            raise RelayRefusedError("The relay forwards JSON bodies only.") from None
        sent_headers["Content-Type"] = "application/json; charset=utf-8"
    return RelayCall(method, url_path, _query(query), sent_headers, body or None)


def send_relay(channel: BridgeChannel, call: RelayCall) -> RelayAnswer:
    """Send a prepared call to EBS as the bridge's service user and answer its status with filtered JSON."""
    answer = channel.service_request(
        call.method,
        call.url_path,
        idempotent=call.method == "GET",
        params=call.params,
        headers=call.headers,
        data=call.body,
    )
    if answer.status >= 400:
        return RelayAnswer(answer.status, _dump(filtered_error_body(answer.json_or_none())))
    answer.json()  # upstream-invalid-response unless the whole body is JSON (an empty body passes as empty)
    return RelayAnswer(answer.status, answer.body)


def relay_call(
    *,
    channel: BridgeChannel,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes,
) -> RelayAnswer:
    """Check the call, then send it to EBS as the bridge's service user (`prepare_relay`, `send_relay`)."""
    return send_relay(channel, prepare_relay(method=method, path=path, query=query, headers=headers, body=body))


def answer_headers(answer: RelayAnswer) -> tuple[tuple[str, str], ...]:
    """The headers of a relayed answer (the view's response and the fast lane's alike)."""
    return ("Content-Type", "application/json"), ("X-EBS-Status", str(answer.status))


def _dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
