"""The catalogue `cloudstore up` starts with. Seeding adds what is missing and never overwrites an operator's edits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from authserver import audit
from authserver.store.clock import utcnow
from authserver.store.models import FREE, PAID, TRIAL, App, Plan, Screenshot

__all__ = ["CATALOGUE", "seed_catalogue"]

CATALOGUE: list[dict[str, Any]] = [
    {
        "code": "time-attendance",
        "name": "Entersoft Time Attendance",
        "pricing": PAID,
        "endpoint_type": "time-attendance",
        "endpoint_needs_admin": False,
        "summary": "Clock punches from your terminals straight into Entersoft Payroll (WorkLife).",
        "description": (
            "Connect your time-attendance clocks to Entersoft WorkLife Payroll. The clock agent sends every "
            "punch to the cloud with the API key of an Endpoint Token; the cloud checks, de-duplicates and keeps "
            "it, and forwards it through your connection to the payroll of your Entersoft application server.\n\n"
            "Assign the users who connect the clocks to the app, then add an Endpoint in its Integrations tab."
        ),
        "plans": [
            ("Basic", 5, "15.00", "3.00"),
            ("Business", 20, "45.00", "2.25"),
            ("Enterprise", 100, "150.00", "1.50"),
        ],
        "screenshots": [
            ("time-attendance-punches.svg", "Punches of the day, as the clocks sent them"),
            ("time-attendance-devices.svg", "Clocks and their last contact"),
        ],
    },
    {
        "code": "app-insights",
        "name": "Entersoft Business Suite Application Insights",
        "pricing": PAID,
        "endpoint_type": "app-insights",
        "endpoint_needs_admin": True,
        "summary": "Insights from the use of your Entersoft Business Suite 2020 Series products.",
        "description": (
            "Entersoft Business Suite 2020 Series products send application events (sessions, errors, slow "
            "operations) to this app's Integration Endpoint, and the app shows who uses what and where time "
            "goes.\n\nAn ERP administrator assigned to the app must authorize its Endpoint Token."
        ),
        "plans": [("Standard", 10, "29.00", "2.90"), ("Professional", 50, "99.00", "1.98")],
        "screenshots": [
            ("app-insights-dashboard.svg", "Sessions and errors per day"),
            ("app-insights-events.svg", "Application events of a session"),
        ],
    },
    {
        "code": "surveys",
        "name": "Entersoft Surveys",
        "pricing": TRIAL,
        "trial_days": 30,
        "endpoint_type": "surveys",
        "endpoint_needs_admin": True,
        "summary": "Surveys, campaigns and data collection, driven from Entersoft CRM.",
        "description": (
            "Design questionnaires and run survey campaigns of any type directly from Entersoft CRM (Surveys, "
            "Campaigns, Data Collection, Newsletter Management); answers flow back through the app's Integration "
            "Endpoint.\n\nTry it for 30 days with Get It, then buy the version you need."
        ),
        "plans": [("Starter", 5, "19.00", "3.80"), ("Team", 25, "59.00", "2.36")],
        "screenshots": [
            ("surveys-campaigns.svg", "Campaigns and their progress"),
            ("surveys-responses.svg", "Answers of a questionnaire"),
        ],
    },
    {
        "code": "worklife-payroll",
        "name": "WorkLife Payroll",
        "pricing": FREE,
        "endpoint_type": None,
        "endpoint_needs_admin": False,
        "summary": "Employees see their payslips and leave balances on the web.",
        "description": (
            "A self-service web app for the employees of your company: payslips, leave balances and personal "
            "details from Entersoft Payroll. It exposes no Integration Endpoint.\n\nFree for up to 10 users."
        ),
        "plans": [("Free", 10, "0.00", "0.00")],
        "screenshots": [
            ("payroll-payslips.svg", "An employee's payslips"),
            ("payroll-employees.svg", "Employees and their access"),
        ],
    },
]


def seed_catalogue(*, session: Session) -> list[str]:
    """Add the apps of CATALOGUE that are missing (by code); return the codes added."""
    existing = set(session.execute(select(App.code)).scalars())
    added = []
    now = utcnow()
    for position, entry in enumerate(CATALOGUE):
        if entry["code"] in existing:
            continue
        fields = {k: v for k, v in entry.items() if k not in ("plans", "screenshots")}
        app = App(position=position, created_at=now, updated_at=now, **fields)
        for index, (name, users, price, extra) in enumerate(entry["plans"]):
            app.plans.append(
                Plan(
                    name=name,
                    users=users,
                    monthly_price=Decimal(price),
                    extra_user_price=Decimal(extra),
                    position=index,
                )
            )
        for index, (file, caption) in enumerate(entry["screenshots"]):
            app.screenshots.append(Screenshot(bundled=file, caption=caption, position=index))
        session.add(app)
        audit.record(session=session, event="store.app_created", actor=audit.SYSTEM, app=entry["code"], seeded=True)
        added.append(entry["code"])
    session.commit()
    return added
