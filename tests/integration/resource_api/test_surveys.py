"""The surveys API: campaigns shaped like ESPropertySets, validated responses, results, tenancy and scopes."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.integration.resource_api.tokens import TokenMint

GID = "6f1c1a52-7b0e-4f43-9d0e-3b8f5f0c2a11"
BOTH = "surveys:write surveys:read"
CAMPAIGN = f"/v1/surveys/campaigns/{GID}"
MAYBE = {"code": "maybe", "description": "Maybe", "value": "0.5", "orderPriority": 3}


@pytest.fixture
def mint(app) -> TokenMint:
    mint = TokenMint()
    mint.install(app)
    return mint


@pytest.fixture
def crm(mint) -> dict[str, str]:
    """The Entersoft CRM's surveys key: it creates campaigns, posts answers and reads results."""
    return mint.headers(scope=BOTH)


def _line(seq, code, p_type, mandatory=False, **extra):
    return {
        "seqNum": seq,
        "code": code,
        "description": f"Question {code}",
        "pType": p_type,
        "mandatory": mandatory,
        **extra,
    }


def _choices(*codes):
    return [{"code": code, "description": code.title()} for code in codes]


def _campaign(**changes):
    lines = [
        _line(10, "NAME", 0, True),
        _line(20, "VISITS", 1),
        _line(30, "SPEND", 2),
        _line(40, "SINCE", 3),
        _line(50, "SATISFIED", 4, True, choices=[*_choices("yes", "no"), MAYBE]),
        _line(60, "RECOMMEND", 6),
        _line(70, "LAST_VISIT", 7),
        _line(80, "OPEN_AT", 11),
        _line(90, "NOTES", 12, defaultValue=""),
        _line(100, "CHANNELS", 14, choices=_choices("shop", "web", "phone")),
        _line(110, "SCORE", 15),
    ]
    body = {
        "description": "Customer satisfaction Q2",
        "taskNotes": "Call after the visit",
        "propertySet": {"code": "CSAT", "description": "Satisfaction survey", "lines": lines},
    }
    body.update(changes)
    return body


def _answers(**changes):
    answers = {
        "NAME": "Αλέξης",
        "VISITS": 3,
        "SPEND": 12.5,
        "SINCE": "2024-02-29",
        "SATISFIED": "yes",
        "RECOMMEND": True,
        "LAST_VISIT": "2026-03-29T08:59:00+03:00",
        "OPEN_AT": "09:30",
        "NOTES": "Friendly staff",
        "CHANNELS": ["shop", "web"],
        "SCORE": 9,
    }
    answers.update(changes)
    return {key: value for key, value in answers.items() if value is not ...}


@pytest.fixture
def campaign(test_client, crm) -> dict:
    response = test_client.put(CAMPAIGN, json=_campaign(), headers=crm)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _respond(client, headers, answers, respondent="cust-1", gid=GID):
    return client.post(
        f"/v1/surveys/campaigns/{gid}/responses", json={"respondent": respondent, "answers": answers}, headers=headers
    )


def _results(client, headers):
    return client.get(f"{CAMPAIGN}/results", headers=headers).get_json()


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

    changed = _campaign(description="Customer satisfaction Q3", taskNotes=None)
    changed["propertySet"]["lines"] = changed["propertySet"]["lines"][:2]
    replaced = test_client.put(f"/v1/surveys/campaigns/{GID.upper()}", json=changed, headers=crm)
    assert replaced.status_code == 200
    body = replaced.get_json()
    assert body["description"] == "Customer satisfaction Q3" and body["taskNotes"] is None
    assert [line["code"] for line in body["propertySet"]["lines"]] == ["NAME", "VISITS"]
    assert body["createdAt"] == campaign["createdAt"] and body["gid"] == GID


def test_campaigns_are_listed_newest_first(test_client, crm, campaign):
    other = str(uuid.uuid4())
    test_client.put(f"/v1/surveys/campaigns/{other}", json=_campaign(description="Later"), headers=crm)
    _respond(test_client, crm, _answers())
    listed = test_client.get("/v1/surveys/campaigns", headers=crm).get_json()
    assert [(c["gid"], c["lineCount"], c["responses"]) for c in listed] == [(other, 11, 0), (GID, 11, 1)]
    assert [c["gid"] for c in test_client.get("/v1/surveys/campaigns?limit=1", headers=crm).get_json()] == [other]


