"""Campaigns, answers and bodies that do not fit: 4xx problems, and nothing changed."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.resource_api.surveys.builders import (
    CAMPAIGN,
    GID,
    answers_with,
    campaign_bad_line,
    campaign_edited,
    choice_list,
    respond,
    results_of,
)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (campaign_bad_line(pType=5), ["propertySet", "lines", "4", "pType"]),
        (campaign_bad_line(pType="4"), ["propertySet", "lines", "4", "pType"]),
        (campaign_bad_line(pType=4.0), ["propertySet", "lines", "4", "pType"]),
        (campaign_bad_line(pType=True), ["propertySet", "lines", "4", "pType"]),
        (campaign_bad_line(choices=None), ["propertySet", "lines", "4", "choices"]),
        (campaign_bad_line(choices=[]), ["propertySet", "lines", "4", "choices"]),
        (campaign_bad_line(pType=0), ["propertySet", "lines", "4", "choices"]),
        (campaign_bad_line(choices=choice_list("a", "a")), ["propertySet", "lines", "4", "choices", "1", "code"]),
        (campaign_bad_line(choices=[{"code": "a"}]), ["propertySet", "lines", "4", "choices", "0", "description"]),
        (
            campaign_bad_line(choices=[{"code": "a", "description": "A", "weight": 1}]),
            ["propertySet", "lines", "4", "choices", "0", "weight"],
        ),
        (campaign_bad_line(code="NAME"), ["propertySet", "lines", "4", "code"]),
        (campaign_bad_line(code=""), ["propertySet", "lines", "4", "code"]),
        (campaign_bad_line(code="Q\x00"), ["propertySet", "lines", "4", "code"]),
        (campaign_bad_line(description="\ud800"), ["propertySet", "lines", "4", "description"]),
        (
            campaign_bad_line(choices=[{"code": "a", "description": "A\x00"}]),
            ["propertySet", "lines", "4", "choices", "0", "description"],
        ),
        (campaign_bad_line(mandatory="yes"), ["propertySet", "lines", "4", "mandatory"]),
        (campaign_bad_line(mandatory=1), ["propertySet", "lines", "4", "mandatory"]),
        (campaign_bad_line(seqNum="10"), ["propertySet", "lines", "4", "seqNum"]),
        (campaign_bad_line(seqNum=-1), ["propertySet", "lines", "4", "seqNum"]),
        (campaign_bad_line(PArg=""), ["propertySet", "lines", "4", "PArg"]),
        (campaign_edited(lambda b: b["propertySet"].update(lines=[])), ["propertySet", "lines"]),
        (campaign_edited(lambda b: b["propertySet"].pop("code")), ["propertySet", "code"]),
        (campaign_edited(lambda b: b.pop("propertySet")), ["propertySet"]),
        (campaign_edited(lambda b: b.update(description="")), ["description"]),
        (campaign_edited(lambda b: b.update(taskNotes="n" * 4001)), ["taskNotes"]),
        (campaign_edited(lambda b: b.update(gid=str(uuid.uuid4()))), ["gid"]),
        (campaign_edited(lambda b: b.update(subscription_id="globex")), ["subscription_id"]),
    ],
)
def test_invalid_campaigns_are_422_and_change_nothing(test_client, crm, campaign, body, path):
    response = test_client.put(CAMPAIGN, json=body, headers=crm)
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    for step in path:
        errors = errors[step]
    assert test_client.get(CAMPAIGN, headers=crm).get_json() == campaign


@pytest.mark.parametrize(
    ("answers", "codes"),
    [
        (answers_with(NAME=...), ["NAME"]),
        (answers_with(NAME=None, SATISFIED=...), ["NAME", "SATISFIED"]),
        (answers_with(NAME=""), ["NAME"]),
        (answers_with(UNKNOWN="x"), ["UNKNOWN"]),
        (answers_with(NAME=5), ["NAME"]),
        (answers_with(VISITS="3"), ["VISITS"]),
        (answers_with(VISITS=1.5), ["VISITS"]),
        (answers_with(VISITS=True), ["VISITS"]),
        (answers_with(VISITS=10**20), ["VISITS"]),
        (answers_with(SPEND="12.5"), ["SPEND"]),
        (answers_with(SPEND=False), ["SPEND"]),
        (answers_with(SINCE="2024-02-30"), ["SINCE"]),
        (answers_with(SINCE="29/02/2024"), ["SINCE"]),
        (answers_with(SINCE="20240229"), ["SINCE"]),
        (answers_with(SATISFIED="YES"), ["SATISFIED"]),
        (answers_with(SATISFIED=["yes"]), ["SATISFIED"]),
        (answers_with(RECOMMEND="true"), ["RECOMMEND"]),
        (answers_with(RECOMMEND=1), ["RECOMMEND"]),
        (answers_with(LAST_VISIT="2026-03-29T08:59:00"), ["LAST_VISIT"]),
        (answers_with(LAST_VISIT="soon"), ["LAST_VISIT"]),
        (answers_with(OPEN_AT="25:00"), ["OPEN_AT"]),
        (answers_with(OPEN_AT="9:30"), ["OPEN_AT"]),
        (answers_with(NOTES="n" * 10_001), ["NOTES"]),
        (answers_with(NOTES="a\x00b"), ["NOTES"]),
        (answers_with(NAME="\ud800"), ["NAME"]),
        (answers_with(LAST_VISIT="0001-01-01T00:00:00+01:00"), ["LAST_VISIT"]),
        (answers_with(SATISFIED="yes\x00"), ["SATISFIED"]),
        (answers_with(NAME="n" * 2001), ["NAME"]),
        (answers_with(CHANNELS="web"), ["CHANNELS"]),
        (answers_with(CHANNELS=["web", "web"]), ["CHANNELS"]),
        (answers_with(CHANNELS=["web", "fax"]), ["CHANNELS"]),
        (answers_with(CHANNELS=[{"code": "web"}]), ["CHANNELS"]),
        (answers_with(SCORE=11), ["SCORE"]),
        (answers_with(SCORE=-1), ["SCORE"]),
        (answers_with(SCORE=7.5), ["SCORE"]),
        (answers_with(VISITS="x", SCORE=11, EXTRA=1), ["EXTRA", "SCORE", "VISITS"]),
    ],
)
def test_answers_that_do_not_fit_the_lines_are_422(test_client, crm, campaign, answers, codes):
    response = respond(test_client, crm, answers)
    assert response.status_code == 422, response.get_json()
    assert sorted(response.get_json()["errors"]["answers"]) == codes
    assert results_of(test_client, crm)["responses"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answers": answers_with()}, "respondent"),
        ({"respondent": "", "answers": answers_with()}, "respondent"),
        ({"respondent": 7, "answers": answers_with()}, "respondent"),
        ({"respondent": "c\x00", "answers": answers_with()}, "respondent"),
        ({"respondent": "c", "answers": {**answers_with(), "\ud800": 1}}, "answers"),
        ({"respondent": "c"}, "answers"),
        ({"respondent": "c", "answers": ["NAME"]}, "answers"),
        ({"respondent": "c", "answers": {"": "x"}}, "answers"),
        ({"respondent": "c", "answers": answers_with(), "campaign": GID}, "campaign"),
    ],
)
def test_malformed_responses_are_422(test_client, crm, campaign, body, field):
    response = test_client.post(f"{CAMPAIGN}/responses", json=body, headers=crm)
    assert response.status_code == 422 and field in response.get_json()["errors"]
    assert results_of(test_client, crm)["responses"] == 0


@pytest.mark.parametrize(
    ("method", "data"),
    [
        ("put", b"{not json"),
        ("put", b'{"description": "\xff"}'),
        ("put", b"[" * 100_000),
        ("put", b'{"propertySet": {"lines": [{"seqNum": 1' + b"0" * 5000 + b"}]}}"),
        ("put", b"[]"),
        ("post", b"{not json"),
        ("post", b'{"respondent": "\xc3\x28", "answers": {}}'),
        ("post", b'{"respondent": "c", "answers": {"VISITS": 1' + b"0" * 5000 + b"}}"),
        ("post", b'{"respondent": "c", "answers": {"CHANNELS": ' + b"[" * 100_000 + b"}}"),
    ],
)
def test_malformed_bodies_are_4xx_problems(test_client, crm, campaign, method, data):
    url = CAMPAIGN if method == "put" else f"{CAMPAIGN}/responses"
    response = getattr(test_client, method)(url, data=data, content_type="application/json", headers=crm)
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/problem+json"
    assert test_client.get(CAMPAIGN, headers=crm).get_json() == campaign


def test_oversized_body_is_refused(test_client, crm):
    response = test_client.put(CAMPAIGN, data=b"x" * 3_000_000, content_type="application/json", headers=crm)
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
