"""wrk with a Lua script that counts every response outside 2xx (or without the expected text in its body), so
a run with one failure is a failed run."""

from __future__ import annotations

import json
import re
import resource
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Request", "WrkResult", "require_wrk", "run_wrk"]

# Collects per-thread counters in `done` (wrk runs each thread in its own Lua state).
_COUNTING = r"""
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
failed = 0
first_failure = ""
function response(status, headers, body)
  if status < 200 or status > 299 or (expect ~= "" and not string.find(body or "", expect)) then
    failed = failed + 1
    if first_failure == "" then first_failure = status .. " " .. string.sub(body or "", 1, 300) end
  end
end
function done(summary, latency, requests)
  local total, first = 0, ""
  for _, t in ipairs(threads) do
    total = total + t:get("failed")
    if first == "" then first = t:get("first_failure") end
  end
  first = string.gsub(first, '[%c"\\]', " ")
  local e = summary.errors
  io.write(string.format(
    "BENCH {\"requests\": %d, \"duration_us\": %d, \"p50_us\": %d, \"p99_us\": %d, \"failed\": %d, " ..
    "\"socket_errors\": %d, \"first_failure\": \"%s\"}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), total,
    e.connect + e.read + e.write + e.timeout, first))
end
"""


@dataclass(frozen=True)
class Request:
    """What every request of a run sends; `lua` may define `request()` to vary it (it sees `tid`). `expect` is
    a Lua pattern every answer's body must match (an introspection answered 200 but `"active": false` fails)."""

    url: str
    method: str = "GET"
    headers: dict[str, str] | None = None
    body: str | None = None
    lua: str = ""
    expect: str = ""


@dataclass(frozen=True)
class WrkResult:
    """One run: completed requests, seconds, latency percentiles in ms, failures, and wrk's own CPU seconds."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int
    first_failure: str
    cpu_seconds: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def require_wrk() -> str:
    """The wrk binary, or an error that says how to install it."""
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    return path


def _script(request: Request) -> str:
    lines = [f"wrk.method = {json.dumps(request.method)}", f"expect = {json.dumps(request.expect)}"]
    for name, value in (request.headers or {}).items():
        lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    if request.body is not None:
        lines.append(f"wrk.body = {json.dumps(request.body)}")
    return "\n".join(lines) + "\n" + _COUNTING + request.lua


def run_wrk(request: Request, *, connections: int, seconds: float, workdir: Path, threads: int = 2) -> WrkResult:
    """Drive `request.url` with `connections` keep-alive connections for `seconds`."""
    script = workdir / "scenario.lua"
    script.write_text(_script(request))
    argv = [require_wrk(), "-t", str(max(1, min(threads, connections))), "-c", str(connections)]
    argv += ["-d", f"{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(script), request.url]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    match = re.search(r"^BENCH (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(match.group(1))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        failed=data["failed"] + data["socket_errors"],
        first_failure=data["first_failure"],
        cpu_seconds=cpu,
    )
