"""The catalogue: apps, their plans (versions) and screenshots; reading for everyone, editing for operators."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from authserver import audit
from authserver.store.clock import utcnow
from authserver.store.errors import StoreFieldError
from authserver.store.models import PRICINGS, App, Plan, Screenshot
from authserver.store.money import parse_amount, round_cents
from shared.errors import NotFound

__all__ = [
    "BUNDLED_SCREENSHOTS",
    "MAX_UPLOAD_BYTES",
    "add_plan",
    "add_screenshot",
    "app_by_code",
    "image_type",
    "create_app",
    "list_apps",
    "plan_of",
    "remove_screenshot",
    "update_app",
    "update_plan",
]

CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$")
ENDPOINT_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{0,48}[a-z0-9]$")
MAX_UPLOAD_BYTES = 1024 * 1024
# The illustrations shipped in static/store/, offered to operators beside uploads.
BUNDLED_SCREENSHOTS = (
    "time-attendance-punches.svg",
    "time-attendance-devices.svg",
    "app-insights-dashboard.svg",
    "app-insights-events.svg",
    "surveys-campaigns.svg",
    "surveys-responses.svg",
    "payroll-payslips.svg",
    "payroll-employees.svg",
)
_IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def list_apps(*, session: Session, include_hidden: bool = False) -> list[App]:
    """The catalogue in display order; hidden apps only for operators."""
    query = select(App).order_by(App.position, App.name)
    if not include_hidden:
        query = query.where(App.published.is_(True))
    return list(session.execute(query).scalars())


def app_by_code(*, session: Session, code: str, include_hidden: bool = False) -> App:
    """The app with this code; `NotFound` if there is none (or it is hidden and `include_hidden` is false)."""
    app = session.execute(select(App).where(App.code == code.strip().lower())).scalar_one_or_none()
    if app is None or (not app.published and not include_hidden):
        raise NotFound("There is no such app.")
    return app


def plan_of(*, app: App, plan_id: int, active_only: bool = True) -> Plan:
    """The app's plan with this id; `NotFound` otherwise."""
    for plan in app.plans:
        if plan.id == plan_id and (plan.active or not active_only):
            return plan
    raise NotFound("There is no such version of this app.")


