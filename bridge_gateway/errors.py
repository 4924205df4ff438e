"""The gateway's problems (RFC 9457): each says what went wrong on the road to EBS and what a person can do.

Every type is `https://cloudstore.dev/problems/<slug>`; the slug is also what the audit log and the
metrics record as the outcome. Nothing from an upstream body reaches a client except EBS's MessageID,
UserMessage and Messages, sanitised.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from flask import Flask, Response

from shared.errors import Problem, problem_response

__all__ = [
    "BridgeBusyError",
    "BridgeExistsError",
    "BridgeNotFoundError",
    "ChallengeFileMissingError",
    "ChallengeMismatchError",
    "CircuitOpenError",
    "DestinationRefusedError",
    "EbsRejectedError",
    "GatewayProblem",
    "RelayRefusedError",
    "UpstreamError",
    "UpstreamInvalidResponseError",
    "UpstreamRedirectError",
    "UpstreamTimeoutError",
    "UpstreamTlsError",
    "UpstreamTooLargeError",
    "UpstreamUnreachableError",
    "ebs_error",
    "register_gateway_errors",
    "render_problem",
]

PROBLEMS = "https://cloudstore.dev/problems/"
_MESSAGE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")  # lone surrogates too: they cannot be encoded

# What a person can do about EBS's own rejections (ids from docs/ebs-contract.md §1).
HINTS = {
    "subscription-invalid-password": "The Subscription ID or subscription password of this connection does not match "
    "the EBS WebApi server's configuration: correct them in the connection settings.",
    "invalid-subscription-id": "The EBS WebApi server does not know this Subscription ID: "
    "check the connection settings.",
    "bridge-not-found": "The EBS WebApi server has no bridge with this Bridge ID: check the connection settings.",
    "login-invalid-user": "Check the User ID: it must exist in EBS for this company.",
    "login-invalid-password": "Check the User ID and password.",
    "login-inactive-user": "The ERP user is inactive: an EBS administrator can activate it.",
    "login-webapi-not-allowed": "In EBS, add WebApi to the user's access sources (AllowAccessFromSource).",
    "login-invalid-branch": "Choose one of the user's branches.",
    "login-invalid-lang": "Choose a language such as el-GR or en-US.",
    "insufficient-rights": "Use an EBS administrator, or the bridge's service user.",
}


class GatewayProblem(Problem):
    """A problem of the gateway: a typed slug, optional response headers (say, Retry-After)."""

    slug: ClassVar[str] = "gateway-error"

    def __init__(self, detail: str | None = None, *, headers: Mapping[str, str] | None = None, **extensions: Any):
        super().__init__(detail, **extensions)
        self.headers = dict(headers or {})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.type = PROBLEMS + cls.slug


class BridgeNotFoundError(GatewayProblem):
    status, title, slug = 404, "Bridge not found", "bridge-not-found"


class BridgeExistsError(GatewayProblem):
    status, title, slug = 409, "Bridge already registered", "bridge-exists"


class DestinationRefusedError(GatewayProblem):
    """The SSRF guard refuses the destination; the detail never names the internal address it resolved to."""

    status, title, slug = 403, "Destination refused", "destination-refused"


class RelayRefusedError(GatewayProblem):
    status, title, slug = 400, "Relay refused", "relay-refused"


class UpstreamUnreachableError(GatewayProblem):
    status, title, slug = 502, "EBS server unreachable", "upstream-unreachable"


class UpstreamTimeoutError(GatewayProblem):
    status, title, slug = 504, "EBS server timed out", "upstream-timeout"


class UpstreamTlsError(GatewayProblem):
    status, title, slug = 502, "TLS failure", "upstream-tls-failure"


class UpstreamRedirectError(GatewayProblem):
    status, title, slug = 502, "Redirect refused", "upstream-redirect-refused"


class UpstreamTooLargeError(GatewayProblem):
    status, title, slug = 502, "EBS answer too large", "upstream-response-too-large"


class UpstreamInvalidResponseError(GatewayProblem):
    status, title, slug = 502, "Invalid answer from EBS", "upstream-invalid-response"


class UpstreamError(GatewayProblem):
    """EBS answered with a server error (5xx)."""

    status, title, slug = 502, "EBS server error", "upstream-error"


class CircuitOpenError(GatewayProblem):
    status, title, slug = 503, "Circuit open", "circuit-open"


class BridgeBusyError(GatewayProblem):
    status, title, slug = 503, "Bridge busy", "bridge-busy"


class EbsRejectedError(GatewayProblem):
    """EBS refused the call; its MessageID and UserMessage are carried through, with a hint when we know one."""

    status, title, slug = 422, "Rejected by EBS", "ebs-rejected"


class ChallengeMismatchError(GatewayProblem):
    status, title, slug = 422, "Verification code does not match", "challenge-mismatch"


class ChallengeFileMissingError(GatewayProblem):
    status, title, slug = 422, "Verification file missing", "challenge-file-missing"


def clean_message_id(value: Any) -> str:
    """EBS's MessageID if it looks like one (kebab case), else "unknown": never an arbitrary upstream string."""
    return value if isinstance(value, str) and _MESSAGE_ID.match(value) else "unknown"


def clean_text(value: Any, limit: int = 500) -> str:
    """An upstream text made safe to show: a string, without control characters or lone surrogates (JSON's
    `\\ud800` escapes decode to them, and no UTF-8 encoder takes them), at most `limit` characters."""
    return _CONTROL.sub(" ", value)[:limit] if isinstance(value, str) else ""


def filtered_error_body(body: Any) -> dict[str, Any]:
    """EBS's error object reduced to its three documented members, sanitised."""
    body = body if isinstance(body, dict) else {}
    messages = body.get("Messages") if isinstance(body.get("Messages"), list) else []
    return {
        "MessageID": clean_message_id(body.get("MessageID")),
        "UserMessage": clean_text(body.get("UserMessage")),
        "Messages": [clean_text(item) for item in messages[:20] if isinstance(item, str)],
    }


def ebs_error(status: int, body: Any, *, operation: str) -> GatewayProblem:
    """The problem for an EBS error answer: 5xx → upstream-error, anything else → ebs-rejected."""
    filtered = filtered_error_body(body)
    message_id, user_message = filtered["MessageID"], filtered["UserMessage"]
    extensions: dict[str, Any] = {"ebsStatus": status, "messageId": message_id, "userMessage": user_message}
    if message_id in HINTS:
        extensions["hint"] = HINTS[message_id]
    if status >= 500:
        return UpstreamError(f"The EBS server failed the {operation} call (HTTP {status}).", **extensions)
    return EbsRejectedError(user_message or f"EBS refused the {operation} call ({message_id}).", **extensions)


def render_problem(problem: Problem) -> Response:
    """A problem's response as the app's error handlers give it, a gateway problem's extra headers included
    (Flask's handler for GatewayProblem, and the relay's fast lane)."""
    response = problem_response(problem)
    if isinstance(problem, GatewayProblem):
        response.headers.update(problem.headers)
    return response


def register_gateway_errors(app: Flask) -> None:
    """Render gateway problems with their extra headers (Flask picks this handler over the generic one)."""
    app.register_error_handler(GatewayProblem, render_problem)
