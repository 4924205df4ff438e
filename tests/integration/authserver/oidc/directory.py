"""An in-memory ERP user directory for tests: it stands for the directory (subscription users, VERIFIED status,
bridges, seats) that the portal's users feature provides, behind the same `ErpAuthenticator` interface."""

from __future__ import annotations

from dataclasses import dataclass, field

from authserver.clients.service import RegisteredClient
from authserver.signin import EndUser, ErpUnavailable, SignInRefused

UNKNOWN = "There is no user with this User ID in the subscription."
INACTIVE = "This user is deactivated in the subscription."
NOT_VERIFIED = "This user has not accepted the invitation yet (the status is not VERIFIED)."
BRIDGE_UNVERIFIED = "The connection Demo_003 is not verified yet, so nobody can sign in through it."
UNKNOWN_BRIDGE = "There is no connection with this Company ID in the subscription."
WRONG_PASSWORD = "The ERP refused the password for this user."
NO_BRANCH = "The user may not sign in to this branch."
NO_SEAT = "You have no seat of this app: ask your administrator to assign you to it."


@dataclass
class DirectoryUser:
    sub: str
    subscription_id: str
    user_id: str
    email: str
    name: str
    password: str
    status: str = "VERIFIED"
    active: bool = True
    administrator: bool = False
    apps: set[str] = field(default_factory=lambda: {"timeattendance"})


@dataclass
class Directory:
    """Users of subscription `roservices` (GID `GID-ROS`), its bridges, and the calls made, for assertions."""

    users: list[DirectoryUser] = field(default_factory=list)
    bridges: dict[str, bool] = field(default_factory=lambda: {"Demo_002": True, "Demo_003": False})
    branches_of: dict[str, list[tuple[str, str]]] = field(
        default_factory=lambda: {"Demo_002": [("001", "Head office"), ("002", "Thessaloniki")], "Demo_003": []}
    )
    down: bool = False
    calls: list[str] = field(default_factory=list)

    def add(self, **kwargs: object) -> DirectoryUser:
        user = DirectoryUser(**kwargs)  # type: ignore[arg-type]
        self.users.append(user)
        return user

    def _find(self, login: str) -> DirectoryUser:
        login = login.strip()
        for user in self.users:
            if "/" in login:
                subscription, _, user_id = login.partition("/")
                if subscription.lower() == user.subscription_id.lower() and user_id == user.user_id:
                    return user
            elif login.lower() == user.email.lower():
                return user
        raise SignInRefused(UNKNOWN)

    def _check(self, user: DirectoryUser, company_id: str) -> None:
        if not user.active:
            raise SignInRefused(INACTIVE)
        if user.status != "VERIFIED":
            raise SignInRefused(NOT_VERIFIED)
        if company_id not in self.bridges:
            raise SignInRefused(UNKNOWN_BRIDGE)
        if not self.bridges[company_id]:
            raise SignInRefused(BRIDGE_UNVERIFIED)

    def branches(self, *, login: str, company_id: str) -> list[tuple[str, str]]:
        self.calls.append("branches")
        user = self._find(login)
        self._check(user, company_id)
        return list(self.branches_of[company_id])

    def authenticate(self, *, login: str, password: str, company_id: str, branch_id: str) -> EndUser:
        self.calls.append("authenticate")
        if self.down:
            raise ErpUnavailable("The ERP server of this connection does not answer. Try again in a few minutes.")
        user = self._find(login)
        self._check(user, company_id)
        if password != user.password:
            raise SignInRefused(WRONG_PASSWORD)
        if branch_id not in {branch for branch, _ in self.branches_of[company_id]}:
            raise SignInRefused(NO_BRANCH)
        return EndUser(
            sub=user.sub,
            subscription_id=user.subscription_id,
            subscription_gid="GID-ROS",
            user_id=user.user_id,
            email=user.email,
            name=user.name,
            bridge_id=company_id,
            branch_id=branch_id,
            administrator=user.administrator,
        )

    def app_access(self, *, user: EndUser, client: RegisteredClient) -> None:
        self.calls.append("app_access")
        match = next(u for u in self.users if u.sub == user.sub)
        if client.app and client.app not in match.apps:
            raise SignInRefused(NO_SEAT)
