"""Add Token → ERP sign-in → Allow / Deny → registered in EBS → click to show; who may allow (seeds 001, 002)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from authserver.audit.models import AuditEvent
from authserver.endpoint_tokens.keys import KEY_PATTERN, key_type
from authserver.endpoint_tokens.models import EndpointTokenRequest
from authserver.extensions import db
from shared.secrets import digest

from .conftest import CLERK, ESMASTER, PAYROLL, add_token, reveal, tokens


def _events(world, name: str) -> list[AuditEvent]:
    with world.app.app_context():
        found = list(db.session.execute(select(AuditEvent).where(AuditEvent.event == name)).scalars())
        db.session.expunge_all()
        db.session.remove()
        return found


@pytest.mark.parametrize(
    ("code", "credentials", "prefix"),
    [("time-attendance", PAYROLL, "cs_ta_"), ("app-insights", ESMASTER, "cs_ai_"), ("surveys", ESMASTER, "cs_sv_")],
)
def test_allow_creates_the_token_and_registers_it_in_ebs(ebs, code, credentials, prefix):
    outcome = add_token(ebs, code, title=f"demo Demo_002 {code}", credentials=credentials)
    assert "/signin/erp" in outcome.seen
    assert outcome.response.request.path == ebs.tab(code)
    assert "created and registered in EBS" in outcome.text
    [token] = tokens(ebs)
    assert (token.endpoint_type, token.bridge_id, token.status) == (code, "Demo_002", "ACTIVE")
    assert token.authorized_by == credentials["login"].split("/")[1]
    assert "Value is hidden, click to show" in outcome.text and token.title in outcome.text
    key = reveal(ebs, token, code)
    assert key.startswith(prefix) and re.fullmatch(KEY_PATTERN, key) and key_type(key) == code
    assert key not in outcome.response.get_data(as_text=True)  # hidden until clicked
    stored = ebs.simulator_params()
    assert stored[f"ESCloudStore.Endpoint.{code}"] == key
    assert stored["ESCloudStore.SubscriptionID"] == "demo" and stored["ESCloudStore.SubscriptionGID"]
    params = ebs.ebs_params()
    assert params["subscriptionId"] == "demo"
    assert params["subscriptionGid"]
    assert params["endpoints"][code]["digest"] == digest(key)
    assert len(_events(ebs, "endpoint_token.revealed")) >= 1


def test_the_consent_page_names_the_token(ebs):
    response = ebs.admin.client.post(
        ebs.tab("surveys"), data={"title": "CRM surveys", "bridge_id": "Demo_002", "endpoint_type": "surveys"}
    )
    from .conftest import drive

    outcome = drive(ebs, ebs.admin.client, response, decision="")
    assert outcome.seen[-1] == "/oauth/authorize"
    for words in ("CRM surveys", "surveys", "demo", "Demo_002", "Allow", "Deny"):
        assert words in outcome.text


def test_deny_creates_nothing_and_writes_nothing_to_ebs(ebs):
    outcome = add_token(ebs, "app-insights", decision="deny")
    assert outcome.response.request.path == ebs.tab("app-insights")
    assert "No endpoint token was created" in outcome.text and "Deny" in outcome.text
    assert tokens(ebs) == []
    assert "app-insights" not in ebs.ebs_params()["endpoints"]


@pytest.mark.parametrize(
    ("code", "credentials", "reason"),
    [
        ("app-insights", PAYROLL, "Only an ERP Administrator may authorize"),
        ("surveys", CLERK, "Only an ERP Administrator may authorize"),
        ("time-attendance", CLERK, "does not exist in Payroll"),
    ],
)
def test_users_who_may_not_allow_are_refused_clearly(ebs, code, credentials, reason):
    outcome = add_token(ebs, code, credentials=credentials)
    assert outcome.response.request.path == ebs.tab(code)
    assert reason in outcome.text
    assert "/oauth/authorize" not in outcome.seen[-1:]  # never shown Allow
    assert tokens(ebs) == []
    assert code not in ebs.ebs_params()["endpoints"]


def test_a_user_not_assigned_to_the_app_is_refused(ebs):
    with ebs.app.app_context():
        from authserver.users.models import SubscriptionUser

        clerk = db.session.execute(select(SubscriptionUser).where(SubscriptionUser.erp_user_id == "clerk")).scalar_one()
        clerk_id = clerk.id
        db.session.remove()
    ebs.admin.client.post(f"/subscriptions/demo/apps/time-attendance/users/{clerk_id}/remove")
    try:
        outcome = add_token(ebs, "time-attendance", credentials=CLERK)
        assert "no seat" in outcome.text.lower()
        assert tokens(ebs) == []
    finally:
        ebs.admin.client.post(f"/subscriptions/demo/apps/time-attendance/users/{clerk_id}/assign")


def test_ebs_down_during_registration_leaves_no_usable_key(ebs):
    response = ebs.admin.client.post(
        ebs.tab("surveys"), data={"title": "CRM", "bridge_id": "Demo_002", "endpoint_type": "surveys"}
    )
    from .conftest import drive

    at_consent = drive(ebs, ebs.admin.client, response, decision="")
    assert at_consent.seen[-1] == "/oauth/authorize"
    ebs.simulator.go_down()
    body = at_consent.response.get_data(as_text=True)
    import html as html_lib

    sub = re.search(r'name="sub" value="([^"]*)"', body).group(1)
    action = html_lib.unescape(re.search(r'<form class="form" method="post" action="([^"]+)"', body).group(1))
    outcome = drive(ebs, ebs.admin.client, ebs.admin.client.post(action, data={"decision": "allow", "sub": sub}))
    assert "No endpoint token was created" in outcome.text
    assert "EBS did not register" in outcome.text
    assert tokens(ebs) == []
    ebs.simulator.come_up()
    assert "surveys" not in ebs.ebs_params()["endpoints"]
    assert _events(ebs, "endpoint_token.registration_failed")


def test_only_one_live_token_per_type_and_bridge(ebs):
    add_token(ebs, "surveys", credentials=ESMASTER)
    response = ebs.admin.client.post(
        ebs.tab("surveys"), data={"title": "Second", "bridge_id": "Demo_002", "endpoint_type": "surveys"}
    )
    assert response.status_code == 422
    assert "rotate or revoke that one" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"title": ""}, "title of 1 to 200"),
        ({"bridge_id": "Other_009"}, "Choose one of the subscription"),
        ({"endpoint_type": "worklife-payroll"}, "active licence"),
        ({"endpoint_type": "nonsense"}, "active licence"),
    ],
)
def test_add_token_refuses_bad_input_next_to_the_field(ebs, form, message):
    data = {"title": "T", "bridge_id": "Demo_002", "endpoint_type": "time-attendance", **form}
    response = ebs.admin.client.post(ebs.tab("time-attendance"), data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_a_callback_replay_or_unknown_state_creates_nothing(ebs):
    add_token(ebs, "surveys", credentials=ESMASTER)
    with ebs.app.app_context():
        done = db.session.execute(select(EndpointTokenRequest)).scalar_one()
        assert done.outcome == "created"
        db.session.remove()
    response = ebs.admin.client.get("/integrations/callback?state=nothing&code=abc")
    assert response.status_code == 400
    assert len(tokens(ebs)) == 1
