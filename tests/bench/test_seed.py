"""The seeded endpoint tokens look like real ones to the lookup: unique digests, one live token per slot, and
live exactly when the product says a token works (a licensed app), so a seeded database is a realistic one."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select

from authserver import create_app
from authserver.endpoint_tokens.keys import new_key
from authserver.endpoint_tokens.lookup import key_state, live_until
from authserver.endpoint_tokens.models import ACTIVE, EndpointToken
from authserver.extensions import db
from authserver.store.catalogue.seed import seed_catalogue
from bench.stack.seed import seed_endpoint_tokens, seed_subscriptions
from shared.db import upgrade_db
from shared.service import encryptor

SUBSCRIPTIONS, TOKENS = 6, 40


def test_seeded_tokens_are_unique_and_live_exactly_where_licensed(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)  # the seed builds the auth server's app as the stack does
    app = create_app({"DATABASE_URL": database_url})
    with app.app_context():
        upgrade_db()
        seed_catalogue(session=db.session)
        db.session.commit()
        db.session.remove()
    pks = seed_subscriptions(SUBSCRIPTIONS)
    assert len(pks) == SUBSCRIPTIONS
    assert seed_endpoint_tokens(pks, TOKENS) == TOKENS
    with app.app_context():
        tokens = list(db.session.execute(select(EndpointToken)).scalars())
        assert len(tokens) == TOKENS and {t.subscription_pk for t in tokens} == set(pks)
        digests = [t.key_digest for t in tokens] + [t.previous_key_digest for t in tokens if t.previous_key_digest]
        assert len(set(digests)) == len(digests) > TOKENS
        assert all(len(d) == 64 and int(d, 16) >= 0 for d in digests)
        real = encryptor().encrypt(new_key("time-attendance"))
        assert {len(t.key_encrypted) for t in tokens} == {len(real)}
        live = Counter((t.subscription_pk, t.endpoint_type) for t in tokens if t.status == ACTIVE)
        expected = {(pk, "time-attendance") for pk in pks} | {(pk, "app-insights") for pk in pks[::2]}
        assert set(live) == expected and set(live.values()) == {1}
        now = datetime.now(UTC)
        for token in tokens:
            state = key_state(db.engine, token.id)
            assert state is not None
            works, _ = live_until(state, previous=False, now=now)
            assert works == (token.status == ACTIVE), token.id
        db.session.remove()
        db.engine.dispose()
