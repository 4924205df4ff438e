"""The ERP objects the simulator models: subscriptions, bridges, branches, employees, users."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SOURCES = ("BackOffice", "WebApi")


@dataclass(frozen=True)
class Branch:
    id: str
    name: str


@dataclass(frozen=True)
class Employee:
    code: str
    name: str


@dataclass(frozen=True)
class CompanyParam:
    id: str
    group_id: str
    description: str
    value: str
    es_type: str = "String"


@dataclass(frozen=True)
class Credentials:
    user_id: str
    password: str
    branch_id: str
    lang_id: str


@dataclass(frozen=True)
class Bridge:
    id: str
    database_id: str
    company_id: str
    company_name: str
    default_user: Credentials
    branches: dict[str, Branch]
    employees: dict[str, Employee]
    company_params: dict[str, CompanyParam]


@dataclass(frozen=True)
class Subscription:
    id: str
    password: str
    bridges: dict[str, Bridge]

    def bridge(self, bridge_id: str) -> Bridge | None:
        """Find a bridge by id, ignoring case."""
        return self.bridges.get(bridge_id.lower())


@dataclass(frozen=True)
class User:
    user_id: str
    name: str
    password: str
    administrator: bool = False
    inactive: bool = False
    allow_access_from_source: tuple[str, ...] = DEFAULT_SOURCES
    branches: tuple[str, ...] = ()
    payroll: bool = False
    email: str | None = None
    totp_secret: str | None = None
    bridges: tuple[str, ...] = ()

    def can_use(self, bridge: Bridge) -> bool:
        """Tell whether the user exists for a bridge (no ``Bridges`` list means every bridge)."""
        return not self.bridges or bridge.id.lower() in {b.lower() for b in self.bridges}

    def sites(self, bridge: Bridge) -> list[Branch]:
        """The bridge's branches this user may log in to, in the user's order."""
        return [bridge.branches[b] for b in self.branches if b in bridge.branches]

    def to_record(self) -> dict[str, Any]:
        """The user as the PascalCase record the config and the state database use."""
        record: dict[str, Any] = {
            "UserID": self.user_id,
            "Name": self.name,
            "Password": self.password,
            "Administrator": self.administrator,
            "Inactive": self.inactive,
            "AllowAccessFromSource": list(self.allow_access_from_source),
            "Branches": list(self.branches),
            "Payroll": self.payroll,
            "Bridges": list(self.bridges),
        }
        if self.email:
            record["Email"] = self.email
        if self.totp_secret:
            record["TOTPSecret"] = self.totp_secret
        return record


@dataclass
class SimulatorConfig:
    path: Path
    subscriptions: dict[str, Subscription]
    users: dict[str, User]
    webapi: dict[str, Any] = field(default_factory=dict)

    def subscription(self, subscription_id: str) -> Subscription | None:
        """Find a subscription by id, ignoring case."""
        return self.subscriptions.get(subscription_id.lower())

    def bridge_pairs(self) -> list[tuple[Subscription, Bridge]]:
        """Every (subscription, bridge) pair served by this simulator."""
        return [(s, b) for s in self.subscriptions.values() for b in s.bridges.values()]
