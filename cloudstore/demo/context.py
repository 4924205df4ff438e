"""What the walkthrough knows: where the services are, the demo company's ERP, and what earlier steps left behind."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bridge_gateway.simulator.config import load_config
from cloudstore.demo.browser import Browser, StepFailed

__all__ = ["Demo", "ErpAccount", "demo_password", "mask"]

BRANCH_ID = "001"


@dataclass(frozen=True)
class ErpAccount:
    """A user of the demo company's ERP (the simulator's config)."""

    user_id: str
    password: str


def demo_password() -> str:
    """A fresh password that meets the portal's policy (lower, upper, digit and one of ! @ # $ & *)."""
    return f"Dm#{secrets.token_hex(8)}7"


def mask(secret: str) -> str:
    """Enough of a secret to recognise it, never the whole of it."""
    return f"{secret[:6]}…({len(secret)} chars)" if len(secret) > 12 else "…"


@dataclass
class Demo:
    """One run of the walkthrough against a running stack."""

    portal: str
    resource_api: str
    simulator: str
    var_dir: Path
    simulator_config: Path
    run_id: str = field(default_factory=lambda: time.strftime("%m%d%H%M%S") + secrets.token_hex(2))
    subscription_id: str = ""
    subscription_password: str = field(default="", repr=False)
    bridge_id: str = ""
    database_id: str = ""
    company_id: str = ""
    erp: dict[str, ErpAccount] = field(default_factory=dict, repr=False)
    admin_email: str = ""
    admin_password: str = field(default_factory=demo_password, repr=False)
    operator_email: str = ""
    operator_password: str = field(default_factory=demo_password, repr=False)
    browsers: dict[str, Browser] = field(default_factory=dict)
    found: dict[str, Any] = field(default_factory=dict, repr=False)
    cleanups: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.portal = self.portal.rstrip("/")
        self.resource_api = self.resource_api.rstrip("/")
        self.simulator = self.simulator.rstrip("/")
        self.admin_email = self.admin_email or f"admin-{self.run_id}@demo.example"
        self.operator_email = self.operator_email or f"operator-{self.run_id}@demo.example"

    def load_company(self) -> None:
        """The demo company, as the simulator serves it: subscription, first bridge and its ERP users."""
        config = load_config(self.simulator_config)
        subscription = next(iter(config.subscriptions.values()))
        bridge = next(iter(subscription.bridges.values()))
        self.subscription_id, self.subscription_password = subscription.id, subscription.password
        self.bridge_id, self.database_id, self.company_id = bridge.id, bridge.database_id, bridge.company_id
        for user in config.users.values():
            if user.password.startswith("pbkdf2_sha256$"):
                continue  # hashed in the config: not a demo account anyone can type
            self.erp[user.user_id] = ErpAccount(user.user_id, user.password)

    def account(self, user_id: str) -> ErpAccount:
        """An ERP account of the demo company."""
        try:
            return self.erp[user_id]
        except KeyError:
            raise StepFailed(f"the simulator's config ({self.simulator_config}) has no ERP user {user_id!r}") from None

    def user_email(self, user_id: str) -> str:
        """This run's e-mail address for an ERP user."""
        return f"{user_id}-{self.run_id}@demo.example"

    @property
    def simulator_host(self) -> str:
        """The application server's address as the admin types it into the portal."""
        return urlsplit(self.simulator).hostname or "127.0.0.1"

    @property
    def simulator_port(self) -> int:
        """The application server's port."""
        parts = urlsplit(self.simulator)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def assets_dir(self) -> Path:
        """The simulator's real CSWebAssets folder (`cloudstore up` gives it `<var>/simulator`)."""
        return self.var_dir / "simulator" / "CSWebAssets"

    def browser(self, who: str) -> Browser:
        """The browser of a person (admin, operator, an ERP user), opened on first use."""
        if who not in self.browsers:
            self.browsers[who] = Browser(who)
        return self.browsers[who]

    def close(self) -> None:
        """Run the cleanups (latest first) and close every browser."""
        while self.cleanups:
            cleanup = self.cleanups.pop()
            try:
                cleanup()
            except Exception:  # noqa: BLE001, S110 - a cleanup must not hide the step's own result
                pass
        for browser in self.browsers.values():
            browser.close()
