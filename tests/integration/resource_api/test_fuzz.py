"""Property-based fuzzing of the resource API's OpenAPI document: no generated request may get a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from resource_api import create_app
from shared.db import upgrade_db
from tests.integration.resource_api.tokens import TokenMint

ALL_SCOPES = "attendance:write insights:write surveys:read surveys:write"


@pytest.fixture
def fuzzed(database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "AUTH_SERVER_URL": "http://127.0.0.1:9"})
    with app.app_context():
        upgrade_db()
    mint = TokenMint()
    mint.install(app)
    yield app, {"Authorization": f"Bearer {mint.token(scope=ALL_SCOPES, lifetime=3600)}"}
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


def test_no_request_gets_a_server_error(fuzzed):
    # Driven by hand (not schemathesis' pytest plugin, which does not support this pytest yet).
    app, headers = fuzzed
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    statuses: list[int] = []

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def no_server_error(case) -> None:
            response = case.call(headers=headers)
            statuses.append(response.status_code)
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"

        no_server_error()
    assert any(200 <= status < 300 for status in statuses), "the fuzzer never got past validation"
