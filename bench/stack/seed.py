"""Run inside the stack's environment (`python -m bench.stack.seed`): bulk data for the seeded table.

Rows go in with one multi-row INSERT per chunk (SQLAlchemy Core), never the ORM one object at a time: the
point is a large database, not a benchmark of seeding. Each subscription gets an owner, a bridge and a
tenant OAuth client, the way a customer's data looks. Endpoint tokens (API keys) are to be seeded the same
way once they are wired into introspection; until then this says so.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from cloudstore.services import service_app
from shared.secrets import digest, random_token

CHUNK = 2000
ENDPOINT_TOKENS_PENDING = "1,000,000 endpoint tokens: pending (needs endpoint tokens wired into introspection)"


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def seed_subscriptions(count: int) -> int:
    """Add `count` subscriptions, each with its owner, a bridge and a client; answer how many were added."""
    from authserver.accounts.models import AdminAccount
    from authserver.clients.models import OAuthClient
    from authserver.extensions import db
    from authserver.subscriptions.models import Bridge, Subscription
    from shared.service import encryptor

    app = service_app("authserver")
    with app.app_context():
        run = uuid.uuid4().hex[:8]
        now = datetime.now(UTC)
        password = encryptor().encrypt(random_token(12))  # one ciphertext: decrypting it is not what is measured
        accounts = [
            {
                "email": f"seed-{run}-{n}@bench.invalid",
                "email_normalized": f"seed-{run}-{n}@bench.invalid",
                "password_hash": "!",  # matches no password: these accounts cannot sign in
                "role": "admin",
                "security_stamp": random_token(16),
                "created_at": now,
                "confirmed_at": now,
            }
            for n in range(count)
        ]
        for chunk in _chunks(accounts):
            db.session.execute(insert(AdminAccount), chunk)
        owners = dict(
            db.session.execute(
                select(AdminAccount.email, AdminAccount.id).where(AdminAccount.email.like(f"seed-{run}-%"))
            ).all()
        )
        subscriptions = [
            {
                "subscription_id": f"S{run}{n}",
                "subscription_id_normalized": f"s{run}{n}",
                "gid": uuid.uuid4(),
                "company_name": f"Seeded company {n}",
                "serial_number": f"SN{n}",
                "vat_number": f"{n:09d}",
                "password_encrypted": password,
                "owner_id": owners[f"seed-{run}-{n}@bench.invalid"],
                "created_at": now,
                "updated_at": now,
            }
            for n in range(count)
        ]
        for chunk in _chunks(subscriptions):
            db.session.execute(insert(Subscription), chunk)
        keys = dict(
            db.session.execute(
                select(Subscription.subscription_id, Subscription.id).where(
                    Subscription.subscription_id.like(f"S{run}%")
                )
            ).all()
        )
        bridges, clients = [], []
        for row in subscriptions:
            name = row["subscription_id"]
            bridges.append(
                {
                    "subscription_pk": keys[name],
                    "bridge_id": "B1",
                    "bridge_id_normalized": "b1",
                    "database_id": "DB",
                    "company_id": "001",
                    "scheme": "https",
                    "host": "erp.example.com",
                    "port": 443,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            clients.append(
                {
                    "client_id": random_token(18),
                    "client_secret_digest": digest(random_token(32)),
                    "name": f"{name} clock agent",
                    "grant_types": ["client_credentials"],
                    "redirect_uris": [],
                    "post_logout_redirect_uris": [],
                    "scope": "attendance:write",
                    "token_endpoint_auth_method": "client_secret_basic",
                    "id_token_signed_response_alg": "ES256",
                    "is_internal": False,
                    "audience": "resource_api",
                    "subscription_id": name,
                    "subscription_gid": str(row["gid"]),
                    "bridge_id": "B1",
                    "created_at": now,
                }
            )
        for chunk in _chunks(bridges):
            db.session.execute(insert(Bridge), chunk)
        for chunk in _chunks(clients):
            db.session.execute(insert(OAuthClient), chunk)
        db.session.commit()
        db.engine.dispose()
    return count


def main() -> None:
    """Seed the databases and say what was added."""
    parser = argparse.ArgumentParser(prog="python -m bench.stack.seed")
    parser.add_argument("--subscriptions", type=int, default=10_000)
    args = parser.parse_args()
    added = seed_subscriptions(args.subscriptions)
    print(f"seeded {added:,} subscriptions (with owners, bridges and clients); {ENDPOINT_TOKENS_PENDING}")


if __name__ == "__main__":
    main()
