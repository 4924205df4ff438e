"""``python -m bridge_gateway.simulator``: serve (a real process stopped by a signal), add-user, write-asset, faults."""

from __future__ import annotations

import re
import selectors
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from bridge_gateway.simulator.cli import main
from bridge_gateway.simulator.server import SimulatorServer
from tests.integration.simulator.sim_helpers import SUB, assert_error, bearer, login_body

REPO = Path(__file__).resolve().parents[3]
CAPS = "/api/Login/ServerCapabilities/"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the simulator's command line in a new Python process."""
    command = [sys.executable, "-m", "bridge_gateway.simulator", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=REPO, check=False)


def _login(
    http: requests.Session, server: SimulatorServer, user: str, password: str, **model: Any
) -> requests.Response:
    body = {**SUB, "Model": {"UserID": user, "Password": password, **model}}
    return http.post(f"{server.url}/api/Login/Login", json=body, timeout=10)


# add-user ------------------------------------------------------------------------------------------


def test_add_user_is_merged_with_the_config_users(
    tmp_path: Path, config_file: Path, start_server: Callable[..., SimulatorServer], http: requests.Session
) -> None:
    server = start_server(data_dir=tmp_path)
    common = ["--config", str(config_file), "--data-dir", str(tmp_path)]
    flags = ["--administrator", "--payroll", "--branch", "001", "--branch", "ΑΘΗ", "--name", "Νέος Διαχειριστής"]
    result = run_cli("add-user", *common, "--user-id", "newadmin", "--password", "NewAdmin#2024", *flags)
    assert result.returncode == 0, result.stderr
    assert "newadmin" in result.stdout

    response = _login(http, server, "newadmin", "NewAdmin#2024", BranchID="ΑΘΗ")
    assert response.status_code == 200, response.text
    model = response.json()["Model"]
    assert model["Administrator"] is True and model["Payroll"] is True
    assert model["Name"] == "Νέος Διαχειριστής"
    assert [s["Key"] for s in model["UserSites"]] == ["001", "ΑΘΗ"]
    assert_error(_login(http, server, "newadmin", "wrong"), 401, "login-invalid-password")

    assert main(["add-user", *common, "--user-id", "noweb", "--password", "NoWeb#2024x", "--no-webapi"]) == 0
    assert_error(_login(http, server, "noweb", "NoWeb#2024x"), 403, "login-webapi-not-allowed")
    assert main(["add-user", *common, "--user-id", "gone", "--password", "Gone#2024xx", "--inactive"]) == 0
    assert_error(_login(http, server, "gone", "Gone#2024xx"), 401, "login-inactive-user")


def test_add_user_overrides_a_config_user(
    tmp_path: Path, config_file: Path, start_server: Callable[..., SimulatorServer], http: requests.Session
) -> None:
    server = start_server(data_dir=tmp_path)
    common = ["--config", str(config_file), "--data-dir", str(tmp_path)]
    assert _login(http, server, "clerk", "Clerk#2024xx").status_code == 200
    assert main(["add-user", *common, "--user-id", "clerk", "--password", "Clerk#2025yy", "--bridge", "Demo_002"]) == 0
    assert_error(_login(http, server, "clerk", "Clerk#2024xx"), 401, "login-invalid-password")
    response = _login(http, server, "clerk", "Clerk#2025yy")
    assert response.status_code == 200
    assert [s["Key"] for s in response.json()["Model"]["UserSites"]] == ["001", "002", "ΑΘΗ"]  # default: every branch


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--branch", "999"], "branch(es) 999"),
        (["--bridge", "Nope_001"], "unknown bridge(s): Nope_001"),
        (["--totp-secret", "not base32!"], "TOTPSecret"),
    ],
)
def test_add_user_errors(
    tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    args = ["add-user", "--config", str(config_file), "--data-dir", str(tmp_path), "--user-id", "x", "--password", "y"]
    assert main(args + extra) == 2
    assert message in capsys.readouterr().err


# write-asset ---------------------------------------------------------------------------------------


def test_write_asset_serves_the_file(
    tmp_path: Path, start_server: Callable[..., SimulatorServer], http: requests.Session, token: Callable[..., str]
) -> None:
    server = start_server(data_dir=tmp_path)
    result = run_cli("write-asset", "--data-dir", str(tmp_path), "--name", "demo-Demo_002.txt", "--content", "2161188")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "CSWebAssets" / "demo-Demo_002.txt").read_text() == "2161188"
    params = {"routeId": "demo-Demo_002.txt"}
    response = http.get(f"{server.url}/api/asset/", params=params, headers=bearer(token(server)), timeout=10)
    assert response.text == "2161188"
    assert main(["write-asset", "--data-dir", str(tmp_path), "--name", "esrfa/config/x.json", "--content", "{}"]) == 0
    assert (tmp_path / "CSWebAssets" / "esrfa" / "config" / "x.json").read_text() == "{}"


