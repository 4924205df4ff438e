"""The simulator's TOML configuration: subscriptions, bridges, branches, employees and ERP users.

The layout mirrors the EBS WebApi server's own ``config.json`` (``Subscriptions[].Bridges[]`` with
``DefaultUserCredentials``), plus the ERP data an application server would hold (users, branches,
payroll employees, company parameters).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from .credentials import is_valid_totp_secret
from .models import (
    DEFAULT_SOURCES,
    Branch,
    Bridge,
    CompanyParam,
    Credentials,
    Employee,
    SimulatorConfig,
    Subscription,
    User,
)

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "simulator.toml"
_ID = re.compile(r"^[A-Za-z0-9_-]{0,50}$")


__all__ = [
    "Bridge",
    "ConfigError",
    "SimulatorConfig",
    "Subscription",
    "User",
    "default_config_path",
    "demo_accounts",
    "load_config",
    "parse_user",
]


class ConfigError(ValueError):
    """The simulator configuration cannot be used; the message lists every problem found."""


class _Reader:
    """Collects every problem instead of stopping at the first one."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def text(self, table: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
        value = table.get(key)
        if value is None:
            if required:
                self.problems.append(f"{where}: {key} is missing")
            return ""
        if not isinstance(value, str):
            self.problems.append(f"{where}: {key} must be a string")
            return ""
        return value

    def ident(self, table: dict[str, Any], key: str, where: str) -> str:
        value = self.text(table, key, where)
        if not _ID.match(value):
            self.problems.append(f"{where}: {key} {value!r} must match [A-Za-z0-9_-]{{0,50}}")
        return value

    def flag(self, table: dict[str, Any], key: str, where: str) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            self.problems.append(f"{where}: {key} must be true or false")
            return False
        return value

    def strings(self, table: dict[str, Any], key: str, where: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = table.get(key, list(default))
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problems.append(f"{where}: {key} must be a list of strings")
            return default
        return tuple(value)

    def tables(self, table: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problems.append(f"{where}: {key} must be an array of tables")
            return []
        return value


def parse_user(record: dict[str, Any], where: str, reader: _Reader | None = None) -> User:
    """Build a user from its PascalCase record (a ``[[Users]]`` table or a state-database row)."""
    r = reader or _Reader()
    user = User(
        user_id=r.text(record, "UserID", where),
        name=r.text(record, "Name", where, required=False) or r.text(record, "UserID", where),
        password=r.text(record, "Password", where),
        administrator=r.flag(record, "Administrator", where),
        inactive=r.flag(record, "Inactive", where),
        allow_access_from_source=r.strings(record, "AllowAccessFromSource", where, DEFAULT_SOURCES),
        branches=r.strings(record, "Branches", where),
        payroll=r.flag(record, "Payroll", where),
        email=r.text(record, "Email", where, required=False) or None,
        totp_secret=r.text(record, "TOTPSecret", where, required=False) or None,
        bridges=r.strings(record, "Bridges", where),
    )
    if not user.user_id:
        r.problems.append(f"{where}: UserID must not be empty")
    if user.totp_secret and not is_valid_totp_secret(user.totp_secret):
        r.problems.append(f"{where}: TOTPSecret is not a base32 secret of at least 10 bytes")
    if reader is None and r.problems:
        raise ConfigError("; ".join(r.problems))
    return user


def _parse_bridge(table: dict[str, Any], where: str, r: _Reader) -> Bridge:
    bridge_id = r.ident(table, "BridgeID", where)
    where = f"{where} (BridgeID {bridge_id!r})"
    creds = table.get("DefaultUserCredentials")
    if not isinstance(creds, dict):
        r.problems.append(f"{where}: DefaultUserCredentials (the bridge's service user) is missing")
        creds = {}
    cwhere = f"{where}.DefaultUserCredentials"
    default_user = Credentials(
        user_id=r.text(creds, "UserID", cwhere),
        password=r.text(creds, "Password", cwhere),
        branch_id=r.text(creds, "BranchID", cwhere),
        lang_id=r.text(creds, "LangID", cwhere, required=False) or "el-GR",
    )
    branches: dict[str, Branch] = {}
    for i, t in enumerate(r.tables(table, "Branches", where)):
        branch = Branch(r.text(t, "ID", f"{where}.Branches[{i}]"), r.text(t, "Name", f"{where}.Branches[{i}]"))
        if branch.id in branches:
            r.problems.append(f"{where}: branch {branch.id!r} is defined twice")
        branches[branch.id] = branch
    if not branches:
        r.problems.append(f"{where}: Branches must list at least one branch")
    employees: dict[str, Employee] = {}
    for i, t in enumerate(r.tables(table, "Employees", where)):
        ew = f"{where}.Employees[{i}]"
        employee = Employee(r.text(t, "Code", ew), r.text(t, "Name", ew))
        employees[employee.code] = employee
    params: dict[str, CompanyParam] = {}
    for i, t in enumerate(r.tables(table, "CompanyParams", where)):
        pw = f"{where}.CompanyParams[{i}]"
        param = CompanyParam(
            id=r.text(t, "ID", pw),
            group_id=r.text(t, "GroupID", pw, required=False) or "General",
            description=r.text(t, "Description", pw, required=False),
            value=r.text(t, "Value", pw, required=False),
            es_type=r.text(t, "ESType", pw, required=False) or "String",
        )
        params[param.id.lower()] = param
    if default_user.branch_id and default_user.branch_id not in branches:
        r.problems.append(f"{cwhere}: BranchID {default_user.branch_id!r} is not one of the bridge's branches")
    return Bridge(
        id=bridge_id,
        database_id=r.text(table, "DatabaseID", where),
        company_id=r.text(table, "CompanyID", where),
        company_name=r.text(table, "CompanyName", where, required=False),
        default_user=default_user,
        branches=branches,
        employees=employees,
        company_params=params,
    )


def _check_users(config: SimulatorConfig, r: _Reader) -> None:
    all_bridges = {b.id.lower(): b for _, b in config.bridge_pairs()}
    for user in config.users.values():
        where = f"Users (UserID {user.user_id!r})"
        for bridge_id in user.bridges:
            if bridge_id.lower() not in all_bridges:
                r.problems.append(f"{where}: Bridges names unknown bridge {bridge_id!r}")
        usable = [b for b in all_bridges.values() if user.can_use(b)]
        for branch_id in user.branches:
            if not any(branch_id in b.branches for b in usable):
                r.problems.append(f"{where}: branch {branch_id!r} exists in none of the user's bridges")
    for sub, bridge in config.bridge_pairs():
        creds = bridge.default_user
        where = f"Subscriptions {sub.id!r} bridge {bridge.id!r}: DefaultUserCredentials"
        user = config.users.get(creds.user_id.lower())
        if user is None:
            r.problems.append(f"{where}: UserID {creds.user_id!r} is not one of the [[Users]]")
        elif user.password != creds.password:
            r.problems.append(f"{where}: Password does not match user {creds.user_id!r}")


def parse_config(data: dict[str, Any], path: Path) -> SimulatorConfig:
    """Validate a parsed TOML document and build the configuration, or raise ConfigError."""
    r = _Reader()
    unknown = set(data) - {"WebApi", "Subscriptions", "Users"}
    if unknown:
        r.problems.append(f"unknown top-level keys: {', '.join(sorted(unknown))}")
    webapi = data.get("WebApi", {})
    if not isinstance(webapi, dict):
        r.problems.append("WebApi must be a table")
        webapi = {}
    subscriptions: dict[str, Subscription] = {}
    for i, table in enumerate(r.tables(data, "Subscriptions", "top level")):
        where = f"Subscriptions[{i}]"
        sub_id = r.ident(table, "SubscriptionID", where)
        password = r.text(table, "SubscriptionPassword", f"{where} (SubscriptionID {sub_id!r})")
        bridges: dict[str, Bridge] = {}
        for j, bt in enumerate(r.tables(table, "Bridges", where)):
            bridge = _parse_bridge(bt, f"{where}.Bridges[{j}]", r)
            if bridge.id.lower() in bridges:
                r.problems.append(f"{where}: bridge {bridge.id!r} is defined twice")
            bridges[bridge.id.lower()] = bridge
        if not bridges:
            r.problems.append(f"{where} (SubscriptionID {sub_id!r}): Bridges must list at least one bridge")
        if sub_id.lower() in subscriptions:
            r.problems.append(f"{where}: subscription {sub_id!r} is defined twice")
        subscriptions[sub_id.lower()] = Subscription(sub_id, password, bridges)
    if not subscriptions:
        r.problems.append("Subscriptions must list at least one subscription")
    users: dict[str, User] = {}
    for i, table in enumerate(r.tables(data, "Users", "top level")):
        user = parse_user(table, f"Users[{i}]", r)
        if user.user_id.lower() in users:
            r.problems.append(f"Users[{i}]: user {user.user_id!r} is defined twice")
        users[user.user_id.lower()] = user
    config = SimulatorConfig(path=path, subscriptions=subscriptions, users=users, webapi=webapi)
    if not r.problems:
        _check_users(config, r)
    if r.problems:
        listed = "\n".join(f"  - {p}" for p in r.problems)
        raise ConfigError(f"invalid simulator config {path}:\n{listed}")
    return config


def default_config_path() -> Path | None:
    """The repository's ``config/simulator.toml``, when the package runs from a checkout."""
    return REPO_CONFIG if REPO_CONFIG.is_file() else None


def load_config(path: str | Path) -> SimulatorConfig:
    """Read and validate the simulator's TOML file, or raise ConfigError with a clear message."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"simulator config file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"simulator config {path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read simulator config {path}: {exc}") from exc
    return parse_config(data, path)


def _describe_user(user: User) -> str:
    password = "(hashed)" if user.password.startswith("pbkdf2_sha256$") else user.password
    traits = [t for t, on in (("Administrator", user.administrator), ("Payroll", user.payroll)) if on]
    traits.append("WebApi" if "webapi" in {s.lower() for s in user.allow_access_from_source} else "no WebApi")
    if user.inactive:
        traits.append("inactive")
    if user.totp_secret:
        traits.append("TOTP")
    return f"user {user.user_id:<12} password {password:<16} {', '.join(traits)}; branches {', '.join(user.branches)}"


def demo_accounts(path: str | Path) -> list[str]:
    """Readable lines naming the config's subscriptions, bridges and ERP users with their demo passwords."""
    config = load_config(path)
    lines = []
    for subscription in config.subscriptions.values():
        lines.append(f"subscription {subscription.id}  password {subscription.password}")
        for bridge in subscription.bridges.values():
            branches = ", ".join(f"{b.id} {b.name}" for b in bridge.branches.values())
            lines.append(
                f"  bridge {bridge.id} (database {bridge.database_id}, company {bridge.company_id});"
                f" service user {bridge.default_user.user_id}; branches {branches}"
            )
    lines.extend(_describe_user(user) for user in config.users.values())
    return lines
