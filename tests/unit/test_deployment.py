"""docker-compose.yml must describe commands, ports and variables that exist in the code (no engine runs here)."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from cloudstore.services import SERVICES, SIMULATOR_PORT
from shared.config import GLOBAL_SETTINGS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICE_NAMES = [service.name for service in SERVICES]
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "PUBLIC_AUTH_URL", "POSTGRES_USER", "POSTGRES_DB", "EGRESS_ADDRESSES"}


def _settings_known_to(service: str) -> set[str]:
    """Keys from the service's TOML defaults and every config key its code (or shared/) reads."""
    known = {key.upper() for key in tomllib.loads((ROOT / "config" / f"{service}.toml").read_text())}
    for folder in (ROOT / service, ROOT / "shared"):
        for source in folder.rglob("*.py"):
            known |= set(re.findall(r"""config(?:\.get\(|\[)\s*["']([A-Z_]+)["']""", source.read_text()))
            known |= set(re.findall(r"""dev_secret\(\w+, ["']([A-Z_]+)["']\)""", source.read_text()))
    return known


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_service_command_runs_its_factory_on_its_port(name):
    spec = COMPOSE["services"][name]
    command = spec["command"]
    assert command[0] == "granian" and "--factory" in command  # the server `cloudstore up` runs
    assert command[-1] == f"{name}:create_app"
    assert callable(importlib.import_module(name).create_app)
    port = int(command[command.index("--port") + 1])
    assert port == next(s.default_port for s in SERVICES if s.name == name)
    assert spec.get("ports") == [f"{port}:{port}"] or spec.get("expose") == [str(port)]


@pytest.mark.parametrize("name", SERVICE_NAMES + ["migrate", "worker", "reminders"])
def test_every_environment_variable_is_read_by_the_code(name):
    environment = COMPOSE["services"][name]["environment"]
    for variable in environment:
        if variable in GLOBAL_SETTINGS or variable in COMPOSE_ONLY:
            continue
        service = next((s for s in SERVICE_NAMES if variable.startswith(s.upper() + "_")), None)
        assert service, f"{variable} belongs to no service"
        key = variable.removeprefix(service.upper() + "_")
        assert key in _settings_known_to(service), f"{variable}: {service} never reads {key}"


@pytest.mark.parametrize("name", ["migrate", "worker", "reminders"])
def test_cloudstore_commands_exist(name):
    from cloudstore.cli import main

    command = COMPOSE["services"][name]["command"]
    assert command[0] == "cloudstore"
    found = main.commands[command[1]]
    words = [word for word in command[2:] if not word.startswith("-")][: 1 if hasattr(found, "commands") else 0]
    for word in words:
        found = found.commands[word]
    options = {opt for param in found.params for opt in param.opts}
    assert {word for word in command if word.startswith("--")} <= options


def test_simulator_command_uses_options_the_simulator_has():
    command = COMPOSE["services"]["simulator"]["command"]
    assert command[:3] == ["python", "-m", "bridge_gateway.simulator"]
    help_text = subprocess.run(
        [sys.executable, *command[1:4], "--help"], capture_output=True, text=True, check=True
    ).stdout
    for option in (arg for arg in command[4:] if arg.startswith("--")):
        assert option in help_text, option
    assert f"{SIMULATOR_PORT}" in command


def test_example_env_lists_every_compose_variable():
    documented = {
        line.split("=", 1)[0]
        for line in (ROOT / "config" / "example.env").read_text().splitlines()
        if line and not line.startswith("#")
    }
    for name in SERVICE_NAMES + ["migrate"]:
        assert set(COMPOSE["services"][name]["environment"]) <= documented | COMPOSE_ONLY
