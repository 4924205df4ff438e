"""What every service shares: health, readiness, problem responses, request ids, config loading."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

import authserver
import bridge_gateway
import resource_api
from shared.config import ConfigError
from shared.db import upgrade_db

FACTORIES = {
    "authserver": (authserver.create_app, {"ISSUER": "http://127.0.0.1:8000"}),
    "resource_api": (resource_api.create_app, {"AUTH_SERVER_URL": "http://127.0.0.1:8000"}),
    "bridge_gateway": (bridge_gateway.create_app, {"AUTH_SERVER_URL": "http://127.0.0.1:8000"}),
}


@pytest.fixture(params=sorted(FACTORIES))
def service_app(request, database_url) -> Flask:
    factory, required = FACTORIES[request.param]
    app = factory({"TESTING": True, "DATABASE_URL": database_url, **required})

    @app.get("/_boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2 SELECT * FROM users")

    with app.app_context():
        upgrade_db()
    yield app
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


def test_healthz_answers_ok(service_app):
    response = service_app.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_answers_ready_when_database_reachable(service_app):
    response = service_app.test_client().get("/readyz")
    assert response.status_code == 200 and response.get_json() == {"status": "ready"}


def test_readyz_answers_503_problem_when_database_unreachable(tmp_path):
    app = resource_api.create_app(
        {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "AUTH_SERVER_URL": "http://127.0.0.1:8000"}
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 503


def test_unknown_route_is_a_problem(service_app):
    response = service_app.test_client().get("/no/such/route")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": response.get_json()["detail"],
    }


def test_wrong_method_is_a_problem_with_allow_header(service_app):
    response = service_app.test_client().post("/healthz")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert "GET" in response.headers["Allow"]


def test_unexpected_error_is_logged_and_answered_without_internals(service_app, caplog):
    with caplog.at_level(logging.ERROR):
        response = service_app.test_client().get("/_boom", headers={"X-Request-ID": "req-boom-1"})
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    text = response.get_data(as_text=True)
    assert "hunter2" not in text and "SELECT" not in text and "Traceback" not in text
    assert response.headers["X-Request-ID"] == "req-boom-1"
    assert any(record.exc_info and record.request_id == "req-boom-1" for record in caplog.records)


def test_request_id_is_echoed_or_created(service_app):
    client = service_app.test_client()
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    created = client.get("/healthz").headers["X-Request-ID"]
    assert len(created) == 32
    # A malformed id (header injection, oversized) is replaced, not echoed.
    assert client.get("/healthz", headers={"X-Request-ID": "x" * 500}).headers["X-Request-ID"] != "x" * 500


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_missing_required_setting_fails_at_start(name, tmp_path, monkeypatch):
    factory, required = FACTORIES[name]
    key = next(iter(required))
    monkeypatch.setenv("CLOUDSTORE_CONFIG_DIR", str(tmp_path))  # no TOML defaults
    with pytest.raises(ConfigError, match=key):
        factory({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_prefixed_environment_overrides_toml(name, monkeypatch, tmp_path):
    factory, required = FACTORIES[name]
    monkeypatch.setenv(f"{name.upper()}_LOG_LEVEL", "WARNING")
    monkeypatch.setenv(f"{name.upper()}_SOME_NUMBER", "42")
    app = factory({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db", **required})
    assert app.config["LOG_LEVEL"] == "WARNING"
    assert app.config["SOME_NUMBER"] == 42
