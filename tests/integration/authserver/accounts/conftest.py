"""Portal fixtures: a real SMTP server (aiosmtpd) collecting mail, an app that sends to it, form helpers."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from authserver import create_app
from authserver.accounts.models import AdminAccount
from authserver.audit.models import AuditEvent
from authserver.extensions import db
from shared.db import upgrade_db

STRONG = "Str0ng!pass"
OTHER_STRONG = "An0ther#pass"
SMTP_USER, SMTP_PASSWORD = "mailer", "s3cret-relay"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Inbox:
    """What the SMTP server received, with a condition to wait on."""

    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        with self.arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self.arrived.notify_all()
        return "250 Message accepted"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
        if ok:
            self.logins.append(SMTP_USER)
        return AuthResult(success=ok)

    def to(self, address: str) -> list[EmailMessage]:
        """The messages addressed to `address`."""
        return [m for m in self.messages if m["To"].lower() == address.lower()]

    def last_to(self, address: str) -> EmailMessage:
        """The newest message to `address`."""
        found = self.to(address)
        assert found, f"no mail to {address}; got {[m['To'] for m in self.messages]}"
        return found[-1]

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        """Block until `count` messages have arrived."""
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.messages) >= count, timeout), "mail did not arrive"


@dataclass
class SmtpServer:
    """A running SMTP server and the URL the app uses to reach it."""

    inbox: Inbox
    port: int

    @property
    def url(self) -> str:
        return f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{self.port}"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """An aiosmtpd server on a free 127.0.0.1 port that requires a login and keeps every message."""
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
def make_app(database_url: str, smtp_server: SmtpServer) -> Iterator[Callable[..., Flask]]:
    """Build a migrated auth server that mails through `smtp_server`; CSRF is off unless a test turns it on."""
    built: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        config = {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "ISSUER": "https://auth.example.test",
            "WTF_CSRF_ENABLED": False,
            "SMTP_URL": smtp_server.url,
            **overrides,
        }
        app = create_app({k: v for k, v in config.items() if v is not None})
        with app.app_context():
            if not built:
                upgrade_db()
        built.append(app)
        return app

    yield make
    for app in built:
        with app.app_context():
            app.extensions["sqlalchemy"].session.remove()
            app.extensions["sqlalchemy"].engine.dispose()


@pytest.fixture
def portal(make_app: Callable[..., Flask]) -> Flask:
    """The default portal app."""
    return make_app()


@pytest.fixture
def client(portal: Flask) -> FlaskClient:
    return portal.test_client()


@pytest.fixture
def inbox(smtp_server: SmtpServer) -> Inbox:
    return smtp_server.inbox


def link_in(message: EmailMessage, kind: str) -> str:
    """The path of the first link of `kind` (e.g. "confirm", "reset-password") in a message's text."""
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    match = re.search(rf"https?://\S+/{kind}/\S+", text)
    assert match, f"no {kind} link in: {text}"
    return urlsplit(match.group(0)).path


def register(client: FlaskClient, email: str, password: str = STRONG, confirm: str | None = None) -> Any:
    return client.post(
        "/register", data={"email": email, "password": password, "confirm_password": confirm or password}
    )


def sign_in(client: FlaskClient, email: str, password: str = STRONG, **kwargs: Any) -> Any:
    return client.post("/signin", data={"email": email, "password": password}, **kwargs)


def registered_and_confirmed(client: FlaskClient, inbox: Inbox, email: str, password: str = STRONG) -> None:
    """Register `email` and follow the confirmation link that arrives."""
    assert register(client, email, password).status_code == 302
    assert client.get(link_in(inbox.last_to(email), "confirm")).status_code == 302


def account_row(app: Flask, email: str) -> AdminAccount:
    """The account as stored now (read in a fresh app context, so never stale)."""
    with app.app_context():
        query = select(AdminAccount).where(AdminAccount.email_normalized == email.lower())
        return db.session.execute(query).scalar_one()


def audit_events(app: Flask) -> list[AuditEvent]:
    """Every audit event, oldest first."""
    with app.app_context():
        return list(db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars())


def page_text(response: Any) -> str:
    """The response body with tags removed and whitespace collapsed (for matching sentences)."""
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&amp;", "&").replace("&#39;", "'")
