"""Store fixtures: an auth server mailing to a real SMTP server, accounts, subscriptions, users, signed-in clients."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import select

from authserver import create_app
from authserver.accounts.models import AdminAccount
from authserver.extensions import db
from authserver.store.catalogue.seed import seed_catalogue
from authserver.store.models import App
from authserver.subscriptions.models import Bridge, Subscription
from authserver.users.models import SubscriptionUser
from shared.db import upgrade_db
from shared.secrets import hash_password
from tests.integration.authserver.accounts.conftest import Inbox, SmtpServer, free_port, page_text  # noqa: F401

STRONG = "Str0ng!pass"
_HASH = hash_password(STRONG)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """An aiosmtpd server on a free port that requires a login and keeps every message."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=inbox.authenticate, auth_require_tls=False
    )
    controller.start()
    try:
        yield SmtpServer(inbox, port)
    finally:
        controller.stop()


@pytest.fixture
def inbox(smtp_server: SmtpServer) -> Inbox:
    return smtp_server.inbox


@pytest.fixture
def app(database_url: str, smtp_server: SmtpServer) -> Iterator[Flask]:
    """A migrated auth server with the seeded catalogue; CSRF off (a test turns it on when it needs it)."""
    flask_app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "ISSUER": "https://auth.example.test",
            "WTF_CSRF_ENABLED": False,
            "SMTP_URL": smtp_server.url,
            "RESOURCE_API_URL": "https://api.example.test",
            "STORE_BANK_IBAN": "GR16 0110 1250 0000 0001 2300 695",
        }
    )

    @flask_app.before_request
    def _fresh_user() -> None:
        # The test holds the app context open, and Flask reuses it for requests: forget the last request's user.
        g.pop("_login_user", None)

    with flask_app.app_context():
        upgrade_db()
        seed_catalogue(session=db.session)
        yield flask_app
        db.session.remove()
        db.engine.dispose()


def make_account(email: str, role: str = "admin") -> AdminAccount:
    """A confirmed portal account."""
    now = datetime.now(UTC)
    account = AdminAccount(
        email=email,
        email_normalized=email.lower(),
        password_hash=_HASH,
        role=role,
        security_stamp=secrets.token_hex(16),
        created_at=now,
        confirmed_at=now,
    )
    db.session.add(account)
    db.session.commit()
    return account


def make_subscription(owner: AdminAccount, sub_id: str, *, verified: bool = True) -> Subscription:
    """A subscription with one bridge (verified unless told otherwise), made directly in the database."""
    now = datetime.now(UTC)
    subscription = Subscription(
        subscription_id=sub_id,
        subscription_id_normalized=sub_id.lower(),
        company_name=f"{sub_id} S.A.",
        serial_number="ES-0001",
        vat_number="EL123456789",
        password_encrypted="not-used-here",
        owner_id=owner.id,
        created_at=now,
        updated_at=now,
    )
    subscription.bridges.append(
        Bridge(
            bridge_id="Demo_002",
            bridge_id_normalized="demo_002",
            database_id="Demo",
            company_id="002",
            scheme="https",
            host="erp.example.test",
            port=443,
            verified_at=now if verified else None,
            created_at=now,
            updated_at=now,
        )
    )
    db.session.add(subscription)
    db.session.commit()
    return subscription


def make_user(
    subscription: Subscription, erp_user_id: str, *, status: str = "VERIFIED", active: bool = True
) -> SubscriptionUser:
    """A subscription user in the given state."""
    now = datetime.now(UTC)
    user = SubscriptionUser(
        id=uuid.uuid4(),
        subscription_pk=subscription.id,
        erp_user_id=erp_user_id,
        erp_user_id_normalized=erp_user_id.lower(),
        email=f"{erp_user_id.lower()}@{subscription.subscription_id.lower()}.example",
        email_normalized=f"{erp_user_id.lower()}@{subscription.subscription_id.lower()}.example",
        status=status,
        active=active,
        invited_at=now,
        verified_at=now if status == "VERIFIED" else None,
        created_at=now,
        updated_at=now,
    )
    db.session.add(user)
    db.session.commit()
    return user


def app_named(code: str) -> App:
    return db.session.execute(select(App).where(App.code == code)).scalar_one()


def plan_named(code: str, name: str) -> Any:
    return next(p for p in app_named(code).plans if p.name == name)


def signed_in(app: Flask, account: AdminAccount) -> FlaskClient:
    """A test client whose session is signed in as `account`."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = account.get_id()
        session["_fresh"] = True
    return client


@pytest.fixture
def admin(app: Flask) -> AdminAccount:
    return make_account("ann@example.com")


@pytest.fixture
def operator(app: Flask) -> AdminAccount:
    return make_account("ops@cloudstore.example", role="operator")


@pytest.fixture
def subscription(admin: AdminAccount) -> Subscription:
    return make_subscription(admin, "roservices")


@pytest.fixture
def client(app: Flask, admin: AdminAccount) -> FlaskClient:
    return signed_in(app, admin)


@pytest.fixture
def operator_client(app: Flask, operator: AdminAccount) -> FlaskClient:
    return signed_in(app, operator)


def days(n: float) -> timedelta:
    return timedelta(days=n)


Maker = Callable[..., Any]


BILLING = {
    "billing_name": "Roservices S.A.",
    "billing_vat_number": "EL123456789",
    "billing_address": "1 Kifisias Ave, 15123 Athens, Greece",
    "billing_email": "billing@roservices.example",
}


def add_to_cart(client: FlaskClient, code: str, plan: str, months: Any = "12", sub_id: str = "roservices") -> Any:
    """ADD TO CART → months → CHOOSE, through the pages."""
    plan_id = plan_named(code, plan).id
    return client.post(f"/store/apps/{code}/plans/{plan_id}/add", data={"subscription": sub_id, "months": months})


def checkout(client: FlaskClient, method: str = "BANK_DEPOSIT", sub_id: str = "roservices", **billing: str) -> Any:
    """Accept the terms (Next), then billing details and the payment method (Next)."""
    response = client.post(f"/subscriptions/{sub_id}/cart", data={"terms": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.post(f"/subscriptions/{sub_id}/checkout", data={**BILLING, "payment_method": method, **billing})


def order_code_of(response: Any) -> str:
    """The Order Code a checkout redirected to."""
    import re

    match = re.search(r"ORD-\d{8}-\d{4}", response.headers.get("Location", ""))
    assert match, response.headers.get("Location")
    return match.group(0)


def make_licence(
    subscription: Subscription,
    code: str,
    plan: str,
    *,
    ends_at: datetime | None,
    kind: str = "PAID",
    seats: int | None = None,
    starts_at: datetime | None = None,
) -> Any:
    """A licence made directly in the database."""
    from authserver.store.models import Licence

    chosen = plan_named(code, plan)
    now = datetime.now(UTC)
    licence = Licence(
        subscription_pk=subscription.id,
        app_id=chosen.app_id,
        plan_id=chosen.id,
        kind=kind,
        seats=seats or chosen.users,
        starts_at=starts_at or now - timedelta(days=30),
        ends_at=ends_at,
        trial_started_at=now if kind == "TRIAL" else None,
        created_at=now,
        updated_at=now,
    )
    db.session.add(licence)
    db.session.commit()
    return licence
