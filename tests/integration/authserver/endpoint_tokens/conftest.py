"""Endpoint tokens against real parts, one set per module: the EBS simulator, the bridge gateway, the auth
server and the resource API, each serving HTTP on a free port; an SMTP server for the invitations.

The module's world: admin Ann with subscription `demo` and its verified bridge Demo_002, the ERP users
`esmaster` (Administrator, in Payroll), `payroll` (in Payroll, not an Administrator) and `clerk` (neither),
all VERIFIED and active, licences of the three apps with an Integration Endpoint, everyone assigned to each.
After each test the tokens and pending requests are deleted, EBS's parameters removed and faults cleared.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from authserver import create_app
from authserver.accounts.models import AdminAccount
from authserver.endpoint_tokens.models import EndpointToken, EndpointTokenRequest
from authserver.extensions import db
from authserver.gateway_client import gateway_client
from authserver.store.catalogue.seed import seed_catalogue
from authserver.store.models import App, Licence
from authserver.subscriptions.models import Bridge
from authserver.users.models import SubscriptionUser
from bridge_gateway.simulator import state as sim_state
from bridge_gateway.simulator.credentials import hash_password as sim_hash
from bridge_gateway.simulator.server import SimulatorServer
from shared.secrets import Encryptor, hash_password, random_token
from tests.integration.authserver.portal.conftest import (
    GATEWAY_SETTINGS,
    Admin,
    Inbox,
    invitation_path,
    page_text,
    verified_subscription,
)
from tests.stack import (
    LateApp,
    bootstrap_auth_server,
    dispose,
    running_simulator,
    served,
    served_gateway,
    served_resource_api,
    smtp_inbox,
)

STRONG = "Str0ng!pass"
ESMASTER = {"login": "demo/esmaster", "password": "Esmaster#2024", "company_id": "Demo_002", "branch_id": "001"}
PAYROLL = {"login": "demo/payroll", "password": "Payroll#2024", "company_id": "Demo_002", "branch_id": "001"}
CLERK = {"login": "demo/clerk", "password": "Clerk#2024x", "company_id": "Demo_002", "branch_id": "001"}
TYPES = ("time-attendance", "app-insights", "surveys")
GRACE = 3


@dataclass
class World:
    """The running parts and the module's admin."""

    app: Flask
    auth_url: str
    gateway_url: str
    resource_url: str
    simulator: SimulatorServer
    admin: Admin
    other: Admin  # an admin without this subscription
    sim_dir: Path
    introspector: tuple[str, str]  # the resource API's client credentials (an internal client)

    def tab(self, code: str = "time-attendance") -> str:
        return f"/subscriptions/demo/apps/{code}/integrations"

    def simulator_params(self) -> dict[str, str]:
        """What EBS itself stores for Demo_002 (the simulator's own database): parameter id → value."""
        connection = sim_state.open_connection(self.sim_dir / "state.db")
        try:
            rows = sim_state.list_company_params(connection, subscription_id="demo", bridge_id="Demo_002")
        finally:
            connection.close()
        return {row["param_id"]: row["value"] for row in rows}

    def ebs_params(self) -> dict[str, Any]:
        """The Entersoft Cloud Store parameters as the simulator keeps them, read through its own page data."""
        with self.app.app_context():
            return gateway_client().company_params(subscription_id="demo", bridge_id="Demo_002")


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _account(email: str, password_hash: str) -> Admin:
    now = datetime.now(UTC)
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
    return Admin(account.id, email, None)  # type: ignore[arg-type]


def _signed_in(app: Flask, account_id: int) -> FlaskClient:
    with app.app_context():
        session_id = db.session.get(AdminAccount, account_id).get_id()
    client = app.test_client()
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = session_id
        flask_session["_fresh"] = True
    return client


