"""GET api/asset/: files from the real CSWebAssets folder, path traversal refused, tenants kept apart."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bridge_gateway.simulator import create_app
from bridge_gateway.simulator.server import SimulatorServer
from tests.integration.simulator.sim_helpers import OTHER_SUB, assert_error, bearer


@pytest.fixture(scope="module")
def assets(config_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimulatorServer, Path]]:
    """A server with files in its CSWebAssets folder and a secret file next to that folder."""
    data_dir = tmp_path_factory.mktemp("assets")
    app = create_app({"SIMULATOR_CONFIG": str(config_file), "SIMULATOR_DATA_DIR": str(data_dir)})
    folder = data_dir / "CSWebAssets"
    (folder / "demo-Demo_002.txt").write_text("2161188", encoding="utf-8")
    (folder / "other-Other_001.txt").write_text("7654321", encoding="utf-8")
    (folder / "esrfa" / "config").mkdir(parents=True)
    (folder / "esrfa" / "config" / "menuConfig.json").write_text('{"menu": "Μενού"}', encoding="utf-8")
    (folder / "Αρχείο.txt").write_text("ελληνικά", encoding="utf-8")
    (data_dir / "secret.txt").write_text("do not serve", encoding="utf-8")
    (folder / "escape").symlink_to(data_dir / "secret.txt")
    with SimulatorServer(app, port=0) as server:
        yield server, folder


def _asset(http: requests.Session, server: SimulatorServer, token: str, **params: Any) -> requests.Response:
    return http.get(f"{server.url}/api/asset/", params=params, headers=bearer(token), timeout=10)


def test_serves_the_verification_file(assets: Any, http: requests.Session, token: Any) -> None:
    server, _ = assets
    response = _asset(http, server, token(server), routeId="demo-Demo_002.txt")
    assert response.status_code == 200
    assert response.text == "2161188"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_base64_answer(assets: Any, http: requests.Session, token: Any) -> None:
    server, _ = assets
    response = _asset(http, server, token(server), routeId="demo-Demo_002.txt", base64="true")
    assert response.status_code == 200
    assert base64.b64decode(response.json()) == b"2161188"


def test_serves_nested_and_greek_named_files(assets: Any, http: requests.Session, token: Any) -> None:
    server, _ = assets
    value = token(server)
    nested = _asset(http, server, value, routeId="esrfa/config/menuConfig.json")
    assert nested.json() == {"menu": "Μενού"}
    greek = _asset(http, server, value, routeId="Αρχείο.txt")
    assert greek.content.decode("utf-8") == "ελληνικά"


def test_file_written_while_running_is_served(assets: Any, http: requests.Session, token: Any) -> None:
    server, folder = assets
    value = token(server)
    assert_error(_asset(http, server, value, routeId="late.txt"), 404, "asset-not-found")
    (folder / "late.txt").write_text("1234567", encoding="utf-8")
    assert _asset(http, server, value, routeId="late.txt").text == "1234567"


@pytest.mark.parametrize("route_id", ["missing.txt", "esrfa", "esrfa/config", "esrfa/nothing/x.json"])
def test_missing_files(assets: Any, http: requests.Session, token: Any, route_id: str) -> None:
    server, _ = assets
    assert_error(_asset(http, server, token(server), routeId=route_id), 404, "asset-not-found")


@pytest.mark.parametrize(
    "route_id",
    [
        "",
        "../secret.txt",
        "esrfa/../../secret.txt",
        "esrfa/../demo-Demo_002.txt",
        "/etc/passwd",
        "..\\secret.txt",
        "C:/Windows/win.ini",
        "c:secret.txt",
        "demo-Demo_002.txt\x00.png",
        "esrfa//config/menuConfig.json",
        "escape",
        "..",
    ],
)
def test_path_traversal_is_refused(assets: Any, http: requests.Session, token: Any, route_id: str) -> None:
    server, _ = assets
    response = _asset(http, server, token(server), routeId=route_id)
    assert_error(response, 400, "invalid-routeId")
    assert "do not serve" not in response.text


def test_missing_route_id_is_refused(assets: Any, http: requests.Session, token: Any) -> None:
    server, _ = assets
    response = http.get(f"{server.url}/api/asset/", headers=bearer(token(server)), timeout=10)
    assert_error(response, 400, "invalid-routeId")


def test_encoded_traversal_in_the_url_is_refused(assets: Any, http: requests.Session, token: Any) -> None:
    server, _ = assets
    url = f"{server.url}/api/asset/?routeId=%2E%2E%2Fsecret.txt"
    assert_error(http.get(url, headers=bearer(token(server)), timeout=10), 400, "invalid-routeId")


def test_another_tenants_file_is_not_served(assets: Any, http: requests.Session, token: Any) -> None:
    server, _ = assets
    demo = token(server)
    other = token(server, "othersvc", sub=OTHER_SUB)
    assert_error(_asset(http, server, demo, routeId="other-Other_001.txt"), 404, "asset-not-found")
    assert_error(_asset(http, server, other, routeId="demo-Demo_002.txt"), 404, "asset-not-found")
    assert _asset(http, server, other, routeId="other-Other_001.txt").text == "7654321"
    assert _asset(http, server, other, routeId="esrfa/config/menuConfig.json").status_code == 200  # shared file


def test_same_subscription_other_bridge_file_is_not_served(assets: Any, http: requests.Session, token: Any) -> None:
    server, folder = assets
    (folder / "demo-Demo_003.txt").write_text("3333333", encoding="utf-8")
    demo_002 = token(server)
    assert_error(_asset(http, server, demo_002, routeId="demo-Demo_003.txt"), 404, "asset-not-found")
