"""Campaigns created and replaced, responses stored and read back, results aggregated."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.resource_api.surveys.builders import (
    CAMPAIGN,
    GID,
    MAYBE,
    answers_with,
    campaign_body,
    campaign_retyped,
    campaign_with_choices,
    campaign_without,
    respond,
    results_of,
    survey_line,
)


def test_campaign_is_created_then_replaced(test_client, crm, campaign):
    assert campaign["gid"] == GID and campaign["responses"] == 0
    assert campaign["propertySet"]["code"] == "CSAT"
    satisfied = campaign["propertySet"]["lines"][4]
    assert satisfied["choices"] == [
        {"code": "yes", "description": "Yes", "value": None, "orderPriority": None},
        {"code": "no", "description": "No", "value": None, "orderPriority": None},
        MAYBE,
    ]
    assert test_client.get(CAMPAIGN, headers=crm).get_json() == campaign

    changed = campaign_body(description="Customer satisfaction Q3", taskNotes=None)
    changed["propertySet"]["lines"] = changed["propertySet"]["lines"][:2]
    replaced = test_client.put(f"/v1/surveys/campaigns/{GID.upper()}", json=changed, headers=crm)
    assert replaced.status_code == 200
    body = replaced.get_json()
    assert body["description"] == "Customer satisfaction Q3" and body["taskNotes"] is None
    assert [line["code"] for line in body["propertySet"]["lines"]] == ["NAME", "VISITS"]
    assert body["createdAt"] == campaign["createdAt"] and body["gid"] == GID


def test_campaigns_are_listed_newest_first(test_client, crm, campaign):
    other = str(uuid.uuid4())
    test_client.put(f"/v1/surveys/campaigns/{other}", json=campaign_body(description="Later"), headers=crm)
    respond(test_client, crm, answers_with())
    listed = test_client.get("/v1/surveys/campaigns", headers=crm).get_json()
    assert [(c["gid"], c["lineCount"], c["responses"]) for c in listed] == [(other, 11, 0), (GID, 11, 1)]
    assert [c["gid"] for c in test_client.get("/v1/surveys/campaigns?limit=1", headers=crm).get_json()] == [other]


def test_response_is_stored_and_read_back(test_client, crm, campaign):
    response = respond(test_client, crm, answers_with())
    assert response.status_code == 201
    response_id = response.get_json()["responseId"]
    assert response.headers["Location"].endswith(f"/v1/surveys/campaigns/{GID}/responses/{response_id}")
    stored = test_client.get(response.headers["Location"], headers=crm).get_json()
    assert stored["respondent"] == "cust-1" and stored["responseId"] == response_id
    assert stored["answers"] == {**answers_with(), "LAST_VISIT": "2026-03-29T05:59:00+00:00", "OPEN_AT": "09:30:00"}


def test_only_mandatory_lines_are_needed(test_client, crm, campaign):
    response = respond(test_client, crm, {"NAME": "x", "SATISFIED": "no", "VISITS": None, "CHANNELS": [], "NOTES": ""})
    assert response.status_code == 201
    stored = test_client.get(response.headers["Location"], headers=crm).get_json()
    assert stored["answers"] == {"NAME": "x", "SATISFIED": "no"}


def test_results_aggregate_every_line(test_client, crm, campaign):
    respond(test_client, crm, answers_with())
    respond(
        test_client, crm, answers_with(VISITS=1, SPEND=0.25, SATISFIED="no", RECOMMEND=False, CHANNELS=["web"], SCORE=4)
    )
    respond(
        test_client,
        crm,
        answers_with(VISITS=8, SPEND=..., SATISFIED="yes", RECOMMEND=..., CHANNELS=["phone", "web", "shop"], SCORE=...),
    )
    results = results_of(test_client, crm)
    assert results["responses"] == 3
    lines = {line["code"]: line for line in results["lines"]}
    assert [line["code"] for line in results["lines"]][:3] == ["NAME", "VISITS", "SPEND"]
    assert lines["NAME"] == {
        "seqNum": 10,
        "code": "NAME",
        "description": "Question NAME",
        "pType": 0,
        "kind": "text",
        "answered": 3,
    }
    assert (lines["VISITS"]["min"], lines["VISITS"]["max"], lines["VISITS"]["answered"]) == (1, 8, 3)
    assert lines["VISITS"]["avg"] == pytest.approx(4.0)
    assert (lines["SPEND"]["min"], lines["SPEND"]["max"], lines["SPEND"]["answered"]) == (0.25, 12.5, 2)
    assert lines["SPEND"]["avg"] == pytest.approx(6.375)
    assert lines["SCORE"]["avg"] == pytest.approx(6.5)
    assert lines["SATISFIED"]["choices"] == {"yes": 2, "no": 1, "maybe": 0}
    assert lines["RECOMMEND"]["choices"] == {"true": 1, "false": 1} and lines["RECOMMEND"]["answered"] == 2
    assert lines["CHANNELS"]["choices"] == {"shop": 2, "web": 3, "phone": 1} and lines["CHANNELS"]["answered"] == 3
    assert lines["SINCE"]["kind"] == "date" and lines["SINCE"]["answered"] == 3 and "min" not in lines["SINCE"]


def test_results_of_a_campaign_without_responses(test_client, crm, campaign):
    results = results_of(test_client, crm)
    assert results["responses"] == 0
    lines = {line["code"]: line for line in results["lines"]}
    assert lines["VISITS"]["min"] is None and lines["VISITS"]["avg"] is None
    assert lines["SATISFIED"]["choices"] == {"yes": 0, "no": 0, "maybe": 0}


@pytest.mark.parametrize(
    ("replacement", "line"),
    [
        (campaign_without("VISITS"), "VISITS"),
        (campaign_retyped("VISITS", 2), "VISITS"),
        (campaign_retyped("NAME", 12), "NAME"),
        (campaign_with_choices("SATISFIED", "no", "maybe"), "SATISFIED"),
        (campaign_with_choices("CHANNELS", "shop", "phone"), "CHANNELS"),
    ],
    ids=["line-removed", "type-changed", "text-to-long-text", "choice-removed", "multi-choice-removed"],
)
def test_replacement_that_would_orphan_answers_is_409(test_client, crm, campaign, replacement, line):
    respond(test_client, crm, answers_with(CHANNELS=["web"]))
    response = test_client.put(CAMPAIGN, json=replacement, headers=crm)
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert list(response.get_json()["lines"]) == [line]
    assert test_client.get(CAMPAIGN, headers=crm).get_json() == {**campaign, "responses": 1}


def test_replacement_may_drop_unanswered_lines_and_choices(test_client, crm, campaign):
    respond(test_client, crm, answers_with(SCORE=..., CHANNELS=["web"]))
    body = campaign_with_choices("CHANNELS", "web", "email")
    body["propertySet"]["lines"] = [line for line in body["propertySet"]["lines"] if line["code"] != "SCORE"]
    body["propertySet"]["lines"].append(survey_line(200, "NEW", 1, True))
    body["propertySet"]["lines"][0]["description"] = "Your name"
    response = test_client.put(CAMPAIGN, json=body, headers=crm)
    assert response.status_code == 200, response.get_json()
    lines = {line["code"]: line for line in results_of(test_client, crm)["lines"]}
    assert "SCORE" not in lines and lines["NEW"]["answered"] == 0
    assert lines["CHANNELS"]["choices"] == {"web": 1, "email": 0}
    assert lines["NAME"]["description"] == "Your name" and lines["NAME"]["answered"] == 1
