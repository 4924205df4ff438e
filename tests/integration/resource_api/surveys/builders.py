"""What the surveys tests send: a campaign shaped like an ESPropertySet, its variants, answers that fit it."""

from __future__ import annotations

GID = "6f1c1a52-7b0e-4f43-9d0e-3b8f5f0c2a11"
BOTH = "surveys:write surveys:read"
CAMPAIGN = f"/v1/surveys/campaigns/{GID}"
MAYBE = {"code": "maybe", "description": "Maybe", "value": "0.5", "orderPriority": 3}


def survey_line(seq, code, p_type, mandatory=False, **extra):
    return {
        "seqNum": seq,
        "code": code,
        "description": f"Question {code}",
        "pType": p_type,
        "mandatory": mandatory,
        **extra,
    }


def choice_list(*codes):
    return [{"code": code, "description": code.title()} for code in codes]


def campaign_body(**changes):
    lines = [
        survey_line(10, "NAME", 0, True),
        survey_line(20, "VISITS", 1),
        survey_line(30, "SPEND", 2),
        survey_line(40, "SINCE", 3),
        survey_line(50, "SATISFIED", 4, True, choices=[*choice_list("yes", "no"), MAYBE]),
        survey_line(60, "RECOMMEND", 6),
        survey_line(70, "LAST_VISIT", 7),
        survey_line(80, "OPEN_AT", 11),
        survey_line(90, "NOTES", 12, defaultValue=""),
        survey_line(100, "CHANNELS", 14, choices=choice_list("shop", "web", "phone")),
        survey_line(110, "SCORE", 15),
    ]
    body = {
        "description": "Customer satisfaction Q2",
        "taskNotes": "Call after the visit",
        "propertySet": {"code": "CSAT", "description": "Satisfaction survey", "lines": lines},
    }
    body.update(changes)
    return body


def answers_with(**changes):
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


def respond(client, headers, answers, respondent="cust-1", gid=GID):
    return client.post(
        f"/v1/surveys/campaigns/{gid}/responses", json={"respondent": respondent, "answers": answers}, headers=headers
    )


def results_of(client, headers):
    return client.get(f"{CAMPAIGN}/results", headers=headers).get_json()


def campaign_without(code):
    body = campaign_body()
    body["propertySet"]["lines"] = [line for line in body["propertySet"]["lines"] if line["code"] != code]
    return body


def campaign_retyped(code, p_type, **extra):
    body = campaign_body()
    for line in body["propertySet"]["lines"]:
        if line["code"] == code:
            line.update(pType=p_type, **extra)
            line.pop("choices", None) if p_type not in (4, 14) else None
    return body


def campaign_with_choices(code, *choices):
    body = campaign_body()
    for line in body["propertySet"]["lines"]:
        if line["code"] == code:
            line["choices"] = choice_list(*choices)
    return body


def campaign_bad_line(**changes):
    body = campaign_body()
    body["propertySet"]["lines"][4].update(changes)
    return body


def campaign_edited(edit):
    body = campaign_body()
    edit(body)
    return body
