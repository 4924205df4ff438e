from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bridge_gateway import create_app
from tests.conftest import migrated_app


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    yield from migrated_app(create_app, database_url, AUTH_SERVER_URL="http://127.0.0.1:9")


@pytest.fixture
def test_client(app: Flask) -> FlaskClient:
    return app.test_client()
