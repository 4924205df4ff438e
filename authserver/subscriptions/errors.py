"""The problems of the portal's services: a field that breaks a rule, a duplicate, an action refused in this state.

They are `shared.errors.Problem`s, so the API answers them as RFC 9457 problems with field errors (camelCase,
as the API's fields), and pages put the message next to the field they name (snake_case, as the forms' fields).
"""

from __future__ import annotations

from shared.errors import Problem

__all__ = ["DuplicateError", "FieldError", "StateError", "camel"]


# Service field names the API spells otherwise than by camel-casing them.
_API_NAMES = {"erp_user_id": "userId"}


def camel(name: str) -> str:
    """`subscription_id` → `subscriptionId`: the API's spelling of a service field name."""
    if name in _API_NAMES:
        return _API_NAMES[name]
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class FieldError(Problem):
    """A submitted value breaks a rule; `field` is the service's (and the form's) name of it."""

    status = 422
    title = "Validation failed"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, errors={camel(field): [message]})
        self.field = field
        self.message = message


class DuplicateError(FieldError):
    """The value must be unique and is taken (compared case-insensitively)."""

    status = 409
    title = "Already exists"


class StateError(Problem):
    """The action is not possible in the current state (say, activating a user before any bridge is verified)."""

    status = 409
    title = "Not possible now"