def test_response_is_stored_and_read_back(test_client, crm, campaign):
    response = _respond(test_client, crm, _answers())
    assert response.status_code == 201
    response_id = response.get_json()["responseId"]
    assert response.headers["Location"].endswith(f"/v1/surveys/campaigns/{GID}/responses/{response_id}")
    stored = test_client.get(response.headers["Location"], headers=crm).get_json()
    assert stored["respondent"] == "cust-1" and stored["responseId"] == response_id
    assert stored["answers"] == {**_answers(), "LAST_VISIT": "2026-03-29T05:59:00+00:00", "OPEN_AT": "09:30:00"}


def test_only_mandatory_lines_are_needed(test_client, crm, campaign):
    response = _respond(test_client, crm, {"NAME": "x", "SATISFIED": "no", "VISITS": None, "CHANNELS": [], "NOTES": ""})
    assert response.status_code == 201
    stored = test_client.get(response.headers["Location"], headers=crm).get_json()
    assert stored["answers"] == {"NAME": "x", "SATISFIED": "no"}


def test_results_aggregate_every_line(test_client, crm, campaign):
    _respond(test_client, crm, _answers())
    _respond(
        test_client, crm, _answers(VISITS=1, SPEND=0.25, SATISFIED="no", RECOMMEND=False, CHANNELS=["web"], SCORE=4)
    )
    _respond(
        test_client,
        crm,
        _answers(VISITS=8, SPEND=..., SATISFIED="yes", RECOMMEND=..., CHANNELS=["phone", "web", "shop"], SCORE=...),
    )
    results = _results(test_client, crm)
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
    results = _results(test_client, crm)
    assert results["responses"] == 0
    lines = {line["code"]: line for line in results["lines"]}
    assert lines["VISITS"]["min"] is None and lines["VISITS"]["avg"] is None
    assert lines["SATISFIED"]["choices"] == {"yes": 0, "no": 0, "maybe": 0}


def _without(code):
    body = _campaign()
    body["propertySet"]["lines"] = [line for line in body["propertySet"]["lines"] if line["code"] != code]
    return body


def _retyped(code, p_type, **extra):
    body = _campaign()
    for line in body["propertySet"]["lines"]:
        if line["code"] == code:
            line.update(pType=p_type, **extra)
            line.pop("choices", None) if p_type not in (4, 14) else None
    return body


def _choices_of(code, *choices):
    body = _campaign()
    for line in body["propertySet"]["lines"]:
        if line["code"] == code:
            line["choices"] = _choices(*choices)
    return body


@pytest.mark.parametrize(
    ("replacement", "line"),
    [
        (_without("VISITS"), "VISITS"),
        (_retyped("VISITS", 2), "VISITS"),
        (_retyped("NAME", 12), "NAME"),
        (_choices_of("SATISFIED", "no", "maybe"), "SATISFIED"),
        (_choices_of("CHANNELS", "shop", "phone"), "CHANNELS"),
    ],
    ids=["line-removed", "type-changed", "text-to-long-text", "choice-removed", "multi-choice-removed"],
)
def test_replacement_that_would_orphan_answers_is_409(test_client, crm, campaign, replacement, line):
    _respond(test_client, crm, _answers(CHANNELS=["web"]))
    response = test_client.put(CAMPAIGN, json=replacement, headers=crm)
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert list(response.get_json()["lines"]) == [line]
    assert test_client.get(CAMPAIGN, headers=crm).get_json() == {**campaign, "responses": 1}


def test_replacement_may_drop_unanswered_lines_and_choices(test_client, crm, campaign):
    _respond(test_client, crm, _answers(SCORE=..., CHANNELS=["web"]))
    body = _choices_of("CHANNELS", "web", "email")
    body["propertySet"]["lines"] = [line for line in body["propertySet"]["lines"] if line["code"] != "SCORE"]
    body["propertySet"]["lines"].append(_line(200, "NEW", 1, True))
    body["propertySet"]["lines"][0]["description"] = "Your name"
    response = test_client.put(CAMPAIGN, json=body, headers=crm)
    assert response.status_code == 200, response.get_json()
    lines = {line["code"]: line for line in _results(test_client, crm)["lines"]}
    assert "SCORE" not in lines and lines["NEW"]["answered"] == 0
    assert lines["CHANNELS"]["choices"] == {"web": 1, "email": 0}
    assert lines["NAME"]["description"] == "Your name" and lines["NAME"]["answered"] == 1


def _bad_line(**changes):
    body = _campaign()
    body["propertySet"]["lines"][4].update(changes)
    return body


