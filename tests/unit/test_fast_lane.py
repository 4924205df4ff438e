"""The fast lane's own rules: paths decoded as Werkzeug decodes them, HEAD left to the app, an answer that
stands once given, and anything a handler declines or fails passed on to the app."""

from __future__ import annotations

from typing import Any

from flask import Flask

from shared.fast_lane import Answer, FastLane, json_answer

_FULL = b"from the full app"


def _app(handler: Any) -> Flask:
    app = Flask(__name__)

    @app.get("/items/<name>")
    def item(name: str) -> Any:
        return _FULL

    @app.get("/items/special")
    def special() -> Any:  # routed before the lane's rule, as Werkzeug routes a path without variables
        return b"special"

    app.wsgi_app = FastLane(app, {"item": handler})  # type: ignore[method-assign]
    return app


def test_a_utf8_path_reaches_the_handler_decoded():
    app = _app(lambda environ, arguments: json_answer({"name": arguments["name"]}))
    response = app.test_client().get("/items/%CE%91%CE%B8%CE%AE%CE%BD%CE%B1")
    assert response.get_json() == {"name": "Αθήνα"}
    assert response.headers["Content-Type"] == "application/json"


def test_a_path_that_is_not_utf8_goes_to_the_app():
    app = _app(lambda environ, arguments: json_answer({"name": arguments["name"]}))
    response = app.test_client().get("/items/x", environ_overrides={"PATH_INFO": "/items/\xff"})
    assert response.get_data() == _FULL


def test_declined_failed_and_head_requests_go_to_the_app():
    def failing(environ: Any, arguments: dict[str, Any]) -> Answer:
        raise RuntimeError("a failure the app will answer")

    assert _app(lambda environ, arguments: None).test_client().get("/items/a").get_data() == _FULL
    assert _app(failing).test_client().get("/items/a").get_data() == _FULL
    answering = _app(lambda environ, arguments: Answer(200, b"{}"))
    assert answering.test_client().head("/items/a").headers["Content-Length"] == str(len(_FULL))


def test_an_answer_stands_when_the_teardown_fails():
    calls: list[str] = []

    def handler(environ: Any, arguments: dict[str, Any]) -> Answer:
        calls.append(arguments["name"])
        return Answer(202, b'{"sent":true}')

    app = _app(handler)

    @app.teardown_appcontext
    def broken(_: BaseException | None) -> None:
        raise RuntimeError("teardown failed")

    response = app.test_client().get("/items/call", headers={"X-Request-ID": "abc-1"})
    assert (response.status_code, response.get_data(), calls) == (202, b'{"sent":true}', ["call"])
    assert response.headers["X-Request-ID"] == "abc-1"


def test_a_path_the_app_routes_elsewhere_is_not_taken_by_a_lane_rule():
    app = _app(lambda environ, arguments: json_answer({"name": arguments["name"]}))
    assert app.test_client().get("/items/special").get_data() == b"special"
    assert app.test_client().get("/items/ordinary").get_json() == {"name": "ordinary"}
