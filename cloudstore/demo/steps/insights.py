"""Seed 001's example: an EBS 2020 Series product sends application insights with the Application Insights
endpoint token's key, and the key's owner reads them back."""

from __future__ import annotations

from datetime import UTC, datetime

from cloudstore.demo.browser import StepFailed
from cloudstore.demo.context import Demo, mask

__all__ = ["send_insights"]

TIMEOUT = 15.0


def send_insights(demo: Demo) -> str:
    """POST /v1/insights/events (answered 202 once committed), then GET them back with the same key."""
    key = demo.found["app-insights"]
    http = demo.browser("ebs").http
    headers = {"Authorization": f"Bearer {key}"}
    now = datetime.now(UTC).isoformat()
    events = [
        {
            "eventId": f"demo-{demo.run_id}-{n}",
            "eventType": kind,
            "applicationServer": "APPSRV01",
            "message": message,
            "triggeredOn": now,
            "product": "EBS",
            "user": "esmaster",
            "properties": {"101": "4.0.36 - 2"},
        }
        for n, (kind, message) in enumerate(
            [("AppServerStart", "Application server started"), ("Usage", "Sales invoice opened")]
        )
    ]
    sent = http.post(
        f"{demo.resource_api}/v1/insights/events", json={"events": events}, headers=headers, timeout=TIMEOUT
    )
    if sent.status_code != 202:
        raise StepFailed(f"POST /v1/insights/events answered {sent.status_code}: {sent.text[:300]}")
    read = http.get(f"{demo.resource_api}/v1/insights/events", headers=headers, timeout=TIMEOUT)
    ids = {event.get("eventId") for event in read.json()} if read.ok else set()
    missing = {event["eventId"] for event in events} - ids
    if missing:
        raise StepFailed(f"GET /v1/insights/events ({read.status_code}) does not list {', '.join(sorted(missing))}")
    answer = sent.json()
    return f"{answer.get('accepted')} events accepted with key {mask(key)} and read back"
