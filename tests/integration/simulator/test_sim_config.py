"""Configuration: the demo file works end to end, settings come from the environment, bad files fail clearly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from bridge_gateway.simulator import ConfigError, create_app
from bridge_gateway.simulator.config import demo_accounts, load_config
from bridge_gateway.simulator.server import SimulatorServer

DEMO = Path(__file__).resolve().parents[3] / "config" / "simulator.toml"
POLICY = re.compile(r"^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)(?=.*[!@#$&*]).{8,}$")


def test_demo_config_describes_the_demo_erp() -> None:
    config = load_config(DEMO)
    subscription = config.subscription("demo")
    assert subscription is not None
    bridge = subscription.bridge("Demo_002")
    assert bridge is not None
    assert bridge.branches["001"].name == "Κεντρικό"
    assert bridge.employees and all(e.code for e in bridge.employees.values())
    users = config.users
    assert users["esmaster"].administrator and users["esmaster"].payroll
    assert "WebApi" in users["esmaster"].allow_access_from_source
    assert users["payroll"].payroll and not users["payroll"].administrator
    assert any("WebApi" not in u.allow_access_from_source for u in users.values())
    assert any(u.inactive for u in users.values())
    assert bridge.default_user.user_id.lower() in users
    passwords = [subscription.password] + [u.password for u in users.values()]
    assert all(POLICY.match(p) for p in passwords), "demo passwords must satisfy the account password policy"


def test_demo_accounts_lists_what_cloudstore_up_prints() -> None:
    lines = demo_accounts(DEMO)
    assert lines[0] == "subscription demo  password DemoSub#2024"
    assert any("bridge Demo_002" in line and "001 Κεντρικό" in line and "service user" in line for line in lines)
    esmaster = next(line for line in lines if line.startswith("user esmaster"))
    assert "Esmaster#2024" in esmaster and "Administrator" in esmaster and "Payroll" in esmaster
    assert any("no WebApi" in line for line in lines) and any("inactive" in line for line in lines)


def test_demo_config_serves_logins(tmp_path: Path) -> None:
    config = load_config(DEMO)
    esmaster = config.users["esmaster"]
    app = create_app({"SIMULATOR_CONFIG": str(DEMO), "SIMULATOR_DATA_DIR": str(tmp_path)})
    subscription = config.subscription("demo")
    assert subscription is not None
    service_body = {"SubscriptionID": "demo", "SubscriptionPassword": subscription.password, "BridgeID": "Demo_002"}
    body = {**service_body, "Model": {"UserID": "esmaster", "Password": esmaster.password, "BranchID": "001"}}
    with SimulatorServer(app, port=0, control=False) as server, requests.Session() as http:
        response = http.post(f"{server.url}/api/Login/Login", json=body, timeout=10)
        assert response.status_code == 200, response.text
        assert response.json()["Model"]["UserSites"][0]["Value"] == "Κεντρικό"
        service = http.post(f"{server.url}/api/Login/Login", json=service_body, timeout=10)
        assert service.status_code == 200, service.text
        caps = http.get(f"{server.url}/api/Login/ServerCapabilities/", timeout=10).json()
        assert caps["TokenLifetimeInSeconds"] == 3600  # TokenLifetimeInMinutes = 60


def test_settings_from_the_environment(tmp_path: Path, config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMULATOR_CONFIG", str(config_file))
    monkeypatch.setenv("SIMULATOR_DATA_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("SIMULATOR_TOKEN_LIFETIME_SECONDS", "90")
    monkeypatch.setenv("SIMULATOR_REFRESH_WITHIN_PERCENT", "75")
    app = create_app()
    assert (tmp_path / "from-env" / "state.db").is_file()
    assert (tmp_path / "from-env" / "CSWebAssets").is_dir()
    with SimulatorServer(app, port=0, control=False) as server, requests.Session() as http:
        caps = http.get(f"{server.url}/api/Login/ServerCapabilities/", timeout=10).json()
    assert caps["TokenLifetimeInSeconds"] == 90
    assert caps["RefreshTokenIfWithinRemainingPercentage"] == 75
    explicit = create_app({"TOKEN_LIFETIME_SECONDS": 5, "SIMULATOR_DATA_DIR": str(tmp_path / "explicit")})
    assert explicit.extensions["ebs_simulator"].token_lifetime == 5  # the factory's argument wins


BAD_CONFIGS = [
    ("not-toml", "this is = not [toml", "is not valid TOML"),
    ("no-subscriptions", "", "Subscriptions must list at least one subscription"),
    ("typo-top-level", 'Subscription = []', "unknown top-level keys: Subscription"),
    ("bad-subscription-id", '[[Subscriptions]]\nSubscriptionID = "a b"\nSubscriptionPassword = "x"\n'
     '[[Subscriptions.Bridges]]\nBridgeID = "B"', "SubscriptionID 'a b' must match"),
    ("no-bridges", '[[Subscriptions]]\nSubscriptionID = "s"\nSubscriptionPassword = "x"',
     "Bridges must list at least one bridge"),
    ("no-service-user", '[[Subscriptions]]\nSubscriptionID = "s"\nSubscriptionPassword = "x"\n'
     '[[Subscriptions.Bridges]]\nBridgeID = "B"\nDatabaseID = "D"\nCompanyID = "C"\n'
     'Branches = [{ID = "001", Name = "Κεντρικό"}]', "DefaultUserCredentials (the bridge's service user) is missing"),
    ("service-user-not-a-user", '[[Subscriptions]]\nSubscriptionID = "s"\nSubscriptionPassword = "x"\n'
     '[[Subscriptions.Bridges]]\nBridgeID = "B"\nDatabaseID = "D"\nCompanyID = "C"\n'
     'DefaultUserCredentials = {UserID = "svc", Password = "p", BranchID = "001"}\n'
     'Branches = [{ID = "001", Name = "Κεντρικό"}]', "UserID 'svc' is not one of the [[Users]]"),
    ("service-branch-unknown", '[[Subscriptions]]\nSubscriptionID = "s"\nSubscriptionPassword = "x"\n'
     '[[Subscriptions.Bridges]]\nBridgeID = "B"\nDatabaseID = "D"\nCompanyID = "C"\n'
     'DefaultUserCredentials = {UserID = "svc", Password = "p", BranchID = "009"}\n'
     'Branches = [{ID = "001", Name = "Κεντρικό"}]\n[[Users]]\nUserID = "svc"\nPassword = "p"\nBranches = ["001"]',
     "BranchID '009' is not one of the bridge's branches"),
    ("user-branch-unknown", '[[Subscriptions]]\nSubscriptionID = "s"\nSubscriptionPassword = "x"\n'
     '[[Subscriptions.Bridges]]\nBridgeID = "B"\nDatabaseID = "D"\nCompanyID = "C"\n'
     'DefaultUserCredentials = {UserID = "svc", Password = "p", BranchID = "001"}\n'
     'Branches = [{ID = "001", Name = "Κεντρικό"}]\n[[Users]]\nUserID = "svc"\nPassword = "p"\nBranches = ["002"]',
     "branch '002' exists in none of the user's bridges"),
    ("flag-not-bool", '[[Users]]\nUserID = "u"\nPassword = "p"\nAdministrator = "yes"',
     "Administrator must be true or false"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS])
def test_bad_configs_fail_with_clear_messages(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "simulator.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        create_app({"SIMULATOR_CONFIG": str(path), "SIMULATOR_DATA_DIR": str(tmp_path)})
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="simulator config file not found"):
        create_app({"SIMULATOR_CONFIG": str(tmp_path / "nope.toml"), "SIMULATOR_DATA_DIR": str(tmp_path)})


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"TOKEN_LIFETIME_SECONDS": 0}, "TOKEN_LIFETIME_SECONDS must be at least"),
        ({"TOKEN_LIFETIME_SECONDS": "soon"}, "TOKEN_LIFETIME_SECONDS must be a number"),
        ({"REFRESH_WITHIN_PERCENT": 150}, "REFRESH_WITHIN_PERCENT must be between 0 and 100"),
    ],
)
def test_bad_settings(tmp_path: Path, config_file: Path, settings: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_app({"SIMULATOR_CONFIG": str(config_file), "SIMULATOR_DATA_DIR": str(tmp_path), **settings})
