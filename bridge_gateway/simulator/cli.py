"""``python -m bridge_gateway.simulator``: serve, add-user, write-asset and faults."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType

from . import create_app, state
from .assets import resolve_asset
from .config import ConfigError, SimulatorConfig, default_config_path, load_config, parse_user
from .credentials import hash_password
from .errors import EbsError
from .server import SimulatorServer

DEFAULT_DATA_DIR = "var/simulator"


def _config_path(value: str | None) -> str:
    if value:
        return value
    default = default_config_path()
    if default is not None:
        return str(default)
    raise ConfigError("--config is required (no config/simulator.toml next to the package)")


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the WebApi and its control listener until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings: dict[str, object] = {"SIMULATOR_CONFIG": _config_path(args.config), "SIMULATOR_DATA_DIR": args.data_dir}
    if args.token_lifetime_seconds is not None:
        settings["TOKEN_LIFETIME_SECONDS"] = args.token_lifetime_seconds
    if args.refresh_within_percent is not None:
        settings["REFRESH_WITHIN_PERCENT"] = args.refresh_within_percent
    server = SimulatorServer(create_app(settings), host=args.host, port=args.port, control_port=args.control_port)
    stopping = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    server.start()
    print(f"EBS simulator: WebApi {server.url}/ control {server.control_url}/faults", flush=True)
    while not stopping.wait(0.5):
        pass
    server.stop()
    print("EBS simulator stopped", flush=True)
    return 0


def _check_user_fits(config: SimulatorConfig, record: dict[str, object]) -> None:
    user = parse_user(record, f"user {record['UserID']!r}")
    bridges = [b for _, b in config.bridge_pairs()]
    known = {b.id.lower() for b in bridges}
    unknown = [b for b in user.bridges if b.lower() not in known]
    if unknown:
        raise ConfigError(f"unknown bridge(s): {', '.join(unknown)}")
    usable = [b for b in bridges if user.can_use(b)]
    missing = [x for x in user.branches if not any(x in b.branches for b in usable)]
    if missing:
        raise ConfigError(f"branch(es) {', '.join(missing)} exist in none of the user's bridges")


def cmd_add_user(args: argparse.Namespace) -> int:
    """Add (or replace) an ERP user in the state database; it overrides a config user with the same id."""
    config = load_config(_config_path(args.config))
    usable = [
        b for _, b in config.bridge_pairs() if not args.bridge or b.id.lower() in {x.lower() for x in args.bridge}
    ]
    branches = args.branch or list(dict.fromkeys(br for b in usable for br in b.branches))
    record: dict[str, object] = {
        "UserID": args.user_id,
        "Name": args.name or args.user_id,
        "Password": hash_password(args.password),
        "Administrator": args.administrator,
        "Inactive": args.inactive,
        "AllowAccessFromSource": ["BackOffice"] if args.no_webapi else ["BackOffice", "WebApi"],
        "Branches": branches,
        "Payroll": args.payroll,
        "Bridges": args.bridge or [],
    }
    if args.email:
        record["Email"] = args.email
    if args.totp_secret:
        record["TOTPSecret"] = args.totp_secret
    _check_user_fits(config, record)
    db_path = Path(args.data_dir) / "state.db"
    state.init_db(db_path)
    conn = state.open_connection(db_path)
    try:
        state.save_user(conn, record=record)
    finally:
        conn.close()
    print(f"user {args.user_id} saved in {db_path} (branches: {', '.join(branches)})")
    return 0


def cmd_write_asset(args: argparse.Namespace) -> int:
    """Write a file into ``DATA_DIR/CSWebAssets/`` (the Verify-Connection proof, for example)."""
    folder = Path(args.data_dir) / "CSWebAssets"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        target = resolve_asset(folder, args.name)
    except EbsError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(args.content.encode("utf-8"))
    print(f"wrote {target}")
    return 0


def cmd_faults(args: argparse.Namespace) -> int:
    """Read or change the faults of a running simulator through its control listener."""
    url = args.control_url.rstrip("/") + "/faults"
    if not url.startswith(("http://", "https://")):
        print("error: --control-url must be an http(s) URL", file=sys.stderr)
        return 2
    changes: dict[str, object] = {}
    if args.latency_ms is not None:
        changes["latency_ms"] = args.latency_ms
    if args.error_rate is not None:
        changes["error_rate"] = args.error_rate
    if args.down is not None:
        changes["down"] = args.down
    data = json.dumps(changes).encode() if changes else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310 (scheme checked above)
            print(response.read().decode())
    except urllib.error.HTTPError as exc:
        print(f"error: {exc.code} {exc.read().decode(errors='replace')}", file=sys.stderr)
        exc.close()
        return 1
    except urllib.error.URLError as exc:
        print(f"error: cannot reach {url}: {exc.reason}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser with its four sub-commands."""
    parser = argparse.ArgumentParser(prog="python -m bridge_gateway.simulator", description="EBS WebApi simulator")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the WebApi and its control listener")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8300)
    serve.add_argument("--control-port", type=int, default=None, help="default: --port + 1")
    serve.add_argument("--config", help="TOML file (default: config/simulator.toml)")
    serve.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    serve.add_argument("--token-lifetime-seconds", type=float, default=None)
    serve.add_argument("--refresh-within-percent", type=float, default=None)
    serve.set_defaults(func=cmd_serve)

    add = sub.add_parser("add-user", help="add an ERP user to the state database")
    add.add_argument("--config")
    add.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    add.add_argument("--user-id", required=True)
    add.add_argument("--password", required=True)
    add.add_argument("--name")
    add.add_argument("--email")
    add.add_argument("--totp-secret")
    add.add_argument("--administrator", action="store_true")
    add.add_argument("--no-webapi", action="store_true", help="leave WebApi out of AllowAccessFromSource")
    add.add_argument("--inactive", action="store_true")
    add.add_argument("--payroll", action="store_true")
    add.add_argument("--branch", action="append", help="branch id (repeat); default: every branch")
    add.add_argument("--bridge", action="append", help="restrict to a bridge id (repeat); default: all")
    add.set_defaults(func=cmd_add_user)

    asset = sub.add_parser("write-asset", help="write a file into DATA_DIR/CSWebAssets/")
    asset.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    asset.add_argument("--name", required=True, help="path inside CSWebAssets, e.g. roservices-Demo_002.txt")
    asset.add_argument("--content", required=True)
    asset.set_defaults(func=cmd_write_asset)

    faults = sub.add_parser("faults", help="read or change a running simulator's faults")
    faults.add_argument("--control-url", default="http://127.0.0.1:8301")
    faults.add_argument("--latency-ms", type=float)
    faults.add_argument("--error-rate", type=float)
    updown = faults.add_mutually_exclusive_group()
    updown.add_argument("--down", dest="down", action="store_const", const=True, default=None)
    updown.add_argument("--up", dest="down", action="store_const", const=False)
    faults.set_defaults(func=cmd_faults)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one sub-command; configuration errors exit with status 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
