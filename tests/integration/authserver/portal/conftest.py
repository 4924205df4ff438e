"""The portal's second half against real parts: the auth server and the bridge gateway serving HTTP in threads,
the EBS simulator, and an aiosmtpd server receiving the mail.

They are expensive, so one set serves a whole module (one database, SQLite or PostgreSQL); after each test the
rows are deleted, the bridges unregistered at the gateway and the simulator's CSWebAssets folder emptied.
Pages are driven through Flask's test client of the very app the live server runs (CSRF off unless a test turns
it on), which calls the gateway over HTTP, which checks the tokens against the auth server's JWKS over HTTP.
"""

from __future__ import annotations

import re
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from authserver import create_app
from authserver.accounts.models import AdminAccount
from authserver.api.models import PersonalAccessToken
from authserver.audit.models import AuditEvent
from authserver.extensions import db
from authserver.gateway_client import gateway_client
from authserver.subscriptions.models import Bridge, Subscription
from authserver.users.models import SubscriptionUser
from bridge_gateway.simulator.server import SimulatorServer
from shared.secrets import Encryptor, hash_password, random_token
from tests.stack import LateApp, bootstrap_auth_server, dispose, running_simulator, served, served_gateway, smtp_inbox
from tests.stack import free_port as free_port

STRONG = "Str0ng!pass"
DEMO_PASSWORD = "DemoSub#2024"  # the simulator's demo subscription password (config/simulator.toml)
EGRESS = ["198.51.100.7", "203.0.113.9"]
GATEWAY_SETTINGS = {
    "ALLOWED_NETWORKS": ["127.0.0.1/32"],
    "EGRESS_ADDRESSES": EGRESS,
    "CONNECT_TIMEOUT_SECONDS": 0.5,
    "READ_TIMEOUT_SECONDS": 2.0,
    "CALL_DEADLINE_SECONDS": 5.0,
    "RETRIES": 0,
    "BREAKER_FAILURE_THRESHOLD": 1000,
    "BRIDGE_CACHE_SECONDS": 0,
}


@dataclass
class Inbox:
    """What the SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        with self.arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self.arrived.notify_all()
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages addressed to `address`, oldest first."""
        return [m for m in self.messages if m["To"].lower() == address.lower()]

    def wait_to(self, address: str, count: int = 1, timeout: float = 10.0) -> EmailMessage:
        """The `count`-th message to `address`, waiting for it."""
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.to(address)) >= count, timeout), f"no mail to {address}"
            return self.to(address)[count - 1]


def invitation_path(message: EmailMessage) -> str:
    """The path of the "Confirm account" link in an invitation."""
    text_body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    match = re.search(r"https?://\S+/invitations/\S+", text_body)
    assert match, text_body
    return urlsplit(match.group(0)).path


def page_text(response: Any) -> str:
    """The body without tags, whitespace collapsed."""
    html = response.get_data(as_text=True)
    text_only = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    return text_only.replace("&amp;", "&").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">")


@dataclass
class Stack:
    """The running parts of one module."""

    app: Flask
    auth_url: str
    gateway_url: str
    gateway_app: Flask
    simulator: SimulatorServer
    sim_dir: Path
    inbox: Inbox
    smtp_url: str

    @property
    def assets(self) -> Path:
        """The simulator's CSWebAssets folder."""
        return self.sim_dir / "CSWebAssets"

    def write_asset(self, name: str, content: str) -> None:
        """Put a file into the simulator's CSWebAssets folder, as the customer would."""
        self.assets.mkdir(parents=True, exist_ok=True)
        (self.assets / name).write_text(content)


