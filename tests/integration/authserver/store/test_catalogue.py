"""The catalogue: seeded by `cloudstore up`, shown in All Apps with real images, edited by operators."""

from __future__ import annotations

import struct
import zlib

import pytest
from sqlalchemy import func, select

from authserver.extensions import db
from authserver.store.catalogue.seed import seed_catalogue
from authserver.store.models import App, Screenshot

from .conftest import app_named, page_text


def _png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def test_the_seeded_catalogue(app):
    apps = {a.code: a for a in db.session.execute(select(App)).scalars()}
    assert apps["time-attendance"].name == "Entersoft Time Attendance"
    assert (apps["time-attendance"].endpoint_type, apps["time-attendance"].endpoint_needs_admin) == (
        "time-attendance",
        False,
    )
    assert apps["app-insights"].name == "Entersoft Business Suite Application Insights"
    assert (apps["app-insights"].endpoint_type, apps["app-insights"].endpoint_needs_admin) == ("app-insights", True)
    assert (apps["surveys"].name, apps["surveys"].endpoint_type, apps["surveys"].endpoint_needs_admin) == (
        "Entersoft Surveys",
        "surveys",
        True,
    )
    assert any(a.endpoint_type is None for a in apps.values())
    assert {a.pricing for a in apps.values()} == {"PAID", "FREE", "TRIAL"}
    for app_ in apps.values():
        assert app_.description and app_.screenshots and app_.plans
        assert all(p.users >= 1 and p.monthly_price >= 0 for p in app_.plans)
        assert app_.oauth_client_id is None


def test_seeding_again_keeps_edits(app):
    app_named("surveys").name = "Surveys (edited)"
    db.session.commit()
    assert seed_catalogue(session=db.session) == []
    assert app_named("surveys").name == "Surveys (edited)"
    assert db.session.execute(select(func.count()).select_from(App)).scalar_one() == 4


def test_all_apps_view_details_and_images(client, subscription):
    page = client.get("/store/apps")
    text = page_text(page)
    assert "All Apps" in text and "VIEW DETAILS" in text
    assert "Entersoft Time Attendance" in text and "Entersoft Surveys" in text
    details = page_text(client.get("/store/apps/time-attendance"))
    assert "Business 20 45.00 EUR" in details and "ADD TO CART" in details
    assert "Get It" in page_text(client.get("/store/apps/worklife-payroll"))
    trial = page_text(client.get("/store/apps/surveys"))
    assert "Get It" in trial and "ADD TO CART" in trial
    for shot in db.session.execute(select(Screenshot)).scalars():
        response = client.get(f"/store/screenshots/{shot.id}", follow_redirects=True)
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        assert response.data.lstrip().startswith(b"<svg")
        response.close()


def test_the_catalogue_needs_a_signed_in_account(app):
    anonymous = app.test_client()
    assert anonymous.get("/store/apps").status_code == 302
    assert anonymous.get("/store/apps/unknown").status_code == 302


def test_unknown_app_is_404(client):
    assert client.get("/store/apps/nope").status_code == 404


def test_all_apps_appears_in_the_menu(client):
    assert 'href="/store/apps"' in client.get("/").get_data(as_text=True)


def test_operator_adds_an_app_with_a_version_and_screenshots(operator_client, client):
    response = operator_client.post(
        "/store/operator/apps/new",
        data={
            "code": "cloud-reports",
            "name": "Entersoft Cloud Reports",
            "summary": "Reports in the browser.",
            "description": "Long text.",
            "pricing": "PAID",
            "trial_days": "30",
            "endpoint_type": "",
            "web_address": "https://reports.example.test/",
            "position": "9",
            "published": "y",
        },
    )
    assert response.status_code == 302, page_text(response)
    response = operator_client.post(
        "/store/operator/apps/cloud-reports/plans",
        data={"name": "Small", "users": "3", "monthly_price": "10", "extra_user_price": "", "active": "y"},
    )
    assert response.status_code == 302
    app_ = app_named("cloud-reports")
    assert [(p.name, p.users, str(p.monthly_price), str(p.extra_user_price)) for p in app_.plans] == [
        ("Small", 3, "10.00", "3.33")
    ]
    upload = operator_client.post(
        "/store/operator/apps/cloud-reports/screenshots",
        data={"caption": "A report", "upload": (__import__("io").BytesIO(_png()), "shot.png"), "bundled": ""},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    operator_client.post(
        "/store/operator/apps/cloud-reports/screenshots",
        data={"caption": "Bundled", "bundled": "surveys-campaigns.svg"},
    )
    db.session.expire_all()
    shots = app_named("cloud-reports").screenshots
    assert [s.caption for s in shots] == ["A report", "Bundled"]
    image = client.get(f"/store/screenshots/{shots[0].id}")
    assert image.mimetype == "image/png" and image.data == _png()
    assert "Entersoft Cloud Reports" in page_text(client.get("/store/apps"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"code": "X"}, "Use 3 to 50 lower-case letters"),
        ({"code": "time-attendance"}, "already used"),
        ({"name": ""}, "Enter the name."),
        ({"web_address": "javascript:alert(1)"}, "Enter an address starting with https://"),
        ({"endpoint_type": "Bad Type"}, "Use lower-case letters, digits and '-'"),
        ({"trial_days": "0"}, "Enter a trial length from 1 to 365 days."),
    ],
)
def test_operator_app_form_is_checked(operator_client, data, message):
    base = {
        "code": "new-app",
        "name": "New",
        "summary": "s",
        "description": "d",
        "pricing": "PAID",
        "trial_days": "30",
        "position": "0",
    }
    response = operator_client.post("/store/operator/apps/new", data={**base, **data})
    assert response.status_code == 422
    assert message in page_text(response)


def test_operator_refuses_files_that_are_not_images(operator_client):
    response = operator_client.post(
        "/store/operator/apps/surveys/screenshots",
        data={"caption": "Evil", "upload": (__import__("io").BytesIO(b"<svg onload=alert(1)>"), "x.svg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "Upload a PNG or JPEG image." in page_text(response)


def test_operator_changes_a_price_and_hides_an_app(operator_client, client):
    plan = next(p for p in app_named("time-attendance").plans if p.name == "Basic")
    operator_client.post(
        f"/store/operator/apps/time-attendance/plans/{plan.id}",
        data={"name": "Basic", "users": "5", "monthly_price": "16.50", "extra_user_price": "3.30", "active": "y"},
    )
    db.session.expire_all()
    assert str(plan.monthly_price) == "16.50"
    app_ = app_named("worklife-payroll")
    operator_client.post(
        "/store/operator/apps/worklife-payroll",
        data={
            "name": app_.name,
            "summary": app_.summary,
            "description": app_.description,
            "pricing": "FREE",
            "trial_days": "30",
            "position": "3",
        },
    )
    assert "WorkLife Payroll" not in page_text(client.get("/store/apps"))
    assert client.get("/store/apps/worklife-payroll").status_code == 404


def test_admins_cannot_edit_the_catalogue(client):
    assert client.get("/store/operator/apps").status_code == 403
    assert client.post("/store/operator/apps/new", data={"code": "x-y-z"}).status_code == 403
