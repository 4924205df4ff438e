from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from resource_api import create_app
from shared.db import upgrade_db


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "AUTH_SERVER_URL": "http://127.0.0.1:9"})
    with app.app_context():
        upgrade_db()
        yield app
        app.extensions["sqlalchemy"].session.remove()
        app.extensions["sqlalchemy"].engine.dispose()


@pytest.fixture
def test_client(app: Flask) -> FlaskClient:
    return app.test_client()
