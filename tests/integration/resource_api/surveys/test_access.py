"""Tenancy, unknown ids, scopes and credentials of the surveys API, and its OpenAPI description."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.integration.resource_api.surveys.builders import (
    BOTH,
    CAMPAIGN,
    answers_with,
    campaign_body,
    respond,
    results_of,
)


@pytest.mark.parametrize(
    "claims", [{"subscription_id": "globex"}, {"bridge_id": "Branch2"}], ids=["subscription", "bridge"]
)
def test_another_tenant_gets_404_and_keeps_its_own_campaigns(test_client, mint, crm, campaign, claims):
    response_url = respond(test_client, crm, answers_with()).headers["Location"]
    stranger = mint.headers(scope=BOTH, **claims)
    assert test_client.get(CAMPAIGN, headers=stranger).status_code == 404
    assert test_client.get(f"{CAMPAIGN}/results", headers=stranger).status_code == 404
    assert test_client.get(response_url, headers=stranger).status_code == 404
    assert respond(test_client, stranger, answers_with()).status_code == 404
    assert test_client.get("/v1/surveys/campaigns", headers=stranger).get_json() == []
    # The same GID is a campaign of its own for the other tenant, and ours is untouched.
    own = test_client.put(CAMPAIGN, json=campaign_body(description="Theirs"), headers=stranger)
    assert own.status_code == 201 and own.get_json()["responses"] == 0
    assert test_client.get(CAMPAIGN, headers=crm).get_json()["description"] == "Customer satisfaction Q2"
    assert results_of(test_client, crm)["responses"] == 1


@pytest.mark.parametrize(
    "url",
    [
        "/v1/surveys/campaigns/not-a-uuid",
        f"/v1/surveys/campaigns/{uuid.uuid4()}",
        f"/v1/surveys/campaigns/{uuid.uuid4()}/results",
        f"{CAMPAIGN}/responses/{uuid.uuid4().hex}",
        f"{CAMPAIGN}/responses/%00",
        f"{CAMPAIGN}/responses/{'x' * 300}",
        "/v1/surveys/campaigns/%00",
    ],
)
def test_unknown_ids_are_404_problems(test_client, crm, campaign, url):
    response = test_client.get(url, headers=crm)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_response_id_of_another_campaign_is_404(test_client, crm, campaign):
    other = str(uuid.uuid4())
    test_client.put(f"/v1/surveys/campaigns/{other}", json=campaign_body(), headers=crm)
    response_id = respond(test_client, crm, answers_with(), gid=other).get_json()["responseId"]
    assert test_client.get(f"{CAMPAIGN}/responses/{response_id}", headers=crm).status_code == 404


@pytest.mark.parametrize(
    ("scope", "method", "url", "body"),
    [
        ("attendance:write", "put", CAMPAIGN, campaign_body()),
        ("insights:write", "put", CAMPAIGN, campaign_body()),
        ("surveys:read", "put", CAMPAIGN, campaign_body()),
        ("surveys:read", "post", f"{CAMPAIGN}/responses", {"respondent": "c", "answers": answers_with()}),
        ("surveys:write", "get", CAMPAIGN, None),
        ("surveys:write", "get", "/v1/surveys/campaigns", None),
        ("surveys:write", "get", f"{CAMPAIGN}/results", None),
        ("attendance:write", "get", f"{CAMPAIGN}/results", None),
    ],
)
def test_scopes_are_enforced(test_client, mint, crm, campaign, scope, method, url, body):
    response = getattr(test_client, method)(url, json=body, headers=mint.headers(scope=scope))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert test_client.get(CAMPAIGN, headers=crm).get_json() == campaign


def test_write_and_read_keys_each_do_their_part(test_client, mint):
    writer, reader = mint.headers(scope="surveys:write"), mint.headers(scope="surveys:read")
    assert test_client.put(CAMPAIGN, json=campaign_body(), headers=writer).status_code == 201
    assert respond(test_client, writer, answers_with()).status_code == 201
    assert results_of(test_client, reader)["responses"] == 1


def test_credentials_are_checked_before_the_body(test_client):
    response = test_client.put(CAMPAIGN, json={"nonsense": True})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")


def test_openapi_describes_the_surveys_api(test_client):
    spec = test_client.get("/openapi.json").get_json()
    put = spec["paths"]["/v1/surveys/campaigns/{gid}"]["put"]
    assert put["tags"] == ["surveys"] and {"200", "201", "409", "422"} <= set(put["responses"])
    assert {"get"} <= set(spec["paths"]["/v1/surveys/campaigns/{gid}/results"])
    assert "post" in spec["paths"]["/v1/surveys/campaigns/{gid}/responses"]
    line = spec["components"]["schemas"]["SurveyLine"]
    assert line["properties"]["pType"]["enum"] == [0, 1, 2, 3, 4, 6, 7, 11, 12, 14, 15]
    assert "14 multiple choice" in line["properties"]["pType"]["description"]
    assert json.dumps(spec)  # serialisable as served