@pytest.fixture(scope="module")
def stack(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Simulator, SMTP server, auth server and gateway, each on a free port, for the module."""
    var = tmp_path_factory.mktemp("var")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLOUDSTORE_VAR_DIR", str(var))
        mp.delenv("DATABASE_URL", raising=False)
        yield from _stack(module_database_url, tmp_path_factory)


def _stack(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # Each service has its own SQLite file, as `cloudstore up` gives them; PostgreSQL is shared, as in CI.
    gateway_database_url = database_url
    if database_url.startswith("sqlite"):
        gateway_database_url = f"sqlite:///{tmp_path_factory.mktemp('gateway-db') / 'gateway.db'}"
    sim_dir = tmp_path_factory.mktemp("sim")
    inbox, late = Inbox(), LateApp()
    with ExitStack() as parts:
        simulator = parts.enter_context(running_simulator(sim_dir, control=False))
        smtp_url = parts.enter_context(smtp_inbox(inbox))
        auth_url = parts.enter_context(served(late))
        secrets = {"SECRET_KEY": random_token(), "ENCRYPTION_KEYS": Encryptor.generate_key()}
        base = {"TESTING": True, "DATABASE_URL": database_url, "ISSUER": auth_url, **secrets}
        [client] = bootstrap_auth_server(
            base, ("authserver (internal)", "gateway:bridges gateway:relay", "bridge_gateway")
        )
        gateway_settings = {
            "DATABASE_URL": gateway_database_url,
            "AUTH_SERVER_URL": auth_url,
            "ENCRYPTION_KEYS": Encryptor.generate_key(),
            **GATEWAY_SETTINGS,
        }
        gateway_app, gateway_url = parts.enter_context(served_gateway(gateway_settings))
        app = create_app(
            {
                **base,
                "WTF_CSRF_ENABLED": False,
                "SMTP_URL": smtp_url,
                "GATEWAY_URL": gateway_url,
                "CLIENT_ID": client.client.client_id,
                "EGRESS_ADDRESSES": EGRESS,
            }
        )
        late.app = app
        parts.callback(dispose, app)
        yield Stack(app, auth_url, gateway_url, gateway_app, simulator, sim_dir, inbox, smtp_url)


def clean(stack: Stack) -> None:
    """Unregister every bridge at the gateway, delete the portal's rows, empty CSWebAssets."""
    with stack.app.app_context():
        db.session.rollback()
        for bridge in db.session.execute(select(Bridge)).scalars():
            sub_id = bridge.subscription.subscription_id
            gateway_client().delete_bridge(subscription_id=sub_id, bridge_id=bridge.bridge_id)
        for model in (PersonalAccessToken, SubscriptionUser, Bridge, Subscription, AuditEvent, AdminAccount):
            db.session.execute(delete(model))
        db.session.commit()
        db.session.remove()
    with stack.inbox.arrived:
        stack.inbox.messages.clear()
    shutil.rmtree(stack.assets, ignore_errors=True)
    stack.assets.mkdir(parents=True, exist_ok=True)


@pytest.fixture
def portal(stack: Stack) -> Iterator[Stack]:
    """The module's stack, emptied after the test."""
    try:
        yield stack
    finally:
        clean(stack)


@pytest.fixture
def app(portal: Stack) -> Flask:
    return portal.app


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password(STRONG)


@dataclass
class Admin:
    """A confirmed admin account and a test client signed in as it."""

    id: int
    email: str
    client: FlaskClient


@pytest.fixture
def make_admin(portal: Stack, password_hash: str) -> Callable[..., Admin]:
    """Create confirmed admin accounts, each with a signed-in test client."""

    def make(email: str | None = None) -> Admin:
        email = email or f"admin-{uuid.uuid4().hex[:8]}@example.com"
        now = datetime.now(UTC)
        with portal.app.app_context():
            account = AdminAccount(
                email=email,
                email_normalized=email.lower(),
                password_hash=password_hash,
                security_stamp=random_token(16),
                created_at=now,
                confirmed_at=now,
            )
            db.session.add(account)
            db.session.commit()
            account_id, session_id = account.id, account.get_id()
            db.session.remove()
        client = portal.app.test_client()
        with client.session_transaction() as flask_session:
            flask_session["_user_id"] = session_id
            flask_session["_fresh"] = True
        return Admin(account_id, email, client)

    return make


@pytest.fixture
def admin(make_admin: Callable[..., Admin]) -> Admin:
    return make_admin()


def subscription_form(stack: Stack, **overrides: Any) -> dict[str, Any]:
    """Create New Subscription with the demo values, at the simulator's address."""
    form = {
        "company_name": "Demo S.A.",
        "subscription_id": "demo",
        "serial_number": "ES-100200",
        "vat_number": "EL123456789",
        "password": DEMO_PASSWORD,
        "confirm_password": DEMO_PASSWORD,
        "database_id": "DEMO",
        "company_id": "002",
        "host": "127.0.0.1",
        "port": str(stack.simulator.port),
        "scheme": "http",
        "bridge_id": "Demo_002",
    }
    form.update(overrides)
    if "password" in overrides and "confirm_password" not in overrides:
        form["confirm_password"] = overrides["password"]
    return form


def create_subscription(stack: Stack, admin: Admin, **overrides: Any) -> Any:
    """POST Create New Subscription; asserts it was created (a redirect to its page)."""
    response = admin.client.post("/subscriptions/new", data=subscription_form(stack, **overrides))
    assert response.status_code == 302, page_text(response)
    return response


def verify_form(**overrides: Any) -> dict[str, str]:
    """VERIFY CONNECTION stage 1 with the demo administrator."""
    form = {
        "subscription_id": "demo",
        "subscription_password": DEMO_PASSWORD,
        "user_id": "esmaster",
        "password": "Esmaster#2024",
        "bridge_id": "Demo_002",
        "branch_id": "001",
    }
    form.update(overrides)
    return form


def verified_subscription(stack: Stack, admin: Admin) -> None:
    """The demo subscription with Demo_002 verified (both stages)."""
    create_subscription(stack, admin)
    assert admin.client.post("/subscriptions/demo/verify", data=verify_form()).status_code == 302
    with stack.app.app_context():
        from authserver.subscriptions.verify import pending_challenge
        from shared.service import encryptor

        bridge = db.session.execute(select(Bridge)).scalar_one()
        challenge = pending_challenge(bridge=bridge, encryptor=encryptor())
        assert challenge is not None
        code = challenge.code
        db.session.remove()
    stack.write_asset("demo-Demo_002.txt", code + "\n")
    response = admin.client.post("/subscriptions/demo/bridges/Demo_002/verify")
    assert response.status_code == 302, page_text(response)


def rows(app: Flask, model: Any, *where: Any) -> list[Any]:
    """Rows as stored now (fresh app context, detached afterwards)."""
    with app.app_context():
        found = list(db.session.execute(select(model).where(*where)).scalars())
        db.session.expunge_all()
        db.session.remove()
        return found


def events(app: Flask, *names: str) -> list[AuditEvent]:
    """Audit events (of these names, if given), oldest first."""
    where = [AuditEvent.event.in_(names)] if names else []
    with app.app_context():
        found = list(db.session.execute(select(AuditEvent).where(*where).order_by(AuditEvent.id)).scalars())
        db.session.expunge_all()
        db.session.remove()
        return found
