"""Using a key: bearer on the resource API, client credentials at the token endpoint, its fixed scope;
revoke (reaching the resource API within 5 s), rotate with a grace period, licence expiry."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import select

from authserver.endpoint_tokens.keys import new_key
from authserver.endpoint_tokens.oauth import KEY_STATES
from authserver.extensions import db
from authserver.store.models import App, Licence

from .conftest import ESMASTER, GRACE, PAYROLL, add_token, api_call, reveal, tokens

SURVEYS = "/v1/surveys/campaigns"
INSIGHTS = "/v1/insights/summary"


def _introspect(world, key: str) -> dict:
    """RFC 7662 over HTTP, as the resource API asks (its internal client, `token_type_hint=api_key`)."""
    response = requests.post(
        f"{world.auth_url}/oauth/introspect",
        data={"token": key, "token_type_hint": "api_key"},
        auth=world.introspector,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def _created(world, code: str, credentials=ESMASTER):
    add_token(world, code, title=f"demo {code}", credentials=credentials)
    [token] = [t for t in tokens(world) if t.endpoint_type == code]
    return token, reveal(world, token)


def _forget_cached_state(world) -> None:
    """A change written straight to the database reaches the workers' caches only when they expire
    (CLIENT_CACHE_SECONDS, ENDPOINT_TOKEN_CACHE_SECONDS); the tests do not wait for that."""
    world.app.extensions["oauth2"].clients.clear()
    world.app.extensions[KEY_STATES].clear()


def _wait_for(status: int, call, timeout: float = 5.0) -> float:
    start = time.monotonic()
    while True:
        response = call()
        if response.status_code == status:
            return time.monotonic() - start
        assert time.monotonic() - start < timeout, f"still {response.status_code} after {timeout}s"
        time.sleep(0.25)


def test_a_key_works_as_bearer_with_the_scope_of_its_type_only(ebs):
    _, survey_key = _created(ebs, "surveys")
    _, clock_key = _created(ebs, "time-attendance", PAYROLL)
    assert api_call(ebs, survey_key, "GET", SURVEYS).status_code == 200
    refused = api_call(ebs, clock_key, "GET", INSIGHTS)
    assert refused.status_code == 403
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    assert api_call(ebs, clock_key[:-1] + ("A" if clock_key[-1] != "A" else "B"), "GET", SURVEYS).status_code == 401
    assert api_call(ebs, new_key("surveys"), "GET", SURVEYS).status_code == 401  # well-formed, unknown


def test_introspection_answers_scope_and_tenant_claims(ebs):
    token, key = _created(ebs, "app-insights")
    answer = _introspect(ebs, key)
    assert answer["active"] is True
    assert answer["token_type"] == "api_key"
    assert answer["client_id"] == token.id
    assert answer["scope"] == "insights:write"
    assert (answer["subscription_id"], answer["bridge_id"], answer["app"]) == ("demo", "Demo_002", "app-insights")
    assert answer["subscription_gid"]
    assert answer["exp"] > time.time() + 300 * 86400  # the licence's end
    assert _introspect(ebs, "cs_ai_garbage")["active"] is False


def test_client_credentials_with_the_key_give_a_short_lived_jwt_of_its_scope(ebs):
    token, key = _created(ebs, "surveys")
    response = requests.post(
        f"{ebs.auth_url}/oauth/token", data={"grant_type": "client_credentials"}, auth=(token.id, key), timeout=10
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == "surveys:read surveys:write" and body["expires_in"] <= 3600
    assert api_call(ebs, body["access_token"], "GET", SURVEYS).status_code == 200
    wider = requests.post(
        f"{ebs.auth_url}/oauth/token",
        data={"grant_type": "client_credentials", "scope": "attendance:write"},
        auth=(token.id, key),
        timeout=10,
    )
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    wrong = requests.post(
        f"{ebs.auth_url}/oauth/token", data={"grant_type": "client_credentials"}, auth=(token.id, "x" * 55), timeout=10
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"


def test_revoke_stops_the_key_at_the_resource_api_within_5_seconds_and_removes_it_from_ebs(ebs):
    token, key = _created(ebs, "surveys")
    assert api_call(ebs, key, "GET", SURVEYS).status_code == 200  # now cached by the resource API
    response = ebs.admin.client.post(f"{ebs.tab('surveys')}/{token.id}/revoke")
    assert response.status_code == 302
    assert "surveys" not in ebs.ebs_params()["endpoints"]
    elapsed = _wait_for(401, lambda: api_call(ebs, key, "GET", SURVEYS))
    assert elapsed < 5.0
    refused = requests.post(
        f"{ebs.auth_url}/oauth/token", data={"grant_type": "client_credentials"}, auth=(token.id, key), timeout=10
    )
    assert refused.status_code == 401
    assert _introspect(ebs, key)["active"] is False


def test_revoke_with_ebs_down_still_stops_the_key_and_says_so(ebs):
    token, key = _created(ebs, "surveys")
    ebs.simulator.go_down()
    response = ebs.admin.client.post(f"{ebs.tab('surveys')}/{token.id}/revoke", follow_redirects=True)
    assert "could not be removed" in response.get_data(as_text=True)
    assert _introspect(ebs, key)["active"] is False


def test_rotate_registers_a_new_key_and_the_old_one_works_for_the_grace_period(ebs):
    token, old = _created(ebs, "surveys")
    response = ebs.admin.client.post(f"{ebs.tab('surveys')}/{token.id}/rotate", follow_redirects=True)
    assert "has a new key" in response.get_data(as_text=True)
    [rotated] = tokens(ebs)
    new = reveal(ebs, rotated)
    assert new != old
    from shared.secrets import digest

    assert ebs.ebs_params()["endpoints"]["surveys"]["digest"] == digest(new)
    assert _introspect(ebs, old)["active"] is True
    assert _introspect(ebs, old)["exp"] <= time.time() + GRACE + 1
    assert api_call(ebs, new, "GET", SURVEYS).status_code == 200
    time.sleep(GRACE + 0.5)
    assert _introspect(ebs, old)["active"] is False
    assert _introspect(ebs, new)["active"] is True


def test_rotate_with_ebs_down_changes_nothing(ebs):
    token, key = _created(ebs, "surveys")
    ebs.simulator.go_down()
    response = ebs.admin.client.post(f"{ebs.tab('surveys')}/{token.id}/rotate", follow_redirects=True)
    assert "The key was not rotated" in response.get_data(as_text=True)
    ebs.simulator.come_up()
    assert reveal(ebs, token) == key and _introspect(ebs, key)["active"] is True


def test_a_key_stops_when_its_licence_expires(ebs):
    token, key = _created(ebs, "app-insights")
    with ebs.app.app_context():
        app_id = db.session.execute(select(App.id).where(App.code == "app-insights")).scalar_one()
        licence = db.session.execute(select(Licence).where(Licence.app_id == app_id)).scalar_one()
        ends = licence.ends_at
        licence.ends_at = datetime.now(UTC) - timedelta(minutes=1)
        db.session.commit()
        db.session.remove()
    _forget_cached_state(ebs)
    try:
        assert _introspect(ebs, key)["active"] is False
        refused = requests.post(
            f"{ebs.auth_url}/oauth/token", data={"grant_type": "client_credentials"}, auth=(token.id, key), timeout=10
        )
        assert refused.status_code == 401
    finally:
        with ebs.app.app_context():
            licence = db.session.execute(select(Licence).where(Licence.app_id == app_id)).scalar_one()
            licence.ends_at = ends
            db.session.commit()
            db.session.remove()
    _forget_cached_state(ebs)
    assert _introspect(ebs, key)["active"] is True


def test_last_used_is_written_at_most_once_a_minute(ebs):
    token, key = _created(ebs, "surveys")
    assert token.last_used_at is None
    assert _introspect(ebs, key)["active"] is True
    [first] = tokens(ebs)
    assert first.last_used_at is not None
    for _ in range(3):
        assert api_call(ebs, key, "GET", SURVEYS).status_code == 200
        assert _introspect(ebs, key)["active"] is True
    [again] = tokens(ebs)
    assert again.last_used_at == first.last_used_at


def test_a_use_after_the_minute_is_recorded_again(ebs):
    token, key = _created(ebs, "surveys")
    assert _introspect(ebs, key)["active"] is True
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    with ebs.app.app_context():
        db.session.get(type(token), token.id).last_used_at = long_ago
        db.session.commit()
        db.session.remove()
    _forget_cached_state(ebs)
    assert _introspect(ebs, key)["active"] is True
    [again] = [t for t in tokens(ebs) if t.id == token.id]
    assert again.last_used_at.replace(tzinfo=UTC) > long_ago + timedelta(minutes=4)
