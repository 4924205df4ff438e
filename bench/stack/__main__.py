"""The whole stack under load: `python -m bench.stack [--quick] [--scenarios "a;b"] [--repeat N] [--database-url URL]`.

Starts `cloudstore up` (production servers, a worker per core) in a temporary folder on SQLite, or on a new
database of the PostgreSQL server of `--database-url`/`DATABASE_URL` (dropped afterwards), registers a
benchmark client, drives each scenario with wrk at 127.0.0.1, fails when any response is not a success, and
prints requests/s, p50, p99, the CPU share (of the whole machine) of the scenario's services and of wrk, and
the services' CPU per request. Then it seeds the database with bulk data (10,000 subscriptions and 1,000,000
endpoint tokens by default), sets the first table's punches aside and lets the database settle
(`bench.stack.settle`), and prints the same table again, to show how the cost grows.

The API-key rows use a real endpoint token, made by `bench.stack.api_key` as Add Token → Allow makes one.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.stack.database import fresh_database
from bench.stack.scenarios import Context, Scenario, prepare, scenarios
from bench.stack.up import Up
from bench.stack.wrk import WrkResult, require_wrk, run_wrk

# The token endpoint limits each client address (TOKEN_RATE_LIMIT, 600/s by default); every benchmark request
# comes from 127.0.0.1, so the limit is raised for this address's sake, not removed.
BENCH_ENV = {"AUTHSERVER_TOKEN_RATE_LIMIT": "1000000/second", "BRIDGE_GATEWAY_ALLOWED_NETWORKS": '["127.0.0.1/32"]'}


@dataclass(frozen=True)
class Row:
    """A measured scenario, or a pending one with the reason."""

    scenario: Scenario
    result: WrkResult | None = None
    server_cpu: float = 0.0
    wrk_cpu: float = 0.0
    server_ms: float = 0.0  # server CPU per request: what a busy machine (other load) distorts least


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.stack", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a second per scenario and a small seed (smoke test)")
    parser.add_argument("--duration", type=float, help="seconds per scenario (default 10, quick 1)")
    parser.add_argument("--scenarios", help="semicolon-separated parts of scenario names to run")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per scenario; the run with the median requests/s is shown"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="a PostgreSQL server to create the run's database on (default: SQLite)",
    )
    parser.add_argument("--no-seed", action="store_true", help="skip the second table on a seeded database")
    parser.add_argument("--subscriptions", type=int, help="subscriptions to seed (default 10,000, quick 20)")
    parser.add_argument(
        "--endpoint-tokens", type=int, help="endpoint tokens to seed over them (default 1,000,000, quick 2,000)"
    )
    return parser.parse_args(argv)


def _measure(up: Up, ctx: Context, scenario: Scenario, seconds: float, workdir: Path, *, warm: bool) -> Row:
    if scenario.build is None:
        raise ValueError(f"{scenario.name} is pending: {scenario.pending}")
    request = scenario.build(ctx)
    if warm:  # every worker past its first requests (imports, key loads, connection pools)
        run_wrk(request, connections=scenario.connections, seconds=1, workdir=workdir)
    cores = os.cpu_count() or 1
    server_before, started = up.cpu_seconds(scenario.services), time.monotonic()
    seconds = max(seconds, scenario.min_seconds)
    result = run_wrk(request, connections=scenario.connections, seconds=seconds, workdir=workdir)
    wall = time.monotonic() - started
    server_seconds = up.cpu_seconds(scenario.services) - server_before
    if result.failed:
        raise RuntimeError(
            f"{scenario.name}: {result.failed} responses were not a success, e.g. {result.first_failure}"
        )
    return Row(
        scenario,
        result,
        server_cpu=server_seconds / (wall * cores),
        wrk_cpu=result.cpu_seconds / (wall * cores),
        server_ms=server_seconds * 1000 / max(1, result.requests),
    )


def _format(rows: list[Row]) -> str:
    header = (
        f"{'scenario':<28} {'per second':>14} {'p50 ms':>8} {'p99 ms':>8} {'server CPU':>10} {'wrk CPU':>8}"
        f" {'CPU ms/req':>10}"
    )
    lines = [header, "-" * len(header)]
    by_name = {row.scenario.name: row for row in rows}
    for row in rows:
        if row.result is None:
            lines.append(f"{row.scenario.name:<28} {row.scenario.pending}")
            continue
        rate = f"{row.result.rps * row.scenario.units:,.0f} {row.scenario.unit_name}"
        lines.append(
            f"{row.scenario.name:<28} {rate:>14} {row.result.p50_ms:>8.2f} {row.result.p99_ms:>8.2f}"
            f" {row.server_cpu:>10.0%} {row.wrk_cpu:>8.0%} {row.server_ms:>10.2f}"
        )
    direct, relay = by_name.get("EBS call, direct"), by_name.get("EBS call, gateway relay")
    if direct and relay and direct.result and relay.result:
        added = f"{relay.result.p50_ms - direct.result.p50_ms:+.2f} / {relay.result.p99_ms - direct.result.p99_ms:+.2f}"
        lines.append(f"{'gateway adds (p50 / p99 ms)':<28} {added:>32}")
    return "\n".join(lines)


def _median_run(
    up: Up, ctx: Context, scenario: Scenario, seconds: float, workdir: Path, *, warm: bool, repeat: int
) -> Row:
    """The scenario measured `repeat` times (warmed once); the run with the median requests/s, so one run the
    machine slowed down does not decide the figure."""
    runs = [_measure(up, ctx, scenario, seconds, workdir, warm=warm and n == 0) for n in range(repeat)]
    runs.sort(key=lambda row: row.result.rps if row.result else 0.0)
    return runs[len(runs) // 2]


def _table(
    up: Up,
    credentials: dict[str, str],
    chosen: list[Scenario],
    seconds: float,
    workdir: Path,
    *,
    warm: bool,
    repeat: int = 1,
) -> str:
    api_key = _api_key(up) if any(s.name.endswith("API key") for s in chosen) else None
    ctx = prepare(up, credentials["client_id"], credentials["client_secret"], api_key)
    rows = []
    for scenario in chosen:
        print(f"  {scenario.name} ...", file=sys.stderr, flush=True)
        rows.append(
            Row(scenario)
            if scenario.build is None
            else _median_run(up, ctx, scenario, seconds, workdir, warm=warm, repeat=repeat)
        )
    rss = ", ".join(f"{name} {mb:.0f} MB" for name, mb in sorted(up.worker_rss().items()))
    return _format(rows) + f"\nlargest worker RSS: {rss}"


def _run_module(up: Up, module: str, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", module, *args], env=env or up.environment(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _api_key(up: Up) -> str:
    """The key of a new endpoint token, made as Add Token → Allow makes one and registered in the simulator's
    EBS (a fresh one per table: see `bench.stack.api_key`)."""
    env = {**up.authserver_environment(), "BENCH_SIMULATOR_PORT": up.urls["simulator"].rsplit(":", 1)[1]}
    return str(json.loads(_run_module(up, "bench.stack.api_key", env=env))["api_key"])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables; non-zero when a run failed."""
    args = _arguments(argv)
    require_wrk()
    seconds = args.duration or (1.0 if args.quick else 10.0)
    wanted = [w.strip().lower() for w in (args.scenarios or "").split(";") if w.strip()]
    chosen = [s for s in scenarios() if not wanted or any(w in s.name.lower() for w in wanted)]
    subscriptions = args.subscriptions if args.subscriptions is not None else (20 if args.quick else 10_000)
    tokens = args.endpoint_tokens if args.endpoint_tokens is not None else (2_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory(prefix="bench-stack-") as tmp, fresh_database(args.database_url) as url:
        up = Up(Path(tmp) / "var", database_url=url, extra_env=BENCH_ENV)
        try:
            up.start()
            credentials = json.loads(_run_module(up, "bench.stack.provision"))
            database = "PostgreSQL (a new database)" if url else "SQLite"
            runs = f", median of {args.repeat} runs" if args.repeat > 1 else ""
            print(f"cloudstore up, {up.workers} workers per service, {database}; wrk at 127.0.0.1, {seconds:g} s{runs}")
            table = functools.partial(_table, up, credentials, chosen, seconds, Path(tmp), warm=not args.quick)
            print(table(repeat=max(1, args.repeat)), flush=True)
            if not args.no_seed:
                seeded = _run_module(
                    up, "bench.stack.seed", "--subscriptions", str(subscriptions), "--endpoint-tokens", str(tokens)
                )
                print(seeded.strip(), flush=True)
                set_aside = int(_run_module(up, "bench.stack.settle"))
                print(f"set aside {set_aside:,} benchmark punches and settled the database", flush=True)
                print(table(repeat=max(1, args.repeat)), flush=True)
        except (
            RuntimeError,
            requests.RequestException,
        ) as exc:  # a failed response or step, a stack that did not start
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1
        finally:
            up.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
