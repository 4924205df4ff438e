"""Surveys: campaigns and their property sets, responses checked against the lines, and per-line results."""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from resource_api.surveys.answers import BOOLEAN, CHOICE_TYPES, P_TYPES, answer_value, check_answers
from resource_api.surveys.models import SurveyAnswer, SurveyCampaign, SurveyLine, SurveyResponse
from shared.errors import Conflict, NotFound

__all__ = ["campaign_results", "get_campaign", "get_response", "list_campaigns", "post_response", "put_campaign"]

_RESPONSE_ID = re.compile(r"[0-9a-f]{32}")  # uuid4().hex; anything else (even a NUL) never reaches the database


def _find(
    session: Session, subscription_id: str, bridge_id: str, gid: str, *, lock: str | None = None
) -> SurveyCampaign | None:
    query = select(SurveyCampaign).where(
        SurveyCampaign.subscription_id == subscription_id,
        SurveyCampaign.bridge_id == bridge_id,
        SurveyCampaign.gid == gid,
    )
    if lock is not None:
        query = query.with_for_update(read=lock == "share")
    return session.execute(query).scalar_one_or_none()


def _owned(
    session: Session, subscription_id: str, bridge_id: str, gid: str, *, lock: str | None = None
) -> SurveyCampaign:
    campaign = _find(session, subscription_id, bridge_id, gid, lock=lock)
    if campaign is None:
        raise NotFound("No such campaign.")
    return campaign


def _view(session: Session, campaign: SurveyCampaign) -> dict[str, Any]:
    responses = session.scalar(select(func.count()).where(SurveyResponse.campaign_id == campaign.id))
    return {
        "gid": campaign.gid,
        "description": campaign.description,
        "task_notes": campaign.task_notes,
        "property_set": campaign.property_set,
        "responses": responses or 0,
        "created_at": campaign.created_at,
        "updated_at": campaign.updated_at,
    }


def _orphaned(session: Session, campaign: SurveyCampaign, lines: list[dict[str, Any]]) -> dict[str, list[str]]:
    """What a replacement would cut off from stored answers: removed or retyped lines, removed choices."""
    old = {line.code: line for line in campaign.lines}
    new = {line["code"]: line for line in lines}
    answered = session.execute(
        select(SurveyAnswer.line_code, SurveyAnswer.choice).where(SurveyAnswer.campaign_id == campaign.id).distinct()
    ).all()
    problems: dict[str, set[str]] = defaultdict(set)
    for code, choice in answered:
        if code not in new:
            problems[code].add("The line has answers and cannot be removed.")
        elif code in old and new[code]["p_type"] != old[code].p_type:
            problems[code].add("The line has answers and its pType cannot change.")
        elif new[code]["p_type"] in CHOICE_TYPES and choice not in {c["code"] for c in new[code]["choices"]}:
            problems[code].add(f"Choice {choice!r} has answers and cannot be removed.")
    return {code: sorted(reasons) for code, reasons in sorted(problems.items())}


def put_campaign(
    *,
    session: Session,
    subscription_id: str,
    bridge_id: str,
    gid: str,
    description: str,
    task_notes: str | None,
    property_set: dict[str, Any],
) -> tuple[dict[str, Any], bool]:
    """Create or replace a campaign and its property set; return it and whether it is new.

    A replacement that would orphan stored answers is refused with 409 and changes nothing.
    """
    now = datetime.now(UTC)
    campaign = _find(session, subscription_id, bridge_id, gid, lock="update")
    created = campaign is None
    if campaign is None:
        campaign = SurveyCampaign(subscription_id=subscription_id, bridge_id=bridge_id, gid=gid, created_at=now)
        session.add(campaign)
    else:
        if problems := _orphaned(session, campaign, property_set["lines"]):
            session.rollback()
            raise Conflict("The new property set would orphan stored answers.", lines=problems)
        campaign.lines.clear()
        session.flush()  # old line codes go before the new lines reuse them
    campaign.description = description
    campaign.task_notes = task_notes
    campaign.ps_code = property_set["code"]
    campaign.ps_description = property_set["description"]
    campaign.updated_at = now
    campaign.lines = [SurveyLine(**line) for line in property_set["lines"]]
    try:
        session.commit()
    except IntegrityError:  # the same GID created concurrently
        session.rollback()
        raise Conflict("The campaign was created by a concurrent request; send it again.") from None
    return _view(session, campaign), created


