"""The store's problems: RFC 9457 for the API, a message next to the field (or at the top) for pages."""

from __future__ import annotations

from shared.errors import Problem

__all__ = ["LicenceProblem", "StoreFieldError", "StoreStateError", "camel"]


def camel(name: str) -> str:
    """`billing_name` → `billingName`: the API's spelling of a service field name."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class StoreFieldError(Problem):
    """A submitted value breaks a rule; `field` is the service's (and the form's) name of it."""

    status = 422
    title = "Validation failed"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, errors={camel(field): [message]})
        self.field = field
        self.message = message


class StoreStateError(Problem):
    """The action is not possible in the current state (say, a second trial, or a seat when all are taken)."""

    status = 409
    title = "Not possible now"


class LicenceProblem(Problem):
    """A subscription user may not use an app now; `reason` says why in words a person understands.

    `code` is one of `no-licence`, `expired`, `no-seat`, `user-inactive`, `unknown-app`, `unknown-user`.
    """

    status = 403
    title = "No licence for this app"

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason, code=code)
        self.code = code
        self.reason = reason