def _text(field: str, value: Any, label: str, maximum: int, *, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise StoreFieldError(field, f"Enter the {label}.")
    if len(text) > maximum:
        raise StoreFieldError(field, f"The {label} must be at most {maximum} characters long.")
    if "\x00" in text:
        raise StoreFieldError(field, f"The {label} may not contain NUL characters.")
    return text


def _app_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Check the editable fields of an app; raise StoreFieldError naming the first bad one."""
    out: dict[str, Any] = {}
    if "name" in values:
        out["name"] = _text("name", values["name"], "name", 200)
    if "summary" in values:
        out["summary"] = _text("summary", values["summary"], "brief description", 300)
    if "description" in values:
        out["description"] = _text("description", values["description"], "description", 10000)
    if "pricing" in values:
        if values["pricing"] not in PRICINGS:
            raise StoreFieldError("pricing", "Choose Paid, Free or Trial.")
        out["pricing"] = values["pricing"]
    if "trial_days" in values:
        days = values["trial_days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
            raise StoreFieldError("trial_days", "Enter a trial length from 1 to 365 days.")
        out["trial_days"] = days
    if "endpoint_type" in values:
        kind = str(values["endpoint_type"] or "").strip().lower() or None
        if kind is not None and not ENDPOINT_TYPE.match(kind):
            raise StoreFieldError("endpoint_type", "Use lower-case letters, digits and '-' (like time-attendance).")
        out["endpoint_type"] = kind
    if "endpoint_needs_admin" in values:
        out["endpoint_needs_admin"] = bool(values["endpoint_needs_admin"])
    if "web_address" in values:
        address = _text("web_address", values["web_address"], "web address", 500, required=False) or None
        if address is not None and not re.match(r"^https?://[^\s/]+", address):
            raise StoreFieldError("web_address", "Enter an address starting with https:// (or leave it empty).")
        out["web_address"] = address
    if "published" in values:
        out["published"] = bool(values["published"])
    if "position" in values:
        out["position"] = int(values["position"] or 0)
    return out


def create_app(*, session: Session, actor: str, code: str, **values: Any) -> App:
    """Add an app to the catalogue; raise StoreFieldError for a bad or taken code or field."""
    code = str(code or "").strip().lower()
    if not CODE.match(code):
        raise StoreFieldError("code", "Use 3 to 50 lower-case letters, digits and '-' (like time-attendance).")
    fields = {"pricing": "PAID", "summary": "", "description": "", **values}
    checked = _app_fields(fields)
    now = utcnow()
    app = App(code=code, created_at=now, updated_at=now, **checked)
    session.add(app)
    _flush_unique(session, code)
    audit.record(session=session, event="store.app_created", actor=actor, app=code)
    session.commit()
    return app


def _flush_unique(session: Session, code: str) -> None:
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise StoreFieldError("code", f"The code or the endpoint type is already used ({code}).") from None


def update_app(*, session: Session, actor: str, app: App, **values: Any) -> App:
    """Change an app's fields (not its code, which other features keep)."""
    checked = _app_fields(values)
    changed = sorted(name for name, value in checked.items() if getattr(app, name) != value)
    for name in changed:
        setattr(app, name, checked[name])
    if changed:
        app.updated_at = utcnow()
        _flush_unique(session, app.code)
        audit.record(session=session, event="store.app_updated", actor=actor, app=app.code, changed=changed)
        session.commit()
    return app


def _plan_fields(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in values:
        out["name"] = _text("name", values["name"], "version name", 100)
    if "users" in values:
        users = values["users"]
        if isinstance(users, bool) or not isinstance(users, int) or not 1 <= users <= 10000:
            raise StoreFieldError("users", "Enter a number of users from 1 to 10000.")
        out["users"] = users
    for name in ("monthly_price", "extra_user_price"):
        if name in values:
            try:
                out[name] = parse_amount(values[name])
            except (ValueError, TypeError) as exc:
                raise StoreFieldError(name, str(exc)) from None
    if "active" in values:
        out["active"] = bool(values["active"])
    if "position" in values:
        out["position"] = int(values["position"] or 0)
    return out


def add_plan(
    *, session: Session, actor: str, app: App, name: str, users: int, monthly_price: Decimal | str, **values: Any
) -> Plan:
    """Add a version to an app; the extra-user price defaults to the monthly price per user."""
    fields = _plan_fields({"name": name, "users": users, "monthly_price": monthly_price, **values})
    if "extra_user_price" not in fields:
        fields["extra_user_price"] = round_cents(fields["monthly_price"] / fields["users"])
    plan = Plan(app=app, **fields)
    session.add(plan)
    app.updated_at = utcnow()
    audit.record(session=session, event="store.plan_added", actor=actor, app=app.code, plan=fields["name"])
    session.commit()
    return plan


def update_plan(*, session: Session, actor: str, plan: Plan, **values: Any) -> Plan:
    """Change a version's name, users, prices or availability (existing licences keep what they bought)."""
    checked = _plan_fields(values)
    changed = sorted(name for name, value in checked.items() if getattr(plan, name) != value)
    for name in changed:
        setattr(plan, name, checked[name])
    if changed:
        audit.record(session=session, event="store.plan_updated", actor=actor, app=plan.app.code, changed=changed)
        session.commit()
    return plan


def image_type(content: bytes) -> str | None:
    """`image/png` or `image/jpeg` by the file's first bytes, else None."""
    for magic, kind in _IMAGE_TYPES.items():
        if content.startswith(magic):
            return kind
    return None


def add_screenshot(
    *,
    session: Session,
    actor: str,
    app: App,
    caption: str,
    bundled: str | None = None,
    content: bytes | None = None,
) -> Screenshot:
    """Add a bundled illustration or an uploaded PNG/JPEG (at most 1 MiB) to an app."""
    caption = _text("caption", caption, "caption", 200)
    if (bundled is None) == (content is None):
        raise StoreFieldError("image", "Upload an image or pick one of the bundled ones.")
    values: dict[str, Any] = {}
    if bundled is not None:
        if bundled not in BUNDLED_SCREENSHOTS:
            raise StoreFieldError("bundled", "Pick one of the bundled images.")
        values["bundled"] = bundled
    elif content is not None:
        if len(content) > MAX_UPLOAD_BYTES:
            raise StoreFieldError("upload", "The image must be at most 1 MiB.")
        kind = image_type(content)
        if kind is None:
            raise StoreFieldError("upload", "Upload a PNG or JPEG image.")
        values["content"], values["content_type"] = content, kind
    # Made only now: a screenshot attached to the app joins the session at once.
    shot = Screenshot(app=app, caption=caption, position=len(app.screenshots), **values)
    session.add(shot)
    audit.record(session=session, event="store.screenshot_added", actor=actor, app=app.code, caption=caption)
    session.commit()
    return shot


def remove_screenshot(*, session: Session, actor: str, app: App, screenshot_id: int) -> None:
    """Remove a screenshot from an app."""
    shot = next((s for s in app.screenshots if s.id == screenshot_id), None)
    if shot is None:
        raise NotFound("There is no such screenshot.")
    app.screenshots.remove(shot)
    audit.record(session=session, event="store.screenshot_removed", actor=actor, app=app.code, caption=shot.caption)
    session.commit()
