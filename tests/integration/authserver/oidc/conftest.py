"""The auth server on a real port whose ISSUER is its own address, an in-memory ERP directory, and helpers
that play the user's browser (requests, CSRF tokens scraped from the pages) and the client (Authlib)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from flask import Flask

from authserver import create_app
from authserver.clients import service as clients
from authserver.extensions import db
from tests.conftest import migrated_app
from tests.stack import LateApp, served

from .directory import Directory

REDIRECT_URI = "https://app.example.test/callback"
LOGOUT_URI = "https://app.example.test/signed-out"
ANN = {"login": "ann@example.com", "password": "Erp-pass-1", "company_id": "Demo_002", "branch_id": "001"}
OIDC_SCOPE = "openid profile email offline_access"


@dataclass
class LiveServer:
    base: str
    app: Flask
    directory: Directory


@pytest.fixture
def overrides() -> dict[str, Any]:
    """Config for the app under test; tests override this fixture to change it."""
    return {}


@pytest.fixture
def directory() -> Directory:
    found = Directory()
    found.add(
        sub="su-1",
        subscription_id="roservices",
        user_id="esmaster",
        email="ann@example.com",
        name="Ann Example",
        password=ANN["password"],
        administrator=True,
    )
    return found


@pytest.fixture
def _server() -> Iterator[tuple[LateApp, str]]:
    """A free port bound and served before the app exists, so that the app's ISSUER is its own address."""
    late = LateApp()
    with served(late) as base:
        yield late, base


@pytest.fixture
def app(
    database_url: str, _server: tuple[LateApp, str], directory: Directory, overrides: dict[str, Any]
) -> Iterator[Flask]:
    late, base = _server
    for app in migrated_app(create_app, database_url, ISSUER=base, **overrides):
        app.extensions["erp_authenticator"] = directory
        late.app = app
        yield app


@pytest.fixture
def live(app: Flask, _server: tuple[LateApp, str], directory: Directory) -> LiveServer:
    """The app answering real HTTP on 127.0.0.1, at the address it uses as its issuer."""
    return LiveServer(base=_server[1], app=app, directory=directory)


@pytest.fixture
def make_client(app: Flask) -> Callable[..., clients.NewClient]:
    """Register an app's OIDC client: authorization code + refresh token, the OIDC scopes, our redirect URI."""

    def make(**kwargs: Any) -> clients.NewClient:
        kwargs.setdefault("name", "Time Attendance")
        kwargs.setdefault("grant_types", ("authorization_code", "refresh_token"))
        kwargs.setdefault("scope", OIDC_SCOPE + " attendance:write")
        kwargs.setdefault("redirect_uris", (REDIRECT_URI,))
        kwargs.setdefault("post_logout_redirect_uris", (LOGOUT_URI,))
        kwargs.setdefault("app", "timeattendance")
        return clients.create_client(session=db.session, **kwargs)

    return make


@pytest.fixture
def oidc_client(make_client: Callable[..., clients.NewClient]) -> clients.NewClient:
    return make_client()


@pytest.fixture
def browser() -> Iterator[requests.Session]:
    """The user's browser: cookies kept, redirects followed one by one by the helpers."""
    with requests.Session() as session:
        yield session


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@dataclass
class Authorization:
    """An authorization request as the client (Authlib's OAuth2Session) prepared it."""

    url: str
    state: str
    nonce: str
    verifier: str
    rp: OAuth2Session


def start(
    live: LiveServer, client: clients.NewClient, *, scope: str = OIDC_SCOPE, method: str | None = None, **params: Any
) -> Authorization:
    """A fresh authorization request with PKCE S256, state and nonce; extra `params` go into the URL."""
    rp = OAuth2Session(
        client.client.client_id,
        client.client_secret,
        scope=scope,
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method=method or client.client.token_endpoint_auth_method,
    )
    verifier, nonce = generate_token(48), generate_token(20)
    url, state = rp.create_authorization_url(
        f"{live.base}/oauth/authorize", code_verifier=verifier, nonce=nonce, **params
    )
    return Authorization(url=url, state=state, nonce=nonce, verifier=verifier, rp=rp)


@dataclass
class Outcome:
    """Where the browser ended: the redirect back to the client (`location`), or a page (`page`)."""

    location: str | None
    page: requests.Response
    seen: list[str] = field(default_factory=list)

    @property
    def params(self) -> dict[str, str]:
        assert self.location, f"no redirect to the client; ended on {self.page.url} ({self.page.status_code})"
        return query(self.location)


def submit(browser: requests.Session, page: requests.Response, data: dict[str, str]) -> requests.Response:
    """Post a form of `page` (to the page's own URL, as the forms without `action` do) with its CSRF token."""
    return browser.post(page.url, data={"csrf_token": csrf_token(page.text), **data}, allow_redirects=False, timeout=10)


def drive(
    live: LiveServer,
    browser: requests.Session,
    url: str,
    *,
    decision: str | None = "allow",
    remember: bool = False,
    credentials: dict[str, str] | None = None,
    sign_in: bool = True,
) -> Outcome:
    """Follow the flow like a person: sign in when asked, then Allow or Deny on the consent page."""
    seen: list[str] = []
    response = browser.get(url, allow_redirects=False, timeout=10)
    for _ in range(12):
        location = response.headers.get("Location")
        if response.is_redirect and location:
            target = urljoin(response.url, location)
            if not target.startswith(live.base):
                return Outcome(location=target, page=response, seen=seen)
            response = browser.get(target, allow_redirects=False, timeout=10)
            continue
        path = urlsplit(response.url).path
        seen.append(path)
        if path == "/signin/erp" and response.status_code == 200 and sign_in and seen.count(path) == 1:
            response = submit(browser, response, credentials or ANN)
            continue
        if path == "/oauth/authorize" and response.status_code == 200 and decision and 'value="allow"' in response.text:
            sub = re.search(r'name="sub" value="([^"]*)"', response.text)
            assert sub, "the consent form names no user"
            form = {
                "decision": decision,
                "sub": html.unescape(sub.group(1)),
                **({"remember": "yes"} if remember else {}),
            }
            action = re.search(r'<form class="form" method="post" action="([^"]+)"', response.text)
            assert action, "the consent page has no form"
            response = browser.post(
                urljoin(response.url, html.unescape(action.group(1))),
                data={"csrf_token": csrf_token(response.text), **form},
                allow_redirects=False,
                timeout=10,
            )
            decision = None
            continue
        return Outcome(location=None, page=response, seen=seen)
    raise AssertionError(f"too many steps: {seen}")


def exchange(live: LiveServer, auth: Authorization, location: str, **kwargs: Any) -> dict:
    """The client's token request for the code in `location` (Authlib checks `state`)."""
    return dict(
        auth.rp.fetch_token(
            f"{live.base}/oauth/token",
            authorization_response=location,
            state=auth.state,
            code_verifier=auth.verifier,
            **kwargs,
        )
    )


def sign_in_and_get_tokens(
    live: LiveServer, browser: requests.Session, client: clients.NewClient, **params: Any
) -> tuple[Authorization, dict]:
    auth = start(live, client, **params)
    outcome = drive(live, browser, auth.url)
    return auth, exchange(live, auth, outcome.location)
