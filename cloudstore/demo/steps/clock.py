"""Seed 002, "Clock Connector": the agent runs with the Time Attendance token's API key, a ZKTeco clock pushes
punches to it, and they arrive in the ERP's payroll (the simulator's page) through the resource API, the outbox
worker and the bridge gateway."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cloudstore.demo.browser import StepFailed
from cloudstore.demo.clock import AgentProcess, Clock, Punch
from cloudstore.demo.context import Demo, mask

__all__ = ["punches_arrive", "push_punches", "start_agent"]

CLOCK_ZONE = ZoneInfo("Europe/Athens")  # the agent's default zone for clocks it has no settings for
EMPLOYEES = ("1001", "1002")  # payroll employees of the demo company (config/simulator.toml)
ARRIVAL_SECONDS = 60.0


def start_agent(demo: Demo) -> str:
    """`cloudstore agent run` with the key in CLOUDSTORE_AGENT_API_KEY (never on the command line)."""
    key = demo.found["time-attendance"]
    agent = AgentProcess(demo.resource_api, key)
    demo.cleanups.append(agent.stop)
    agent.start()
    demo.found["agent"] = agent
    return f"listening on {agent.url} for clocks, uploading to {demo.resource_api} with key {mask(key)}"


def push_punches(demo: Demo) -> str:
    """The clock's handshake, then its ATTLOG records: two employees, in and out, minutes ago."""
    agent: AgentProcess = demo.found["agent"]
    serial = f"DEMO{demo.run_id}"
    start = datetime.now(CLOCK_ZONE).replace(second=0, microsecond=0) - timedelta(minutes=30)
    punches = [
        Punch(pin, (start + timedelta(minutes=10 * i + j)).strftime("%Y-%m-%d %H:%M:%S"), i)
        for i in range(2)
        for j, pin in enumerate(EMPLOYEES)
    ]
    clock = Clock(agent.url, serial)
    try:
        clock.handshake()
        answer = clock.push(punches)
    finally:
        clock.close()
    demo.found["clock"] = (serial, len(punches))
    return f"clock {serial} pushed {len(punches)} punches of employees {', '.join(EMPLOYEES)}: agent said {answer!r}"


def punches_arrive(demo: Demo) -> str:
    """Wait until the simulator's page lists the clock's punches under the bridge's payroll."""
    serial, count = demo.found["clock"]
    browser = demo.browser("erp")
    deadline = time.monotonic() + ARRIVAL_SECONDS
    while True:
        page = browser.open(f"{demo.simulator}/")
        rows = [row for row in page.rows if len(row) >= 5 and row[1] == serial]
        if len(rows) >= count:
            shown = "; ".join(f"{row[2]} {row[3]} {row[4]}" for row in rows[:2])
            return f"{len(rows)} punches in the payroll of {demo.subscription_id}/{demo.bridge_id}, e.g. {shown}"
        if time.monotonic() > deadline:
            agent: AgentProcess = demo.found["agent"]
            raise StepFailed(
                f"{len(rows)} of {count} punches reached {demo.simulator}/ in {ARRIVAL_SECONDS:.0f} s;"
                f" agent log: {agent.tail()}"
            )
        time.sleep(1.0)