def _edited(edit):
    body = _campaign()
    edit(body)
    return body


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (_bad_line(pType=5), ["propertySet", "lines", "4", "pType"]),
        (_bad_line(pType="4"), ["propertySet", "lines", "4", "pType"]),
        (_bad_line(pType=4.0), ["propertySet", "lines", "4", "pType"]),
        (_bad_line(pType=True), ["propertySet", "lines", "4", "pType"]),
        (_bad_line(choices=None), ["propertySet", "lines", "4", "choices"]),
        (_bad_line(choices=[]), ["propertySet", "lines", "4", "choices"]),
        (_bad_line(pType=0), ["propertySet", "lines", "4", "choices"]),
        (_bad_line(choices=_choices("a", "a")), ["propertySet", "lines", "4", "choices", "1", "code"]),
        (_bad_line(choices=[{"code": "a"}]), ["propertySet", "lines", "4", "choices", "0", "description"]),
        (
            _bad_line(choices=[{"code": "a", "description": "A", "weight": 1}]),
            ["propertySet", "lines", "4", "choices", "0", "weight"],
        ),
        (_bad_line(code="NAME"), ["propertySet", "lines", "4", "code"]),
        (_bad_line(code=""), ["propertySet", "lines", "4", "code"]),
        (_bad_line(code="Q\x00"), ["propertySet", "lines", "4", "code"]),
        (_bad_line(description="\ud800"), ["propertySet", "lines", "4", "description"]),
        (
            _bad_line(choices=[{"code": "a", "description": "A\x00"}]),
            ["propertySet", "lines", "4", "choices", "0", "description"],
        ),
        (_bad_line(mandatory="yes"), ["propertySet", "lines", "4", "mandatory"]),
        (_bad_line(mandatory=1), ["propertySet", "lines", "4", "mandatory"]),
        (_bad_line(seqNum="10"), ["propertySet", "lines", "4", "seqNum"]),
        (_bad_line(seqNum=-1), ["propertySet", "lines", "4", "seqNum"]),
        (_bad_line(PArg=""), ["propertySet", "lines", "4", "PArg"]),
        (_edited(lambda b: b["propertySet"].update(lines=[])), ["propertySet", "lines"]),
        (_edited(lambda b: b["propertySet"].pop("code")), ["propertySet", "code"]),
        (_edited(lambda b: b.pop("propertySet")), ["propertySet"]),
        (_edited(lambda b: b.update(description="")), ["description"]),
        (_edited(lambda b: b.update(taskNotes="n" * 4001)), ["taskNotes"]),
        (_edited(lambda b: b.update(gid=str(uuid.uuid4()))), ["gid"]),
        (_edited(lambda b: b.update(subscription_id="globex")), ["subscription_id"]),
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
        (_answers(NAME=...), ["NAME"]),
        (_answers(NAME=None, SATISFIED=...), ["NAME", "SATISFIED"]),
        (_answers(NAME=""), ["NAME"]),
        (_answers(UNKNOWN="x"), ["UNKNOWN"]),
        (_answers(NAME=5), ["NAME"]),
        (_answers(VISITS="3"), ["VISITS"]),
        (_answers(VISITS=1.5), ["VISITS"]),
        (_answers(VISITS=True), ["VISITS"]),
        (_answers(VISITS=10**20), ["VISITS"]),
        (_answers(SPEND="12.5"), ["SPEND"]),
        (_answers(SPEND=False), ["SPEND"]),
        (_answers(SINCE="2024-02-30"), ["SINCE"]),
        (_answers(SINCE="29/02/2024"), ["SINCE"]),
        (_answers(SINCE="20240229"), ["SINCE"]),
        (_answers(SATISFIED="YES"), ["SATISFIED"]),
        (_answers(SATISFIED=["yes"]), ["SATISFIED"]),
        (_answers(RECOMMEND="true"), ["RECOMMEND"]),
        (_answers(RECOMMEND=1), ["RECOMMEND"]),
        (_answers(LAST_VISIT="2026-03-29T08:59:00"), ["LAST_VISIT"]),
        (_answers(LAST_VISIT="soon"), ["LAST_VISIT"]),
        (_answers(OPEN_AT="25:00"), ["OPEN_AT"]),
        (_answers(OPEN_AT="9:30"), ["OPEN_AT"]),
        (_answers(NOTES="n" * 10_001), ["NOTES"]),
        (_answers(NOTES="a\x00b"), ["NOTES"]),
        (_answers(NAME="\ud800"), ["NAME"]),
        (_answers(LAST_VISIT="0001-01-01T00:00:00+01:00"), ["LAST_VISIT"]),
        (_answers(SATISFIED="yes\x00"), ["SATISFIED"]),
        (_answers(NAME="n" * 2001), ["NAME"]),
        (_answers(CHANNELS="web"), ["CHANNELS"]),
        (_answers(CHANNELS=["web", "web"]), ["CHANNELS"]),
        (_answers(CHANNELS=["web", "fax"]), ["CHANNELS"]),
        (_answers(CHANNELS=[{"code": "web"}]), ["CHANNELS"]),
        (_answers(SCORE=11), ["SCORE"]),
        (_answers(SCORE=-1), ["SCORE"]),
        (_answers(SCORE=7.5), ["SCORE"]),
        (_answers(VISITS="x", SCORE=11, EXTRA=1), ["EXTRA", "SCORE", "VISITS"]),
    ],
)
def test_answers_that_do_not_fit_the_lines_are_422(test_client, crm, campaign, answers, codes):
    response = _respond(test_client, crm, answers)
    assert response.status_code == 422, response.get_json()
    assert sorted(response.get_json()["errors"]["answers"]) == codes
    assert _results(test_client, crm)["responses"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answers": _answers()}, "respondent"),
        ({"respondent": "", "answers": _answers()}, "respondent"),
        ({"respondent": 7, "answers": _answers()}, "respondent"),
        ({"respondent": "c\x00", "answers": _answers()}, "respondent"),
        ({"respondent": "c", "answers": {**_answers(), "\ud800": 1}}, "answers"),
        ({"respondent": "c"}, "answers"),
        ({"respondent": "c", "answers": ["NAME"]}, "answers"),
        ({"respondent": "c", "answers": {"": "x"}}, "answers"),
        ({"respondent": "c", "answers": _answers(), "campaign": GID}, "campaign"),
    ],
)
def test_malformed_responses_are_422(test_client, crm, campaign, body, field):
    response = test_client.post(f"{CAMPAIGN}/responses", json=body, headers=crm)
    assert response.status_code == 422 and field in response.get_json()["errors"]
    assert _results(test_client, crm)["responses"] == 0


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