@pytest.mark.parametrize("name", ["../outside.txt", "/etc/abs.txt", "a/../../outside.txt"])
def test_write_asset_refuses_paths_outside_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    assert main(["write-asset", "--data-dir", str(tmp_path / "data"), "--name", name, "--content", "x"]) == 2
    assert "not valid" in capsys.readouterr().err
    assert not (tmp_path / "outside.txt").exists()


# faults --------------------------------------------------------------------------------------------


def test_faults_command(
    start_server: Callable[..., SimulatorServer], http: requests.Session, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_server()
    result = run_cli("faults", "--control-url", server.control_url, "--latency-ms", "25", "--error-rate", "0")
    assert result.returncode == 0, result.stderr
    assert '"latency_ms":25.0' in result.stdout.replace(" ", "")
    assert server.fault_state()["latency_ms"] == 25.0

    assert main(["faults", "--control-url", server.control_url, "--down"]) == 0
    with requests.Session() as fresh, pytest.raises(requests.exceptions.ConnectionError):
        fresh.get(server.url + CAPS, timeout=10)
    assert main(["faults", "--control-url", server.control_url, "--up"]) == 0
    assert http.get(server.url + CAPS, timeout=10).ok
    capsys.readouterr()
    assert main(["faults", "--control-url", server.control_url]) == 0  # no change: prints the state
    assert '"down":false' in capsys.readouterr().out.replace(" ", "")
    assert main(["faults", "--control-url", server.control_url, "--error-rate", "3"]) == 1
    assert "error_rate" in capsys.readouterr().err


def test_faults_command_when_nothing_listens(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["faults", "--control-url", f"http://127.0.0.1:{_free_port()}"]) == 1
    assert "cannot reach" in capsys.readouterr().err


# serve ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _first_line(proc: subprocess.Popen[str], timeout: float = 20) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError("the simulator printed nothing")
    return proc.stdout.readline()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_runs_until_signalled(
    tmp_path: Path, config_file: Path, http: requests.Session, stop_signal: signal.Signals
) -> None:
    options = ["--port", "0", "--control-port", "0", "--config", str(config_file), "--data-dir", str(tmp_path)]
    command = [sys.executable, "-m", "bridge_gateway.simulator", "serve", *options, "--token-lifetime-seconds", "120"]
    with (
        (tmp_path / "stderr.log").open("w") as stderr,
        subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=stderr, text=True) as proc,
    ):
        try:
            line = _first_line(proc)
            ports = re.findall(r"http://127\.0\.0\.1:(\d+)/", line)
            assert len(ports) == 2, line
            url, control = (f"http://127.0.0.1:{p}" for p in ports)
            response = http.post(f"{url}/api/Login/Login", json=login_body("esmaster"), timeout=10)
            assert response.status_code == 200, response.text
            assert http.get(url + CAPS, timeout=10).json()["TokenLifetimeInSeconds"] == 120
            assert http.get(f"{control}/faults", timeout=10).json()["down"] is False
            proc.send_signal(stop_signal)
            assert proc.wait(timeout=15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for port in ports:
        with requests.Session() as fresh, pytest.raises(requests.exceptions.ConnectionError):
            fresh.get(f"http://127.0.0.1:{port}/", timeout=5)
        with socket.socket() as probe:  # the port is free to listen on again
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", int(port)))
    assert "Traceback" not in (tmp_path / "stderr.log").read_text()


def test_serve_with_a_broken_config_exits_with_a_clear_message(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('[[Subscriptions]]\nSubscriptionID = "bad id!"\n', encoding="utf-8")
    result = run_cli("serve", "--port", "0", "--config", str(broken), "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert "invalid simulator config" in result.stderr
    assert "SubscriptionPassword is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_on_a_busy_port_fails_cleanly(tmp_path: Path, config_file: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("serve", "--port", str(port), "--config", str(config_file), "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
