from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from resource_api import create_app
from tests.conftest import migrated_app
from tests.integration.resource_api.tokens import TokenMint


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    yield from migrated_app(create_app, database_url, AUTH_SERVER_URL="http://127.0.0.1:9")


@pytest.fixture
def test_client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def mint(app: Flask) -> TokenMint:
    """Signs the test's access tokens; the app trusts its key."""
    mint = TokenMint()
    mint.install(app)
    return mint