@pytest.mark.parametrize(
    "claims", [{"subscription_id": "globex"}, {"bridge_id": "Branch2"}], ids=["subscription", "bridge"]
)
def test_another_tenant_gets_404_and_keeps_its_own_campaigns(test_client, mint, crm, campaign, claims):
    response_url = _respond(test_client, crm, _answers()).headers["Location"]
    stranger = mint.headers(scope=BOTH, **claims)
    assert test_client.get(CAMPAIGN, headers=stranger).status_code == 404
    assert test_client.get(f"{CAMPAIGN}/results", headers=stranger).status_code == 404
    assert test_client.get(response_url, headers=stranger).status_code == 404
    assert _respond(test_client, stranger, _answers()).status_code == 404
    assert test_client.get("/v1/surveys/campaigns", headers=stranger).get_json() == []
    # The same GID is a campaign of its own for the other tenant, and ours is untouched.
    own = test_client.put(CAMPAIGN, json=_campaign(description="Theirs"), headers=stranger)
    assert own.status_code == 201 and own.get_json()["responses"] == 0
    assert test_client.get(CAMPAIGN, headers=crm).get_json()["description"] == "Customer satisfaction Q2"
    assert _results(test_client, crm)["responses"] == 1


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
    test_client.put(f"/v1/surveys/campaigns/{other}", json=_campaign(), headers=crm)
    response_id = _respond(test_client, crm, _answers(), gid=other).get_json()["responseId"]
    assert test_client.get(f"{CAMPAIGN}/responses/{response_id}", headers=crm).status_code == 404


@pytest.mark.parametrize(
    ("scope", "method", "url", "body"),
    [
        ("attendance:write", "put", CAMPAIGN, _campaign()),
        ("insights:write", "put", CAMPAIGN, _campaign()),
        ("surveys:read", "put", CAMPAIGN, _campaign()),
        ("surveys:read", "post", f"{CAMPAIGN}/responses", {"respondent": "c", "answers": _answers()}),
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
    assert test_client.put(CAMPAIGN, json=_campaign(), headers=writer).status_code == 201
    assert _respond(test_client, writer, _answers()).status_code == 201
    assert _results(test_client, reader)["responses"] == 1


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
