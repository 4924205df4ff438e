"""The end user (an ERP user of a subscription) and the seam to the ERP user directory that signs them in.

The authorization server does not know how subscription users, their VERIFIED status, bridges or seats are
kept: it asks the active `ErpAuthenticator` (`app.extensions["erp_authenticator"]`). Every refusal is a
`SignInRefused` whose message is written for the person signing in, and is shown to them as it is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from authserver.clients.service import RegisteredClient

__all__ = ["EndUser", "ErpAuthenticator", "ErpUnavailable", "SignInRefused"]


@dataclass(frozen=True)
class EndUser:
    """A signed-in ERP user, as the directory describes them once their credentials were checked live.

    `sub` is stable and opaque (the subscription user's row id): it becomes the `sub` of every token.
    `auth_time` (seconds since the epoch) is set by the sign-in page when the credentials are accepted.
    """

    sub: str
    subscription_id: str
    subscription_gid: str
    user_id: str
    email: str | None
    name: str | None
    bridge_id: str
    branch_id: str
    administrator: bool = False
    auth_time: int = 0
    payroll: bool = False  # the ERP says the user exists in Payroll (time-attendance endpoint tokens need it)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (for the session cookie and the grant record)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> EndUser | None:
        """Rebuild from `to_dict`'s output; None for anything malformed (a foreign cookie). Fields added later
        (with defaults) may be missing from an older cookie or grant record."""
        if not isinstance(data, dict):
            return None
        try:
            return cls(**{field.name: data[field.name] for field in fields(cls) if field.name in data})
        except (KeyError, TypeError):
            return None


class SignInRefused(Exception):  # noqa: N818 - a refusal, not a fault: the name says what the user is told
    """The directory refuses this sign-in (or this app) for a reason the user should read, in `message`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ErpUnavailable(SignInRefused):
    """The ERP could not be asked (gateway or application server down): not the user's fault, not a failure."""


@runtime_checkable
class ErpAuthenticator(Protocol):
    """What the sign-in page and the authorize endpoint need from the ERP user directory."""

    def branches(self, *, login: str, company_id: str) -> list[tuple[str, str]]:
        """The (id, name) pairs of the branches this user may sign in to at this bridge, for the Branch ID list.

        `login` is an e-mail or `SubscriptionID/UserID`; `company_id` is the BridgeID. May raise `SignInRefused`.
        """
        ...

    def authenticate(self, *, login: str, password: str, company_id: str, branch_id: str) -> EndUser:
        """Check the ERP credentials live (through the gateway) and return the user; never store the password.

        Raises `SignInRefused` for an unknown or inactive user, a user not VERIFIED in the subscription, an
        unverified bridge, or wrong credentials; `ErpUnavailable` when the ERP cannot be reached.
        """
        ...

    def app_access(self, *, user: EndUser, client: RegisteredClient) -> None:
        """Return if `user` may use the app behind `client` (e.g. holds a seat of an unexpired licence of
        `client.app`); raise `SignInRefused` with the reason otherwise. Also asked on every refresh."""
        ...
