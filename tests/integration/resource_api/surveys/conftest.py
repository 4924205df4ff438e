"""A CRM key with both surveys scopes, and a campaign it created."""

from __future__ import annotations

import pytest

from tests.integration.resource_api.surveys.builders import BOTH, CAMPAIGN, campaign_body


@pytest.fixture
def crm(mint) -> dict[str, str]:
    """The Entersoft CRM's surveys key: it creates campaigns, posts answers and reads results."""
    return mint.headers(scope=BOTH)


@pytest.fixture
def campaign(test_client, crm) -> dict:
    response = test_client.put(CAMPAIGN, json=campaign_body(), headers=crm)
    assert response.status_code == 201, response.get_json()
    return response.get_json()
