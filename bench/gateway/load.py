"""Bounded-duration HTTP load: wrk when installed, else a small Python thread pool; both report req/s, p50, p99."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass

import requests

__all__ = ["LoadResult", "run_load", "wrk_available"]

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class LoadResult:
    """Throughput and latency of one run (latencies in milliseconds); `errors` counts non-2xx and failures."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    tool: str

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_available() -> bool:
    """True when the wrk binary is on PATH."""
    return shutil.which("wrk") is not None


def _millis(text: str) -> float:
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _wrk(url: str, *, connections: int, duration: float, headers: dict[str, str]) -> LoadResult:
    argv = ["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d", f"{max(1, round(duration))}s"]
    argv += ["--latency", "--timeout", "10s"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    output = subprocess.run([*argv, url], capture_output=True, text=True, check=True, timeout=duration + 30).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.MULTILINE))
    total = re.search(r"^\s*(\d+) requests in ([0-9.]+)(us|ms|s|m)", output, re.MULTILINE)
    if not total or set(percentiles) != {"50", "99"}:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    failed = int(errors.group(1)) if errors else 0
    failed += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return LoadResult(
        requests=int(total.group(1)),
        seconds=_millis(total.group(2) + total.group(3)) / 1000,
        p50_ms=_millis(percentiles["50"]),
        p99_ms=_millis(percentiles["99"]),
        errors=failed,
        tool="wrk",
    )


def _python(url: str, *, connections: int, duration: float, headers: dict[str, str]) -> LoadResult:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def caller() -> None:
        mine: list[float] = []
        failed = 0
        with requests.Session() as session:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    ok = session.get(url, headers=headers, timeout=10).status_code < 300
                except requests.RequestException:
                    ok = False
                mine.append((time.perf_counter() - started) * 1000)
                failed += not ok
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    started = time.monotonic()
    threads = [threading.Thread(target=caller) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    latencies.sort()

    def percentile(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else 0.0

    return LoadResult(len(latencies), seconds, percentile(0.50), percentile(0.99), errors[0], "python")


def run_load(
    url: str, *, connections: int, duration: float, headers: dict[str, str], use_wrk: bool = True
) -> LoadResult:
    """Drive `url` with `connections` concurrent keep-alive callers for `duration` seconds."""
    if use_wrk and wrk_available():
        return _wrk(url, connections=connections, duration=duration, headers=headers)
    return _python(url, connections=connections, duration=duration, headers=headers)
