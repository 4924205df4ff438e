"""shared.errors: problem details for raised problems, HTTP errors and validation errors."""

from __future__ import annotations

from flask import Flask
from marshmallow import Schema, fields

from shared.errors import Conflict, Problem, register_error_handlers


class _Thing(Schema):
    name = fields.String(required=True)


def _app() -> Flask:
    app = Flask("t")
    register_error_handlers(app)

    @app.post("/things")
    def create_thing():
        _Thing().load({})
        return "", 201

    @app.get("/conflict")
    def conflict():
        raise Conflict("Subscription ID already taken.", field="subscription_id")

    @app.get("/custom")
    def custom():
        raise Problem("Out of seats.", status=409, title="No seats", type="https://cloudstore.dev/problems/seats")

    return app


def test_validation_error_is_422_with_field_errors():
    response = _app().test_client().post("/things")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"] == {"name": ["Missing data for required field."]}


def test_problem_carries_extensions():
    body = _app().test_client().get("/conflict").get_json()
    assert body == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "Subscription ID already taken.",
        "field": "subscription_id",
    }


def test_problem_status_and_title_can_be_given_per_instance():
    response = _app().test_client().get("/custom")
    assert response.status_code == 409
    assert response.get_json()["title"] == "No seats"
