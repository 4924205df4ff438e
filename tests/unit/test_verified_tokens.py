"""The cache of verified tokens: it answers only the very token that passed, only until `exp`, and a
token whose key has left the key set stops verifying as it did without the cache."""

from __future__ import annotations

import time

import jwt
import pytest

from shared.keys import JWKSCache, UnknownKeyError, VerifiedTokenCache, generate_private_key, public_jwk, sign_jwt


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_entries_are_copies_that_end_at_exp_and_the_size_is_bounded():
    clock = Clock()
    cache = VerifiedTokenCache(maxsize=2, clock=clock)
    cache.put("a", "kid-1", {"sub": "x", "exp": 1_010})
    seen = cache.get("a")
    assert seen == ("kid-1", {"sub": "x", "exp": 1_010})
    seen[1]["sub"] = "changed by a caller"
    assert cache.get("a") == ("kid-1", {"sub": "x", "exp": 1_010})
    assert cache.get("b") is None

    cache.put("no-exp", "kid-1", {"sub": "x"})
    assert cache.get("no-exp") is None, "a token without a numeric exp is never kept"

    cache.put("b", "kid-1", {"exp": 1_020})
    cache.put("c", "kid-1", {"exp": 1_020})
    assert sum(cache.get(key) is not None for key in "abc") == 2

    clock.now = 1_020.0
    assert cache.get("b") is None and cache.get("c") is None, "gone once exp is reached"


def _keys():
    pem = generate_private_key("ES256")
    jwk = public_jwk(pem, "ES256")
    return pem, jwk


def _token(pem: str, kid: str, **claims) -> str:
    now = int(time.time())
    body = {"iss": "iss", "aud": "aud", "sub": "s", "iat": now, "exp": now + 60, **claims}
    return sign_jwt(body, private_pem=pem, kid=kid, alg="ES256", typ="at+jwt")


def test_a_seen_token_is_still_checked_for_audience_issuer_type_and_its_key():
    pem, jwk = _keys()
    key_set = {"keys": [jwk]}
    clock = Clock()
    cache = JWKSCache(lambda: key_set, ttl=300, min_refresh_interval=5, clock=clock)
    token = _token(pem, jwk["kid"])
    first = cache.verify(token, audience="aud", issuer="iss", typ="at+jwt")
    assert cache.verify(token, audience="aud", issuer="iss", typ="at+jwt") == first
    with pytest.raises(jwt.InvalidAudienceError):
        cache.verify(token, audience="other", issuer="iss", typ="at+jwt")
    with pytest.raises(jwt.InvalidIssuerError):
        cache.verify(token, audience="aud", issuer="other", typ="at+jwt")
    with pytest.raises(jwt.InvalidTokenError):
        cache.verify(token, audience="aud", issuer="iss", typ="id+jwt")

    key_set["keys"] = []  # the key is withdrawn; the next refresh of the key set no longer has it
    clock.now += 301
    with pytest.raises(UnknownKeyError):
        cache.verify(token, audience="aud", issuer="iss", typ="at+jwt")


def test_a_tampered_copy_of_a_seen_token_is_refused():
    pem, jwk = _keys()
    cache = JWKSCache(lambda: {"keys": [jwk]})
    token = _token(pem, jwk["kid"])
    cache.verify(token, audience="aud", issuer="iss")
    header, payload, signature = token.split(".")
    forged = jwt.utils.base64url_encode(b'{"iss":"iss","aud":"aud","sub":"admin","iat":1,"exp":9999999999}').decode()
    with pytest.raises(jwt.InvalidSignatureError):
        cache.verify(f"{header}.{forged}.{signature}", audience="aud", issuer="iss")
