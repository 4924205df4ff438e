"""The stack benchmark still runs end to end: `python -m bench --quick` on a tiny load, every row measured.

The API-key rows use a real endpoint token (registered in the simulator's EBS) and fail on any introspection
answer that is not `active`, so their being measured means the key worked on every request.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (make test installs it as root)"),
]

ROOT = Path(__file__).resolve().parents[2]
MEASURED = [
    "client credentials (JWT)",
    "client credentials, paced",
    "introspect API key",
    "introspect JWT",
    "resource call, JWT",
    "resource call, API key",
    "punches, 1 per request",
    "punches, 1,000 per batch",
    "EBS call, direct",
    "EBS call, gateway relay",
]
_NUMBER = r"[0-9][0-9,]*"
_ROW = r"^{name}\s+(" + _NUMBER + r") (?:req|punch)\s+([0-9.]+)\s+([0-9.]+)\s+(\d+)%\s+(\d+)%\s+([0-9.]+)$"


def test_quick_benchmark_measures_every_scenario_twice(database_url):
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "bench", "--quick", "--repeat", "2", "--subscriptions", "25"]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert len(re.findall(r"^cloudstore up, .* median of 2 runs$", out, re.MULTILINE)) == 1, out
    for name in MEASURED:
        rows = re.findall(_ROW.format(name=re.escape(name)), out, re.MULTILINE)
        assert len(rows) == 2, f"{name}: {out}"  # the empty database, then the seeded one
        for rate, p50, p99, server_cpu, _wrk_cpu, cpu_ms in rows:
            assert int(rate.replace(",", "")) > 0 and 0 < float(p50) <= float(p99)
            assert int(server_cpu) > 0 and float(cpu_ms) > 0
    assert re.search(r"^set aside [1-9][0-9,]* benchmark punches and settled the database", out, re.MULTILINE), out
    seeded = r"^seeded 25 subscriptions \(.*\) in [0-9.]+ s and 2,000 endpoint tokens in [0-9.]+ s$"
    assert re.search(seeded, out, re.MULTILINE), out
    assert len(re.findall(r"^gateway adds \(p50 / p99 ms\)\s+[+-]", out, re.MULTILINE)) == 2, out
    rss = re.findall(r"^largest worker RSS: (.+)$", out, re.MULTILINE)
    assert len(rss) == 2 and all(re.search(r"authserver \d+ MB", line) for line in rss), out
