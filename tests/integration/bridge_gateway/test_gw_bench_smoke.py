"""The relay benchmark still runs: a tiny load, real processes (simulator, granian), figures printed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_benchmark_runs_on_a_tiny_load() -> None:
    argv = [sys.executable, "-m", "bench.gateway", "--duration", "1", "--callers", "2", "--workers", "1"]
    result = subprocess.run([*argv, "--threads", "2"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "2 concurrent callers" in out
    rows = dict(re.findall(r"^(direct|relay)\s+([0-9]+)\s+[0-9.]+\s+[0-9.]+\s+0$", out, re.MULTILINE))
    assert set(rows) == {"direct", "relay"}, out  # both answered, without errors
    assert all(int(rps) > 0 for rps in rows.values())
    assert re.search(r"^diff\s+-?[0-9.]+%\s+[+-][0-9.]+\s+[+-][0-9.]+$", out, re.MULTILINE), out
