"""`cloudstore demo` as a newcomer runs it: against a real `cloudstore up`, every step of the three guides passes;
a demo that cannot reach the portal, or finds the demo subscription taken, stops at that step, naming it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cloudstore.demo.steps import STEPS
from tests.e2e.conftest import free_port, free_ports

pytestmark = pytest.mark.e2e

START_SECONDS = 90
DEMO_SECONDS = 240


@dataclass
class Stack:
    env: dict[str, str]
    var: Path
    urls: dict[str, str]
    log: Path

    def demo(self, **urls: str) -> subprocess.CompletedProcess[str]:
        """Run `cloudstore demo` against this stack (URLs overridable) and return what it printed."""
        chosen = {**self.urls, **urls}
        argv = [sys.executable, "-m", "cloudstore.cli", "demo", "--var-dir", str(self.var)]
        for option in ("portal", "resource-api", "simulator-url"):
            argv += [f"--{option}", chosen[option]]
        return subprocess.run(  # noqa: S603
            argv, env=self.env, capture_output=True, text=True, timeout=DEMO_SECONDS, check=False
        )


@pytest.fixture
def stack(tmp_path: Path, database_url: str) -> Iterator[Stack]:
    """`cloudstore up` on free ports with its own var dir and database, stopped with SIGTERM afterwards."""
    auth, resource, gateway, simulator = free_ports(4)
    var = tmp_path / "var"
    env = {**os.environ, "CLOUDSTORE_VAR_DIR": str(var), "DATABASE_URL": database_url}
    argv = [sys.executable, "-m", "cloudstore.cli", "up", "--workers", "2"]
    argv += ["--auth-port", str(auth), "--resource-port", str(resource)]
    argv += ["--gateway-port", str(gateway), "--simulator-port", str(simulator)]
    log = tmp_path / "up.log"
    with log.open("w") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # noqa: S603
    try:
        deadline = time.monotonic() + START_SECONDS
        while "Press Ctrl-C" not in log.read_text():
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "cloudstore up did not start:\n" + log.read_text()[-3000:]
            time.sleep(0.3)
        urls = {
            "portal": f"http://127.0.0.1:{auth}",
            "resource-api": f"http://127.0.0.1:{resource}",
            "simulator-url": f"http://127.0.0.1:{simulator}",
        }
        yield Stack(env=env, var=var, urls=urls, log=log)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_demo_walks_every_step_against_a_started_stack(stack: Stack):
    result = stack.demo()
    output = result.stdout
    assert result.returncode == 0, output + result.stderr + stack.log.read_text()[-3000:]
    for number, step in enumerate(STEPS, start=1):
        assert f"[{number}/{len(STEPS)}] {step.name} … ok" in output, output
    assert f"All {len(STEPS)} steps passed." in output

    # What the steps claim is there: the verification file, the punches in the ERP's payroll, keys never in full.
    assert re.fullmatch(r"\d{7}", (stack.var / "simulator" / "CSWebAssets" / "demo-Demo_002.txt").read_text())
    assert re.search(r"4 punches in the payroll of demo/Demo_002", output), output
    assert "Allow), as Υπεύθυνος Μισθοδοσίας · demo / Demo_002" in output, output
    assert "Deny was pressed" in output
    for password in ("DemoSub#2024", "Esmaster#2024", "Payroll#2024"):
        assert password not in output
    assert not re.search(r"cs_(ta|ai|sv)_[0-9A-Za-z]{8,}", output), "an API key was printed"

    # The simulator serves one subscription, now taken: a second run stops there and says why.
    again = stack.demo()
    assert again.returncode == 1
    assert 'FAILED at step "create the subscription and bridge": ' in again.stdout
    assert "an earlier run against this stack created it already" in again.stdout


def test_a_failing_step_exits_non_zero_and_is_named(tmp_path: Path):
    closed = free_port()  # nothing listens here: the portal is "not started"
    env = {**os.environ, "CLOUDSTORE_VAR_DIR": str(tmp_path / "var")}
    argv = [sys.executable, "-m", "cloudstore.cli", "demo", "--portal", f"http://127.0.0.1:{closed}"]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"[1/{len(STEPS)}] register the admin … FAILED" in result.stdout
    assert 'FAILED at step "register the admin": cannot connect' in result.stdout
    assert f"[2/{len(STEPS)}]" not in result.stdout, "the demo went on after a failed step"