def list_campaigns(*, session: Session, subscription_id: str, bridge_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """The bridge's campaigns, most recently changed first, without their lines."""
    lines = select(func.count()).where(SurveyLine.campaign_id == SurveyCampaign.id).scalar_subquery()
    responses = select(func.count()).where(SurveyResponse.campaign_id == SurveyCampaign.id).scalar_subquery()
    query = (
        select(
            SurveyCampaign.gid,
            SurveyCampaign.description,
            SurveyCampaign.ps_code,
            SurveyCampaign.updated_at,
            lines.label("line_count"),
            responses.label("responses"),
        )
        .where(SurveyCampaign.subscription_id == subscription_id, SurveyCampaign.bridge_id == bridge_id)
        .order_by(SurveyCampaign.updated_at.desc(), SurveyCampaign.id.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in session.execute(query)]


def get_campaign(*, session: Session, subscription_id: str, bridge_id: str, gid: str) -> dict[str, Any]:
    """A campaign of this bridge with its property set."""
    return _view(session, _owned(session, subscription_id, bridge_id, gid))


def post_response(
    *, session: Session, subscription_id: str, bridge_id: str, gid: str, respondent: str, answers: dict[str, Any]
) -> SurveyResponse:
    """Store a response whose answers fit the campaign's lines (checked while the lines cannot change)."""
    campaign = _owned(session, subscription_id, bridge_id, gid, lock="share")
    rows = check_answers(campaign.lines, answers)
    response = SurveyResponse(
        id=uuid.uuid4().hex, campaign_id=campaign.id, respondent=respondent, submitted_at=datetime.now(UTC)
    )
    session.add(response)
    session.flush()
    if rows:
        base = {"response_id": response.id, "campaign_id": campaign.id, "number": None, "choice": None, "text": None}
        session.execute(insert(SurveyAnswer), [{**base, **row} for row in rows])
    session.commit()
    return response


def get_response(
    *, session: Session, subscription_id: str, bridge_id: str, gid: str, response_id: str
) -> dict[str, Any]:
    """A stored response with its answers, by line code."""
    campaign = _owned(session, subscription_id, bridge_id, gid)
    response = session.get(SurveyResponse, response_id) if _RESPONSE_ID.fullmatch(response_id) else None
    if response is None or response.campaign_id != campaign.id:
        raise NotFound("No such response.")
    p_types = {line.code: line.p_type for line in campaign.lines}
    rows = session.execute(
        select(SurveyAnswer).where(SurveyAnswer.response_id == response.id).order_by(SurveyAnswer.id)
    ).scalars()
    by_line: dict[str, list[SurveyAnswer]] = defaultdict(list)
    for row in rows:
        by_line[row.line_code].append(row)
    return {
        "id": response.id,
        "respondent": response.respondent,
        "submitted_at": response.submitted_at,
        "answers": {code: answer_value(p_types[code], found) for code, found in by_line.items()},
    }


def campaign_results(*, session: Session, subscription_id: str, bridge_id: str, gid: str) -> dict[str, Any]:
    """The response count and, per line, how many answered it, choice counts, and numeric min, max and mean."""
    campaign = _owned(session, subscription_id, bridge_id, gid)
    of_campaign = SurveyAnswer.campaign_id == campaign.id
    responses = session.scalar(select(func.count()).where(SurveyResponse.campaign_id == campaign.id)) or 0
    answered = dict(
        session.execute(
            select(SurveyAnswer.line_code, func.count(SurveyAnswer.response_id.distinct()))
            .where(of_campaign)
            .group_by(SurveyAnswer.line_code)
        ).all()
    )
    picks: dict[str, dict[str, int]] = defaultdict(dict)
    for code, choice, count in session.execute(
        select(SurveyAnswer.line_code, SurveyAnswer.choice, func.count())
        .where(of_campaign, SurveyAnswer.choice.is_not(None))
        .group_by(SurveyAnswer.line_code, SurveyAnswer.choice)
    ):
        picks[code][choice] = count
    numbers = {
        code: (low, high, mean)
        for code, low, high, mean in session.execute(
            select(
                SurveyAnswer.line_code,
                func.min(SurveyAnswer.number),
                func.max(SurveyAnswer.number),
                func.avg(SurveyAnswer.number),
            )
            .where(of_campaign, SurveyAnswer.number.is_not(None))
            .group_by(SurveyAnswer.line_code)
        )
    }
    lines = []
    for line in campaign.lines:
        kind = P_TYPES[line.p_type].kind
        result: dict[str, Any] = {
            "seqNum": line.seq_num,
            "code": line.code,
            "description": line.description,
            "pType": line.p_type,
            "kind": kind,
            "answered": answered.get(line.code, 0),
        }
        if line.p_type == BOOLEAN:
            result["choices"] = {key: picks[line.code].get(key, 0) for key in ("true", "false")}
        elif kind == "choice":
            result["choices"] = {
                choice["code"]: picks[line.code].get(choice["code"], 0) for choice in line.choices or ()
            }
        elif kind == "number":
            low, high, mean = numbers.get(line.code, (None, None, None))
            result.update(min=low, max=high, avg=None if mean is None else float(mean))
        lines.append(result)
    return {"gid": campaign.gid, "responses": responses, "lines": lines}
