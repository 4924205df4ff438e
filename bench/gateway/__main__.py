"""Relay overhead: the same EBS call made directly on the simulator and through the gateway's relay.

    python -m bench.gateway [--duration 10] [--callers 1,32] [--workers N] [--threads 16] [--python-load]

Starts the EBS simulator (one threaded process) and the gateway under granian, both as `cloudstore up` runs
them (a gateway worker per core, 16 application threads each), on free 127.0.0.1 ports, registers the demo
bridge, then drives `GET api/rpc/FetchSessionInfo/` both ways with wrk (or a Python thread pool) for each number
of concurrent callers, and prints requests/s, p50 and p99 for both and the difference. Every relayed call also
verifies a JWT, reads the bridge (cached), queues an audit row and updates metrics: that is the overhead measured.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from pathlib import Path

import requests

from bench.gateway.load import LoadResult, run_load, wrk_available
from bench.gateway.stack import Stack
from cloudstore.stack import BLOCKING_THREADS

CALL = "api/rpc/FetchSessionInfo/"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.gateway", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run (default 10)")
    parser.add_argument("--callers", default="1,32", help="comma-separated concurrent callers (default 1,32)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="granian workers (CPU count)")
    parser.add_argument(
        "--threads",
        type=int,
        default=BLOCKING_THREADS["bridge_gateway"],
        help=f"application threads per worker (default {BLOCKING_THREADS['bridge_gateway']}, as production)",
    )
    parser.add_argument("--database-url", help="the gateway's database (default: SQLite in a temporary folder)")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator even with wrk")
    return parser.parse_args(argv)


def _prepare(stack: Stack) -> tuple[dict[str, str], dict[str, str]]:
    """Register the demo bridge; answer the headers for direct calls and for relayed ones."""
    service = {"Authorization": f"Bearer {stack.service_token()}"}
    port = int(stack.sim_url.rsplit(":", 1)[1])
    bridge = {
        "subscriptionId": "demo",
        "bridgeId": "Demo_002",
        "subscriptionGid": "3f2b8c1e-0000-4000-8000-000000000001",
        "subscriptionPassword": "DemoSub#2024",
        "scheme": "http",
        "host": "127.0.0.1",
        "port": port,
        "databaseId": "DEMO",
        "companyId": "002",
    }
    response = requests.post(f"{stack.gateway_url}/v1/bridges", json=bridge, headers=service, timeout=10)
    response.raise_for_status()
    login = {"SubscriptionID": "demo", "SubscriptionPassword": "DemoSub#2024", "BridgeID": "Demo_002"}
    answer = requests.post(f"{stack.sim_url}/api/Login/Login", json=login, timeout=10)
    answer.raise_for_status()
    direct = {"Authorization": f"Bearer {answer.json()['Model']['WebApiToken']}"}
    for url, headers in ((_direct_url(stack), direct), (_relay_url(stack), service)):
        for _ in range(3):  # warm up: worker imports, JWKS fetch, service-user login
            requests.get(url, headers=headers, timeout=10).raise_for_status()
    return direct, service


def _direct_url(stack: Stack) -> str:
    return f"{stack.sim_url}/{CALL}"


def _relay_url(stack: Stack) -> str:
    return f"{stack.gateway_url}/v1/bridges/demo/Demo_002/relay/{CALL}"


def _row(label: str, result: LoadResult) -> str:
    return f"{label:<8} {result.rps:>10.0f} {result.p50_ms:>9.2f} {result.p99_ms:>9.2f} {result.errors:>7d}"


def _difference(direct: LoadResult, relay: LoadResult) -> str:
    change = (relay.rps - direct.rps) / direct.rps * 100 if direct.rps else 0.0
    return f"{'diff':<8} {change:>9.1f}% {relay.p50_ms - direct.p50_ms:>+9.2f} {relay.p99_ms - direct.p99_ms:>+9.2f}"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    args = _arguments(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the JWKS server's request lines
    callers = [int(c) for c in args.callers.split(",") if c.strip()]
    use_wrk = not args.python_load
    tool = "wrk" if use_wrk and wrk_available() else "python thread pool"
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as tmp:
        stack = Stack(Path(tmp), workers=args.workers, threads=args.threads, database_url=args.database_url)
        try:
            stack.start()
            direct_headers, relay_headers = _prepare(stack)
            print(f"relay overhead: GET {CALL} on the EBS simulator, directly and through the gateway")
            print(
                f"gateway: granian, {args.workers} workers x {args.threads} threads; load: {tool}, "
                f"{args.duration:g} s per run"
            )
            for count in callers:
                direct = run_load(
                    _direct_url(stack),
                    connections=count,
                    duration=args.duration,
                    headers=direct_headers,
                    use_wrk=use_wrk,
                )
                relay = run_load(
                    _relay_url(stack), connections=count, duration=args.duration, headers=relay_headers, use_wrk=use_wrk
                )
                print(f"\n{count} concurrent caller{'s' if count > 1 else ''}")
                print(f"{'':<8} {'req/s':>10} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7}")
                print(_row("direct", direct))
                print(_row("relay", relay))
                print(_difference(direct, relay))
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
