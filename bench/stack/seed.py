"""Run inside the stack's environment (`python -m bench.stack.seed`): bulk data for the seeded table.

Rows go in with one multi-row INSERT per chunk (SQLAlchemy Core), never the ORM one object at a time: the
point is a large database, not a benchmark of seeding. Each subscription gets an owner, a bridge, a tenant
OAuth client and a year's Time Attendance licence (every other one an Application Insights licence too), the
way a customer's data looks. Then the endpoint tokens (API keys) are spread over those subscriptions: each
holds one live Time Attendance token (and one Application Insights token where it is licensed), the others
are revoked ones of every type, and a third of all were rotated once, so the two digest indexes the lookup
reads (current and previous key) both hold about a million entries. Digests are SHA-256 of random keys and
the encrypted copies are Fernet-shaped random bytes: no key exists in clear, none of these opens anything.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from cloudstore.services import service_app
from shared.secrets import digest, random_token

CHUNK = 2000
TOKEN_CHUNK = 10_000
TOKEN_TYPES = ("time-attendance", "app-insights", "surveys")


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def seed_subscriptions(count: int) -> list[int]:
    """Add `count` subscriptions, each with its owner, a bridge, a client and licences; answer their keys."""
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
        pks = [keys[row["subscription_id"]] for row in subscriptions]
        _licences(db.session, pks, now)
        db.session.commit()
        db.engine.dispose()
    return pks


def _licences(session: Any, pks: Sequence[int], now: datetime) -> None:
    """A year's paid Time Attendance licence for each subscription, Application Insights for every other one:
    the live tokens seeded next are live because of these, as the lookup checks."""
    from authserver.store.models import PAID, App, Licence

    apps = {app.code: app for app in session.execute(select(App).where(App.code.in_(TOKEN_TYPES[:2]))).scalars()}
    rows = [
        {
            "subscription_pk": pk,
            "app_id": apps[code].id,
            "plan_id": apps[code].plans[0].id,
            "kind": PAID,
            "seats": apps[code].plans[0].users,
            "starts_at": now - timedelta(days=30),
            "ends_at": now + timedelta(days=335),
            "created_at": now,
            "updated_at": now,
        }
        for n, pk in enumerate(pks)
        for code in TOKEN_TYPES[: 2 if n % 2 == 0 else 1]
    ]
    for chunk in _chunks(rows):
        session.execute(insert(Licence), chunk)


def _digest() -> str:
    """The SHA-256 digest of a fresh 256-bit key, as a stored key digest looks."""
    return hashlib.sha256(os.urandom(32)).hexdigest()


def _fernet_shaped(stamp: bytes) -> str:
    """As long as the Fernet token of a 55-character key (version, time, IV, 64 bytes, HMAC), but random."""
    return base64.urlsafe_b64encode(b"\x80" + stamp + os.urandom(16 + 64 + 32)).decode()


def _token_rows(pks: Sequence[int], start: int, stop: int, now: datetime, run: str) -> list[dict[str, Any]]:
    """Tokens number `start` to `stop` of the run: number n belongs to subscription n mod len(pks); its first
    token is the live Time Attendance one, its second the live Application Insights one where licensed."""
    stamp = int(now.timestamp()).to_bytes(8, "big")
    rows = []
    for n in range(start, stop):
        index, round_ = n % len(pks), n // len(pks)
        pk = pks[index]
        live = round_ == 0 or (round_ == 1 and index % 2 == 0)
        kind = TOKEN_TYPES[round_] if live else TOKEN_TYPES[n % 3]
        created = now - timedelta(days=1 + n % 700)
        rotated = n % 3 == 0
        rows.append(
            {
                "id": f"ept_{os.urandom(10).hex()}",
                "subscription_pk": pk,
                "bridge_id": "B1",
                "endpoint_type": kind,
                "app_code": kind,
                "title": f"Seeded {kind} token {run}-{n}",
                "status": "ACTIVE" if live else "REVOKED",
                "live_slot": f"{pk}:b1:{kind}" if live else None,
                "key_digest": _digest(),
                "key_encrypted": _fernet_shaped(stamp),
                "previous_key_digest": _digest() if rotated else None,
                "previous_valid_until": None,
                "authorized_by": "payroll",
                "authorized_by_name": "Payroll officer",
                "created_by_account": None,
                "created_at": created,
                "rotated_at": created + timedelta(hours=1) if rotated else None,
                "revoked_at": None if live else created + timedelta(days=1),
                "last_used_at": None,
            }
        )
    return rows


def seed_endpoint_tokens(pks: Sequence[int], count: int) -> int:
    """Add `count` endpoint tokens over the subscriptions `pks`, committed chunk by chunk."""
    from authserver.endpoint_tokens.models import EndpointToken
    from authserver.extensions import db

    if not pks or count <= 0:
        return 0
    app = service_app("authserver")
    table = EndpointToken.__table__
    with app.app_context():
        run, now = uuid.uuid4().hex[:8], datetime.now(UTC)
        for start in range(0, count, TOKEN_CHUNK):
            rows = _token_rows(pks, start, min(count, start + TOKEN_CHUNK), now, run)
            db.session.execute(insert(table), rows)
            db.session.commit()
        db.engine.dispose()
    return count


def main() -> None:
    """Seed the databases and say what was added and how long it took."""
    parser = argparse.ArgumentParser(prog="python -m bench.stack.seed")
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--endpoint-tokens", type=int, default=1_000_000)
    args = parser.parse_args()
    started = time.monotonic()
    pks = seed_subscriptions(args.subscriptions)
    between = time.monotonic()
    tokens = seed_endpoint_tokens(pks, args.endpoint_tokens)
    done = time.monotonic()
    print(
        f"seeded {len(pks):,} subscriptions (with owners, bridges, clients and licences) in {between - started:.1f} s"
        f" and {tokens:,} endpoint tokens in {done - between:.1f} s"
    )


if __name__ == "__main__":
    main()
