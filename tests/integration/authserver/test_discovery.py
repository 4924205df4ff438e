"""Discovery documents: OIDC Discovery 1.0 and RFC 8414, with every advertised URL answering."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

DOCUMENTS = ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]


@pytest.mark.parametrize("path", DOCUMENTS)
def test_document_names_the_configured_issuer(test_client, path):
    body = test_client.get(path).get_json()
    assert body["issuer"] == "https://auth.example.test"
    assert body["jwks_uri"] == "https://auth.example.test/.well-known/jwks.json"
    assert "code" in body["response_types_supported"]
    assert body["code_challenge_methods_supported"] == ["S256"]


@pytest.mark.parametrize("path", DOCUMENTS)
def test_every_advertised_url_answers(test_client, path):
    body = test_client.get(path).get_json()
    urls = [value for key, value in body.items() if key.endswith(("_endpoint", "_uri"))]
    assert urls
    for url in urls:
        parts = urlsplit(url)
        assert parts.scheme == "https" and parts.netloc == "auth.example.test"
        assert test_client.get(parts.path).status_code != 404, url
