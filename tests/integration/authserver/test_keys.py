"""The key set: generated on first use, encrypted at rest, published, rotated with a grace period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import select

from authserver.extensions import db
from authserver.keys import service
from authserver.keys.models import SigningKey
from shared.keys import JWKSCache, UnknownKeyError, sign_jwt
from shared.service import encryptor

ALGS = ("ES256", "RS256")


def _sign(key: service.ActiveKey, **claims: object) -> str:
    now = datetime.now(UTC)
    base = {"iss": "https://auth.example.test", "aud": "svc", "iat": now, "exp": now + timedelta(minutes=5)}
    return sign_jwt({**base, **claims}, private_pem=key.private_pem, kid=key.kid, alg=key.alg, typ="at+jwt")


def test_first_request_creates_one_key_per_algorithm(test_client):
    body = test_client.get("/.well-known/jwks.json").get_json()
    assert sorted(jwk["alg"] for jwk in body["keys"]) == ["ES256", "RS256"]
    for jwk in body["keys"]:
        assert jwk["use"] == "sig" and jwk["kid"]
        assert "d" not in jwk and "p" not in jwk, "private members must never be published"


def test_private_keys_are_encrypted_at_rest(app, test_client):
    test_client.get("/.well-known/jwks.json")
    for key in db.session.execute(select(SigningKey)).scalars():
        assert "PRIVATE KEY" not in key.private_key_encrypted
        assert "PRIVATE KEY" in encryptor().decrypt(key.private_key_encrypted)


@pytest.mark.parametrize("alg", ALGS)
def test_token_signed_by_active_key_verifies_against_published_set(app, test_client, alg):
    key = service.active_key(session=db.session, encryptor=encryptor(), alg=alg)
    cache = JWKSCache(lambda: test_client.get("/.well-known/jwks.json").get_json())
    claims = cache.verify(_sign(key, sub="x"), audience="svc", issuer="https://auth.example.test", typ="at+jwt")
    assert claims["sub"] == "x"


def test_rotation_keeps_old_key_published_until_its_tokens_expire(app, test_client):
    old = service.active_key(session=db.session, encryptor=encryptor(), alg="ES256")
    token = _sign(old)
    new_ids = service.rotate_keys(session=db.session, encryptor=encryptor(), algs=("ES256",))
    new = service.active_key(session=db.session, encryptor=encryptor(), alg="ES256")
    assert new.kid in new_ids and new.kid != old.kid

    published = {jwk["kid"] for jwk in test_client.get("/.well-known/jwks.json").get_json()["keys"]}
    assert {old.kid, new.kid} <= published
    cache = JWKSCache(lambda: test_client.get("/.well-known/jwks.json").get_json())
    assert cache.verify(token, audience="svc", issuer="https://auth.example.test")

    # Once every token the old key could have signed has expired, it is withdrawn and purged.
    retired = db.session.get(SigningKey, old.kid)
    retired.retired_at = datetime.now(UTC) - timedelta(seconds=app.config["MAX_TOKEN_LIFETIME"] + 1)
    db.session.commit()
    published = {jwk["kid"] for jwk in test_client.get("/.well-known/jwks.json").get_json()["keys"]}
    assert old.kid not in published and new.kid in published
    assert service.purge_expired_keys(session=db.session, max_token_lifetime=app.config["MAX_TOKEN_LIFETIME"]) == 1


def test_token_with_unknown_kid_is_refused(app, test_client):
    key = service.active_key(session=db.session, encryptor=encryptor(), alg="ES256")
    forged = service.ActiveKey(kid="not-a-published-kid", alg="ES256", private_pem=key.private_pem)
    cache = JWKSCache(lambda: test_client.get("/.well-known/jwks.json").get_json(), min_refresh_interval=0)
    with pytest.raises(UnknownKeyError):
        cache.verify(_sign(forged), audience="svc", issuer="https://auth.example.test")


def test_token_from_a_foreign_key_is_refused(app, test_client):
    from shared.keys import generate_private_key, public_jwk

    pem = generate_private_key("ES256")
    key = service.ActiveKey(
        kid=service.active_key(session=db.session, encryptor=encryptor(), alg="ES256").kid, alg="ES256", private_pem=pem
    )
    assert public_jwk(pem, "ES256")["kid"] != key.kid
    cache = JWKSCache(lambda: test_client.get("/.well-known/jwks.json").get_json())
    with pytest.raises(jwt.InvalidSignatureError):
        cache.verify(_sign(key), audience="svc", issuer="https://auth.example.test")