@pytest.fixture(scope="module")
def world(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    var = tmp_path_factory.mktemp("var")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLOUDSTORE_VAR_DIR", str(var))
        mp.delenv("DATABASE_URL", raising=False)
        yield from _world(module_database_url, tmp_path_factory)


def _world(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    separate = database_url.startswith("sqlite")
    gateway_db = f"sqlite:///{tmp_path_factory.mktemp('gw') / 'gateway.db'}" if separate else database_url
    resource_db = f"sqlite:///{tmp_path_factory.mktemp('ra') / 'resource.db'}" if separate else database_url
    sim_dir = tmp_path_factory.mktemp("sim")
    sim_state.init_db(sim_dir / "state.db")
    connection = sim_state.open_connection(sim_dir / "state.db")
    try:  # an ERP user who is neither an Administrator nor in Payroll
        record = {
            "UserID": "clerk",
            "Name": "Clerk",
            "Password": sim_hash(CLERK["password"]),
            "Administrator": False,
            "Inactive": False,
            "AllowAccessFromSource": ["BackOffice", "WebApi"],
            "Branches": ["001"],
            "Payroll": False,
            "Bridges": [],
        }
        sim_state.save_user(connection, record=record)
    finally:
        connection.close()
    inbox, late = Inbox(), LateApp()
    with ExitStack() as parts:
        simulator = parts.enter_context(running_simulator(sim_dir, control=False))
        smtp_url = parts.enter_context(smtp_inbox(inbox))
        auth_url = parts.enter_context(served(late))
        base = {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "ISSUER": auth_url,
            "SECRET_KEY": random_token(),
            "ENCRYPTION_KEYS": Encryptor.generate_key(),
        }
        internal, resource = bootstrap_auth_server(
            base,
            ("authserver (internal)", "gateway:bridges gateway:relay", "bridge_gateway"),
            ("resource_api (internal)", "gateway:relay", "bridge_gateway"),
        )
        gateway_settings = {
            "DATABASE_URL": gateway_db,
            "AUTH_SERVER_URL": auth_url,
            "ENCRYPTION_KEYS": Encryptor.generate_key(),
            **GATEWAY_SETTINGS,
        }
        _, gateway_url = parts.enter_context(served_gateway(gateway_settings))
        resource_settings = {
            "DATABASE_URL": resource_db,
            "AUTH_SERVER_URL": auth_url,
            "CLIENT_ID": resource.client.client_id,
            "CLIENT_SECRET": resource.client_secret,
            "GATEWAY_URL": gateway_url,
        }
        _, resource_url = parts.enter_context(served_resource_api(resource_settings))
        app = create_app(
            {
                **base,
                "WTF_CSRF_ENABLED": False,
                "SMTP_URL": smtp_url,
                "GATEWAY_URL": gateway_url,
                "CLIENT_ID": internal.client.client_id,
                "ENDPOINT_TOKEN_ROTATION_GRACE_SECONDS": GRACE,
            }
        )
        late.app = app
        parts.callback(dispose, app)
        yield _populate(
            (resource.client.client_id, str(resource.client_secret)),
            app,
            auth_url,
            gateway_url,
            resource_url,
            simulator,
            sim_dir,
            inbox,
        )


class _Stack:
    """What `verified_subscription` needs of the portal's stack."""

    def __init__(self, app: Flask, simulator: SimulatorServer, sim_dir: Any) -> None:
        self.app, self.simulator, self.sim_dir = app, simulator, sim_dir

    def write_asset(self, name: str, content: str) -> None:
        folder = self.sim_dir / "CSWebAssets"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(content)


def _populate(
    introspector: tuple[str, str],
    app: Flask,
    auth_url: str,
    gateway_url: str,
    resource_url: str,
    simulator: SimulatorServer,
    sim_dir: Any,
    inbox: Inbox,
) -> World:
    password_hash = hash_password(STRONG)
    with app.app_context():
        seed_catalogue(session=db.session)
        ann = _account("ann@example.com", password_hash)
        bob = _account("bob@example.com", password_hash)
        db.session.remove()
    admin = Admin(ann.id, ann.email, _signed_in(app, ann.id))
    other = Admin(bob.id, bob.email, _signed_in(app, bob.id))
    verified_subscription(_Stack(app, simulator, sim_dir), admin)  # type: ignore[arg-type]
    for user_id in ("esmaster", "payroll", "clerk"):
        email = f"{user_id}@demo.example"
        data = {"erp_user_id": user_id, "email": email, "active": "y"}
        assert admin.client.post("/subscriptions/demo/users/new", data=data).status_code == 302
        assert app.test_client().post(invitation_path(inbox.wait_to(email))).status_code == 200
    with app.app_context():
        subscription_pk = db.session.execute(select(Bridge.subscription_pk)).scalar_one()
        now = datetime.now(UTC)
        for code in TYPES:
            app_row = db.session.execute(select(App).where(App.code == code)).scalar_one()
            plan = app_row.plans[0]
            db.session.add(
                Licence(
                    subscription_pk=subscription_pk,
                    app_id=app_row.id,
                    plan_id=plan.id,
                    kind="PAID",
                    seats=10,
                    starts_at=now - timedelta(days=1),
                    ends_at=now + timedelta(days=365),
                    created_at=now,
                    updated_at=now,
                )
            )
        db.session.commit()
        users = [str(u.id) for u in db.session.execute(select(SubscriptionUser)).scalars()]
        db.session.remove()
    for code in TYPES:
        for user_id in users:
            response = admin.client.post(f"/subscriptions/demo/apps/{code}/users/{user_id}/assign")
            assert response.status_code == 302, page_text(response)
    return World(app, auth_url, gateway_url, resource_url, simulator, admin, other, sim_dir, introspector)


@pytest.fixture
def ebs(world: World) -> Iterator[World]:
    """The module's world, with tokens, requests and EBS's endpoint parameters removed after the test."""
    try:
        yield world
    finally:
        world.simulator.come_up()
        with world.app.app_context():
            db.session.execute(delete(EndpointToken))
            db.session.execute(delete(EndpointTokenRequest))
            db.session.commit()
            for endpoint_type in TYPES:
                gateway_client().unregister_endpoint(
                    subscription_id="demo", bridge_id="Demo_002", endpoint_type=endpoint_type
                )
            world.app.extensions["oauth2"].clients.clear()
            db.session.remove()


@dataclass
class Outcome:
    """Where the flow ended: the last response (the Integrations tab, a page) and the pages passed."""

    response: Any
    seen: list[str]

    @property
    def text(self) -> str:
        return page_text(self.response)


def drive(
    world: World,
    client: FlaskClient,
    response: Any,
    *,
    credentials: dict[str, str] | None = ESMASTER,
    decision: str = "allow",
) -> Outcome:
    """Follow Add Token's redirects like a browser: ERP sign-in, then Allow or Deny, back to the portal."""
    seen: list[str] = []
    for _ in range(15):
        if response.status_code in (301, 302, 303):
            location = response.headers["Location"]
            assert not urlsplit(location).netloc or location.startswith(world.auth_url), location
            response = client.get(_path(location))
            continue
        path = urlsplit(response.request.path).path
        seen.append(path)
        body = response.get_data(as_text=True)
        if path == "/signin/erp" and response.status_code == 200 and credentials and seen.count(path) == 1:
            response = client.post(_path(response.request.url), data=credentials)
            continue
        if path == "/oauth/authorize" and 'value="allow"' in body and decision:
            sub = re.search(r'name="sub" value="([^"]*)"', body)
            action = re.search(r'<form class="form" method="post" action="([^"]+)"', body)
            assert sub and action
            response = client.post(
                html.unescape(action.group(1)), data={"decision": decision, "sub": html.unescape(sub.group(1))}
            )
            decision = ""
            continue
        return Outcome(response, seen)
    raise AssertionError(f"too many steps: {seen}")


def add_token(
    world: World,
    code: str = "time-attendance",
    *,
    title: str = "Demo_002 clock agent",
    endpoint_type: str | None = None,
    client: FlaskClient | None = None,
    **kwargs: Any,
) -> Outcome:
    """Add Token → Next, then the whole authorization in the same browser."""
    client = client or world.admin.client
    form = {"title": title, "bridge_id": "Demo_002", "endpoint_type": endpoint_type or code}
    response = client.post(world.tab(code), data=form)
    return drive(world, client, response, **kwargs)


def tokens(world: World) -> list[EndpointToken]:
    with world.app.app_context():
        found = list(db.session.execute(select(EndpointToken).order_by(EndpointToken.created_at)).scalars())
        db.session.expunge_all()
        db.session.remove()
        return found


def reveal(world: World, token: EndpointToken, code: str | None = None) -> str:
    """Click to show, through the page; the key as the page shows it."""
    response = world.admin.client.post(f"{world.tab(code or token.app_code)}/{token.id}/reveal")
    assert response.status_code == 200
    match = re.search(r'data-testid="key-value"[^>]*>([^<]+)<', response.get_data(as_text=True))
    assert match, page_text(response)
    return match.group(1)


def api_call(world: World, key: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    """A call to the resource API with the key as bearer token."""
    return requests.request(
        method, world.resource_url + path, headers={"Authorization": f"Bearer {key}"}, timeout=10, **kwargs
    )


def unique() -> str:
    return uuid.uuid4().hex[:8]
