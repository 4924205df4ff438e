"""Storage stays bounded: expired grants (with their codes and refresh tokens), revoked-token records and
consents are deleted, by the token endpoint now and then and by `flask oauth purge`."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import func, select, update

from authserver.consent.models import RememberedConsent
from authserver.extensions import db
from authserver.oauth2.models import AuthorizationCode, RefreshToken, UserGrant
from authserver.oauth2.purge import purge_expired

from .conftest import drive, sign_in_and_get_tokens, start


def _count(model) -> int:
    db.session.rollback()  # see what the server threads committed
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _age_everything(days: int) -> None:
    past = datetime.now(UTC) - timedelta(days=days)
    db.session.execute(update(UserGrant).values(expires_at=past))
    db.session.execute(update(RememberedConsent).values(expires_at=past))
    db.session.commit()


def test_purge_deletes_expired_rows_and_keeps_live_ones(live, browser, oidc_client, make_client):
    drive(live, browser, start(live, oidc_client).url, remember=True)
    sign_in_and_get_tokens(live, browser, oidc_client)
    assert _count(UserGrant) == 2 and _count(AuthorizationCode) == 2 and _count(RefreshToken) == 1
    assert _count(RememberedConsent) == 1

    counts = purge_expired(session=db.session)
    assert counts.grants == 0 and counts.consents == 0  # nothing has expired yet
    assert _count(UserGrant) == 2

    _age_everything(days=1)
    counts = purge_expired(session=db.session)
    assert counts.grants == 2 and counts.consents == 1
    assert _count(UserGrant) == _count(AuthorizationCode) == _count(RefreshToken) == _count(RememberedConsent) == 0


def test_consents_of_deleted_clients_are_purged(live, browser, oidc_client, app):
    from authserver.clients.service import delete_client

    drive(live, browser, start(live, oidc_client).url, remember=True)
    delete_client(session=db.session, client_id=oidc_client.client.client_id, cache=None)
    assert purge_expired(session=db.session).consents == 1


def test_unredeemed_codes_go_soon_after_they_expire(live, browser, oidc_client):
    drive(live, browser, start(live, oidc_client).url)  # a code nobody redeems
    grant = db.session.execute(select(UserGrant)).scalar_one()
    code = db.session.execute(select(AuthorizationCode)).scalar_one()
    assert grant.expires_at == code.expires_at  # the grant lives only as long as its code until it issues tokens
    assert purge_expired(session=db.session, now=datetime.now(UTC) + timedelta(seconds=61)).grants == 1


def _client_credentials(live, oidc_client) -> requests.Response:
    """A token request that counts for the purge (refused: this client has no client-credentials grant)."""
    return requests.post(
        f"{live.base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(oidc_client.client.client_id, oidc_client.client_secret),
        timeout=10,
    )


@pytest.mark.parametrize("overrides", [{"OAUTH_PURGE_SECONDS": 0.2}])
def test_the_token_endpoint_purges_now_and_then(live, browser, oidc_client, overrides):
    sign_in_and_get_tokens(live, browser, oidc_client)
    _age_everything(days=1)
    assert _count(UserGrant) == 1
    time.sleep(0.3)  # since the sign-in's own token request purged
    response = _client_credentials(live, oidc_client)
    assert response.status_code == 400  # not a client-credentials client; the request still counts
    assert _count(UserGrant) == 0


@pytest.mark.parametrize("overrides", [{"OAUTH_PURGE_SECONDS": 3600}])
def test_a_worker_purges_at_most_once_an_interval(live, browser, oidc_client, overrides):
    sign_in_and_get_tokens(live, browser, oidc_client)  # its token request purged, with nothing to delete yet
    _age_everything(days=1)
    response = _client_credentials(live, oidc_client)
    assert response.status_code == 400
    assert _count(UserGrant) == 1  # left for the next purge, an hour on


def test_purge_command(app, live, browser, oidc_client):
    sign_in_and_get_tokens(live, browser, oidc_client)
    _age_everything(days=1)
    result = app.test_cli_runner().invoke(args=["oauth", "purge"])
    assert result.exit_code == 0, result.output
    assert "purged 1 grant(s) with their codes and refresh tokens" in result.output
