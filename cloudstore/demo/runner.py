"""Run the walkthrough's steps in order, print each with its result, and stop at the first that fails."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import requests

from cloudstore.demo.browser import StepFailed
from cloudstore.demo.context import Demo

__all__ = ["Step", "run_steps"]


@dataclass(frozen=True)
class Step:
    """One thing a newcomer does; `run` answers a short detail to print (never a secret in full)."""

    name: str
    run: Callable[[Demo], str]
    again: bool = False  # safe to start over when the product says to try again (nothing half-done is left)


# The product's own words for "briefly unavailable, try again": a person would press the button again.
TRY_AGAIN = ("Try again in a few minutes", "Try again.", "refused the call")
ATTEMPTS, PAUSE_SECONDS = 3, 2.0


def _reason(exc: Exception) -> str:
    if isinstance(exc, StepFailed):
        return str(exc)
    if isinstance(exc, requests.ConnectionError):
        request = exc.request
        where = f" {request.method} {request.url}" if request is not None else ""
        return f"cannot connect:{where} (is `cloudstore up` running, and are the URLs right?)"
    if isinstance(exc, requests.Timeout):
        return f"no answer in time: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _run(step: Step, demo: Demo) -> str:
    """Run a step; one marked `again` starts over (and says so) when the product answered "try again"."""
    retried: list[str] = []
    while True:
        try:
            detail = step.run(demo)
        except StepFailed as exc:
            if not step.again or len(retried) + 1 >= ATTEMPTS or not any(w in str(exc) for w in TRY_AGAIN):
                raise
            retried.append(str(exc))
            time.sleep(PAUSE_SECONDS)
            continue
        if retried:
            detail += f"; started over {len(retried)}x after: {retried[0]}"
        return detail


def run_steps(steps: Sequence[Step], demo: Demo, echo: Callable[..., None]) -> int:
    """Run every step; answer 0, or 1 after printing which step failed and why."""
    total = len(steps)
    try:
        for number, step in enumerate(steps, start=1):
            echo(f"[{number}/{total}] {step.name} …", nl=False)
            try:
                detail = _run(step, demo)
            except Exception as exc:  # noqa: BLE001 - every failure is reported by step name
                echo(" FAILED")
                echo(f'FAILED at step "{step.name}": {_reason(exc)}')
                return 1
            echo(f" ok ({detail})" if detail else " ok")
    finally:
        demo.close()
    return 0
