"""The read lane: the public API's token-authenticated GETs answered in front of Flask (`shared.fast_lane`).

Every read of the public API (`/v1/`) is answered here when its bearer token is valid and holds the route's
scope: the token is checked by the app's own `TokenChecker` (a JWT locally, an API key through cached
introspection), the query by the view's own schema, and the document comes from the same `read_*` function the
view calls, dumped by the view's response schema and encoded by the app's JSON provider, so the bytes are the
view's. Anything else goes on to Flask, which answers it as before: no or a bad token (401/403 and the RFC 6750
challenge), a query the schema refuses (422), a resource not found (404), a failure. Reads only: a GET can be
run twice, so a read the lane gives up on halfway loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from flask import Flask, current_app, g
from marshmallow import Schema, ValidationError

from shared.fast_lane import Answer, FastLane, Handler, json_answer
from shared.service_auth import bearer_claims

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["PREFIX", "Read", "install_fast_reads", "reads"]

PREFIX = "/v1/"  # the public API; the portal's internal routes and the apps' pages keep Flask's full handling
_MAX_QUERY_FIELDS = 10


@dataclass(frozen=True)
class Read:
    """One read: the scope its token needs, the function the view calls (given the path arguments, and the
    loaded query when there is a `query` schema), and the view's response schema when the function's answer is
    not a JSON document yet."""

    scope: str
    read: Callable[..., Any]
    dump: Schema | None = None
    query: Schema | None = None


def reads() -> dict[str, Read]:
    """Every public read by endpoint."""
    from resource_api.attendance import views as attendance
    from resource_api.insights import schemas as insight_schemas
    from resource_api.insights import views as insights
    from resource_api.surveys import schemas as survey_schemas
    from resource_api.surveys import views as surveys

    return {
        "attendance.get_batch": Read(attendance.SCOPE, attendance.read_batch),
        "insights.list_events": Read(
            insights.SCOPE,
            insights.read_events,
            insight_schemas.StoredEventSchema(many=True),
            insight_schemas.EventQuerySchema(),
        ),
        "insights.get_summary": Read(
            insights.SCOPE, insights.read_summary, insight_schemas.SummarySchema(), insight_schemas.SummaryQuerySchema()
        ),
        "surveys.list_campaigns": Read(
            surveys.READ,
            surveys.read_campaigns,
            survey_schemas.SurveyCampaignListItemSchema(many=True),
            survey_schemas.CampaignQuerySchema(),
        ),
        "surveys.get_campaign": Read(surveys.READ, surveys.read_campaign, survey_schemas.SurveyCampaignSchema()),
        "surveys.get_response": Read(surveys.READ, surveys.read_response, survey_schemas.SurveyResponseSchema()),
        "surveys.get_results": Read(surveys.READ, surveys.read_results, survey_schemas.SurveyResultsSchema()),
    }


def _query(environ: WSGIEnvironment, schema: Schema) -> dict[str, Any] | None:
    """The query string loaded by the view's schema; None for anything Flask should judge (a repeated field,
    bad encoding, what the schema refuses)."""
    try:
        pairs = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True, max_num_fields=_MAX_QUERY_FIELDS)
    except ValueError:
        return None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        return None
    try:
        return schema.load(fields)
    except ValidationError:
        return None


def _handler(read: Read) -> Handler:
    def handle(environ: WSGIEnvironment, arguments: dict[str, Any]) -> Answer | None:
        checker = current_app.extensions["token_checker"]
        claims = bearer_claims(checker, environ.get("HTTP_AUTHORIZATION", ""), (read.scope,))
        if claims is None:
            return None
        if read.query is not None:
            query = _query(environ, read.query)
            if query is None:
                return None
            arguments = {"query": query, **arguments}
        g.token_claims = claims
        document = read.read(**arguments)
        return json_answer(read.dump.dump(document) if read.dump is not None else document)

    return handle


def install_fast_reads(app: Flask) -> None:
    """Put the read lane in front of the app."""
    app.wsgi_app = FastLane(  # type: ignore[method-assign]
        app, {endpoint: _handler(read) for endpoint, read in reads().items()}
    )
