"""Registering and changing bridges' settings: validation, case-insensitive ids, the password kept encrypted."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from marshmallow import ValidationError
from sqlalchemy import select

from bridge_gateway.bridges.models import Bridge
from bridge_gateway.bridges.schemas import BridgeCreateSchema
from bridge_gateway.extensions import db
from bridge_gateway.runtime import Gateway
from bridge_gateway.simulator.server import SimulatorServer
from tests.integration.bridge_gateway.conftest import BRIDGE
from tests.integration.bridge_gateway.gw_helpers import DEMO_PASSWORD, bridge_body

SIM = "http://127.0.0.1:8300"


def test_register_answers_settings_without_password(
    test_client: FlaskClient, headers: dict[str, str], app: Flask
) -> None:
    response = test_client.post("/v1/bridges", json=bridge_body(SIM, host="EBS.Example.COM"), headers=headers)
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].endswith("/v1/bridges/demo/Demo_002")
    assert body["host"] == "ebs.example.com"
    assert body["verifiedAt"] is None
    assert "subscriptionPassword" not in body and DEMO_PASSWORD not in response.get_data(as_text=True)
    row = db.session.execute(select(Bridge)).scalar_one()
    assert DEMO_PASSWORD not in row.subscription_password_encrypted
    assert app.extensions["encryptor"].decrypt(row.subscription_password_encrypted) == DEMO_PASSWORD


def test_ids_are_unique_case_insensitively(test_client: FlaskClient, headers: dict[str, str]) -> None:
    assert test_client.post("/v1/bridges", json=bridge_body(SIM), headers=headers).status_code == 201
    again = test_client.post(
        "/v1/bridges", json=bridge_body(SIM, subscriptionId="DEMO", bridgeId="demo_002"), headers=headers
    )
    assert again.status_code == 409
    assert again.get_json()["type"] == "https://cloudstore.dev/problems/bridge-exists"
    other = test_client.post("/v1/bridges", json=bridge_body(SIM, bridgeId="Demo_003"), headers=headers)
    assert other.status_code == 201
    read = test_client.get("/v1/bridges/DEMO/DEMO_002", headers=headers)
    assert read.status_code == 200 and read.get_json()["bridgeId"] == "Demo_002"
    listed = test_client.get("/v1/bridges/demo", headers=headers).get_json()["bridges"]
    assert [b["bridgeId"] for b in listed] == ["Demo_002", "Demo_003"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"scheme": "ftp"}, "scheme"),
        ({"scheme": "file"}, "scheme"),
        ({"port": 0}, "port"),
        ({"port": 70000}, "port"),
        ({"port": "8300"}, "port"),
        ({"host": "ebs.example.com/path"}, "host"),
        ({"host": "user@ebs.example.com"}, "host"),
        ({"host": "ebs.example.com:8300"}, "host"),
        ({"host": "http://ebs.example.com"}, "host"),
        ({"host": "ebs..example.com"}, "host"),
        ({"host": "1.2.3"}, "host"),
        ({"host": ""}, "host"),
        ({"subscriptionId": "de mo"}, "subscriptionId"),
        ({"bridgeId": "x"}, "bridgeId"),
        ({"subscriptionPassword": ""}, "subscriptionPassword"),
        ({"subscriptionPassword": None}, "subscriptionPassword"),
        ({"databaseId": ""}, "databaseId"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_register_validation(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as failed:
        BridgeCreateSchema().load(bridge_body(SIM, **overrides))
    assert field in failed.value.messages


@pytest.mark.parametrize(
    ("host", "normalized"),
    [
        ("EBS.Example.com", "ebs.example.com"),
        ("[2001:DB8::1]", "2001:db8::1"),
        (" 93.184.216.34 ", "93.184.216.34"),
        ("xn--mxaa.example", "xn--mxaa.example"),
    ],
)
def test_hosts_are_normalized(host: str, normalized: str) -> None:
    assert BridgeCreateSchema().load(bridge_body(SIM, host=host))["host"] == normalized


def test_invalid_registration_is_a_422_problem(test_client: FlaskClient, headers: dict[str, str]) -> None:
    response = test_client.post("/v1/bridges", json=bridge_body(SIM, scheme="ftp", port=0), headers=headers)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert set(response.get_json()["errors"]) == {"scheme", "port"}


def test_every_setting_is_required(test_client: FlaskClient, headers: dict[str, str]) -> None:
    body = bridge_body(SIM)
    for name in ("subscriptionGid", "subscriptionPassword", "host", "port", "databaseId", "companyId"):
        partial = {k: v for k, v in body.items() if k != name}
        response = test_client.post("/v1/bridges", json=partial, headers=headers)
        assert response.status_code == 422 and name in response.get_json()["errors"], name
    without_scheme = {k: v for k, v in body.items() if k != "scheme"}
    response = test_client.post("/v1/bridges", json=without_scheme, headers=headers)
    assert response.status_code == 201 and response.get_json()["scheme"] == "https"


@pytest.mark.parametrize(
    "host",
    ["169.254.169.254", "::ffff:10.0.0.1"],  # the full matrix is in test_gw_guard.py
)
def test_register_refuses_non_public_addresses(test_client: FlaskClient, headers: dict[str, str], host: str) -> None:
    response = test_client.post("/v1/bridges", json=bridge_body(SIM, host=host), headers=headers)
    assert response.status_code == 403
    body = response.get_json()
    assert body["type"] == "https://cloudstore.dev/problems/destination-refused"
    assert "not a public internet address" in body["detail"]


def test_register_refuses_a_name_that_resolves_to_a_private_address(
    test_client: FlaskClient, headers: dict[str, str], gw: Gateway
) -> None:
    gw.guard.resolver = lambda host, port, **kw: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", port))]
    response = test_client.post("/v1/bridges", json=bridge_body(SIM, host="ebs.customer.example"), headers=headers)
    assert response.status_code == 403
    assert "10.0.0.1" not in response.get_data(as_text=True)  # the answer never tells what an internal name resolves to


def test_update_changes_settings_and_voids_verification(
    test_client: FlaskClient, headers: dict[str, str], app: Flask, sim: SimulatorServer
) -> None:
    assert test_client.post("/v1/bridges", json=bridge_body(sim.url), headers=headers).status_code == 201
    row = db.session.execute(select(Bridge)).scalar_one()
    row.verified_at = row.created_at
    db.session.commit()
    assert test_client.patch(BRIDGE, json={"companyId": "003"}, headers=headers).get_json()["verifiedAt"] is not None
    response = test_client.patch(BRIDGE, json={"port": 9, "subscriptionPassword": "new#pw"}, headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["port"] == 9 and body["companyId"] == "003" and body["verifiedAt"] is None
    db.session.expire_all()
    row = db.session.execute(select(Bridge)).scalar_one()
    assert app.extensions["encryptor"].decrypt(row.subscription_password_encrypted) == "new#pw"
    assert test_client.patch(BRIDGE, json={"host": "10.1.2.3"}, headers=headers).status_code == 403
    assert test_client.patch(BRIDGE, json={"bridgeId": "Other"}, headers=headers).status_code == 422


def test_update_applies_to_the_next_call_at_once(
    test_client: FlaskClient, headers: dict[str, str], sim: SimulatorServer
) -> None:
    assert test_client.post("/v1/bridges", json=bridge_body(sim.url, port=9), headers=headers).status_code == 201
    relay = f"{BRIDGE}/relay/api/rpc/FetchSessionInfo/"
    assert test_client.get(relay, headers=headers).status_code == 502  # nothing listens on port 9
    test_client.patch(BRIDGE, json={"port": sim.port}, headers=headers)
    assert test_client.get(relay, headers=headers).status_code == 200


def test_delete(test_client: FlaskClient, headers: dict[str, str]) -> None:
    test_client.post("/v1/bridges", json=bridge_body(SIM), headers=headers)
    assert test_client.delete(BRIDGE, headers=headers).status_code == 204
    assert test_client.get(BRIDGE, headers=headers).status_code == 404
    assert test_client.delete(BRIDGE, headers=headers).status_code == 404
