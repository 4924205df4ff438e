"""shared.keys: JWK thumbprints, signing, and the JWKS cache's refresh rules."""

from __future__ import annotations

import time

import jwt
import pytest

from shared.keys import JWKSCache, UnknownKeyError, generate_private_key, public_jwk, sign_jwt


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _token(pem: str, kid: str, alg: str, **extra: object) -> str:
    now = int(time.time())
    claims = {"iss": "iss", "aud": "aud", "iat": now, "exp": now + 60, **extra}
    return sign_jwt(claims, private_pem=pem, kid=kid, alg=alg, typ="at+jwt")


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_kid_is_a_stable_thumbprint(alg):
    pem = generate_private_key(alg)
    assert public_jwk(pem, alg)["kid"] == public_jwk(pem, alg)["kid"]
    assert public_jwk(pem, alg)["kid"] != public_jwk(generate_private_key(alg), alg)["kid"]


def test_unsupported_algorithm_is_refused():
    with pytest.raises(ValueError, match="unsupported"):
        generate_private_key("HS256")


def test_cache_refetches_on_unknown_kid_but_not_more_than_once_per_interval():
    first, second = generate_private_key("ES256"), generate_private_key("ES256")
    published = [public_jwk(first, "ES256")]
    fetches = []

    def fetch():
        fetches.append(1)
        return {"keys": list(published)}

    clock = Clock()
    cache = JWKSCache(fetch, ttl=300, min_refresh_interval=5, clock=clock)
    kid1 = published[0]["kid"]
    assert cache.verify(_token(first, kid1, "ES256"), audience="aud", issuer="iss")
    published.append(public_jwk(second, "ES256"))
    kid2 = published[1]["kid"]
    with pytest.raises(UnknownKeyError):  # within the interval: no refetch
        cache.verify(_token(second, kid2, "ES256"), audience="aud", issuer="iss")
    clock.now += 6
    assert cache.verify(_token(second, kid2, "ES256"), audience="aud", issuer="iss")
    assert len(fetches) == 2


def test_cache_rejects_wrong_audience_issuer_and_type():
    pem = generate_private_key("ES256")
    jwk = public_jwk(pem, "ES256")
    cache = JWKSCache(lambda: {"keys": [jwk]})
    token = _token(pem, jwk["kid"], "ES256")
    with pytest.raises(jwt.InvalidAudienceError):
        cache.verify(token, audience="other", issuer="iss")
    with pytest.raises(jwt.InvalidIssuerError):
        cache.verify(token, audience="aud", issuer="other")
    with pytest.raises(jwt.InvalidTokenError, match="type"):
        cache.verify(token, audience="aud", issuer="iss", typ="id+jwt")
