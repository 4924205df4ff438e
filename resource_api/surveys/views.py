"""The surveys API for Entersoft CRM: campaigns with their property sets, responses, and results."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from marshmallow import RAISE

from resource_api.extensions import db
from resource_api.protect import require_token, tenant
from resource_api.surveys import service
from resource_api.surveys.schemas import (
    CampaignQuerySchema,
    SurveyCampaignListItemSchema,
    SurveyCampaignSchema,
    SurveyResponseCreatedSchema,
    SurveyResponseSchema,
    SurveyResultsSchema,
)
from shared.api import Blueprint

bp = Blueprint("surveys", __name__, url_prefix="/v1/surveys", description="Surveys (Entersoft CRM campaigns)")
WRITE = "surveys:write"
READ = "surveys:read"

# require_token sits above the argument parsing, so a request without a valid key learns nothing about the schema.


@bp.put("/campaigns/<uuid:gid>")
@require_token(WRITE)
@bp.arguments(SurveyCampaignSchema)
@bp.response(200, SurveyCampaignSchema, description="Replaced")
@bp.alt_response(201, schema=SurveyCampaignSchema, description="Created")
@bp.alt_response(409, description="The replacement would orphan answers already stored")
def put_campaign(data: dict[str, Any], gid: UUID) -> Any:
    """Create or replace a campaign and its questionnaire; lines, pTypes or choices that have answers must stay."""
    subscription_id, bridge_id = tenant()
    campaign, created = service.put_campaign(
        session=db.session, subscription_id=subscription_id, bridge_id=bridge_id, gid=str(gid), **data
    )
    return campaign, 201 if created else 200


@bp.get("/campaigns")
@require_token(READ)
@bp.arguments(CampaignQuerySchema, location="query", unknown=RAISE)
@bp.response(200, SurveyCampaignListItemSchema(many=True))
def list_campaigns(query: dict[str, Any]) -> Any:
    """This bridge's campaigns, most recently changed first."""
    return read_campaigns(query)


def read_campaigns(query: dict[str, Any]) -> Any:
    """`list_campaigns`' campaigns, for the view and the read lane (`resource_api.fast_reads`)."""
    subscription_id, bridge_id = tenant()
    return service.list_campaigns(
        session=db.session, subscription_id=subscription_id, bridge_id=bridge_id, limit=query["limit"]
    )


@bp.get("/campaigns/<uuid:gid>")
@require_token(READ)
@bp.response(200, SurveyCampaignSchema)
def get_campaign(gid: UUID) -> Any:
    """A campaign with its questionnaire."""
    return read_campaign(gid)


def read_campaign(gid: UUID) -> Any:
    """`get_campaign`'s campaign, for the view and the read lane."""
    subscription_id, bridge_id = tenant()
    return service.get_campaign(session=db.session, subscription_id=subscription_id, bridge_id=bridge_id, gid=str(gid))


@bp.post("/campaigns/<uuid:gid>/responses")
@require_token(WRITE)
@bp.arguments(SurveyResponseSchema)
@bp.response(201, SurveyResponseCreatedSchema)
def post_response(data: dict[str, Any], gid: UUID) -> Any:
    """Store a respondent's answers by line code, checked against the campaign's lines."""
    subscription_id, bridge_id = tenant()
    response = service.post_response(
        session=db.session, subscription_id=subscription_id, bridge_id=bridge_id, gid=str(gid), **data
    )
    location = url_for("surveys.get_response", gid=gid, response_id=response.id)
    return {"responseId": response.id}, 201, {"Location": location}


@bp.get("/campaigns/<uuid:gid>/responses/<response_id>")
@require_token(READ)
@bp.response(200, SurveyResponseSchema)
def get_response(gid: UUID, response_id: str) -> Any:
    """A stored response and its answers."""
    return read_response(gid, response_id)


def read_response(gid: UUID, response_id: str) -> Any:
    """`get_response`'s response, for the view and the read lane."""
    subscription_id, bridge_id = tenant()
    return service.get_response(
        session=db.session, subscription_id=subscription_id, bridge_id=bridge_id, gid=str(gid), response_id=response_id
    )


@bp.get("/campaigns/<uuid:gid>/results")
@require_token(READ)
@bp.response(200, SurveyResultsSchema)
def get_results(gid: UUID) -> Any:
    """The response count and per-line aggregates: choice counts, numeric min/max/avg, answered counts."""
    return read_results(gid)


def read_results(gid: UUID) -> Any:
    """`get_results`' aggregates, for the view and the read lane."""
    subscription_id, bridge_id = tenant()
    return service.campaign_results(
        session=db.session, subscription_id=subscription_id, bridge_id=bridge_id, gid=str(gid)
    )
