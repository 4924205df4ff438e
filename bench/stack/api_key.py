"""Run inside the stack's environment (`python -m bench.stack.api_key`): a real endpoint token for the benchmark.

The key is made the way Add Token → Allow makes one, through the auth server's own services and the running
gateway and EBS simulator: the demo subscription and its bridge are created and registered at the gateway,
the bridge is verified (the back-office user's login, then the code read back from the simulator's
CSWebAssets folder), the subscription gets an active Time Attendance licence, and the pending request is
completed by `create_token`, which registers the key in EBS's company parameters before it makes it usable.
The key is then read back with click-to-show (`reveal_key`, audited). Only the ERP user's sign-in and the
authorization-code exchange of the consent page are skipped: they are interactive, and what they answer (the
ERP user who allowed) is given here as the demo company's payroll user.

Each call makes a new token (revoking the previous one, as EBS keeps one per type): the benchmark takes a
fresh key for each table, and `tests/bench/test_cache_invalidation.py` uses the revocation to check that every
worker lets go of the old key in time.

Prints the token id and the key as JSON on stdout, for the benchmark process only (never logged).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import select

from cloudstore.services import service_app
from shared.config import config_dir, var_dir

__all__ = ["ENDPOINT_TYPE", "main", "provision_key"]

ENDPOINT_TYPE = "time-attendance"
ALLOWED_BY = "payroll"  # in Payroll and assigned to the app: who may allow a time-attendance token


def _demo_company() -> tuple[Any, Any, dict[str, Any]]:
    """The simulator's demo subscription, its first bridge and its ERP users (config/simulator.toml)."""
    from bridge_gateway.simulator.config import load_config

    config = load_config(config_dir() / "simulator.toml")
    subscription = next(iter(config.subscriptions.values()))
    bridge = next(iter(subscription.bridges.values()))
    return subscription, bridge, dict(config.users)


def _write_code(path: str, code: str) -> None:
    """Stage 2 of VERIFY CONNECTION as the customer does it: the code goes into the ERP server's CSWebAssets."""
    relative = PurePosixPath(path)
    if relative.parts[0] != "CSWebAssets" or ".." in relative.parts:
        raise RuntimeError(f"unexpected challenge file {path!r}")
    target = Path(var_dir()) / "simulator" / Path(*relative.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(code, encoding="utf-8")


def _licence(session: Any, subscription_pk: int, app_code: str) -> None:
    """An active paid licence of the app for a year, as a paid order's fulfilment starts one."""
    from authserver.store.models import PAID, App, Licence

    app = session.execute(select(App).where(App.code == app_code)).scalar_one()
    now = datetime.now(UTC)
    session.add(
        Licence(
            subscription_pk=subscription_pk,
            app_id=app.id,
            plan_id=app.plans[0].id,
            kind=PAID,
            seats=app.plans[0].users,
            starts_at=now,
            ends_at=now + timedelta(days=365),
            created_at=now,
            updated_at=now,
        )
    )
    session.commit()


def _demo_subscription(port: int) -> tuple[Any, int]:
    """The demo subscription with its bridge verified and a Time Attendance licence, created on first call
    (EBS at 127.0.0.1:`port`); answer it and the id of the admin account that owns it."""
    from authserver.accounts.models import AdminAccount
    from authserver.extensions import db
    from authserver.gateway_client import gateway_client
    from authserver.subscriptions import service as subscriptions
    from authserver.subscriptions import verify
    from shared.secrets import random_token
    from shared.service import encryptor

    session, gateway, secrets = db.session, gateway_client(), encryptor()
    sub, bridge_config, users = _demo_company()
    existing = subscriptions.subscription_by_id(session=session, subscription_id=sub.id)
    if existing is not None:
        return existing, existing.owner_id
    now = datetime.now(UTC)
    account = AdminAccount(
        email="bench-admin@bench.invalid",
        email_normalized="bench-admin@bench.invalid",
        password_hash="!",  # noqa: S106 - matches no password: this account cannot sign in
        security_stamp=random_token(16),
        created_at=now,
        confirmed_at=now,
    )
    session.add(account)
    session.commit()
    subscription = subscriptions.create_subscription(
        session=session,
        gateway=gateway,
        encryptor=secrets,
        account=account,
        company_name=bridge_config.company_name or "Benchmark company",
        subscription_id=sub.id,
        serial_number="BENCH-0001",
        vat_number="999999999",
        password=sub.password,
        database_id=bridge_config.database_id,
        company_id=bridge_config.company_id,
        host="127.0.0.1",
        port=port,
        scheme="http",
        bridge_id=bridge_config.id,
    )
    admin = users["esmaster"]
    challenge = verify.verify_login(
        session=session,
        gateway=gateway,
        encryptor=secrets,
        account=account,
        subscription=subscription,
        subscription_id=sub.id,
        subscription_password=sub.password,
        user_id=admin.user_id,
        password=admin.password,
        bridge_id=bridge_config.id,
        branch_id=bridge_config.default_user.branch_id,
    )
    _write_code(challenge.file, challenge.code)
    bridge = subscriptions.owned_bridge(session=session, subscription=subscription, bridge_id=bridge_config.id)
    verify.verify_challenge(session=session, gateway=gateway, encryptor=secrets, account=account, bridge=bridge)
    _licence(session, subscription.id, ENDPOINT_TYPE)
    return subscription, account.id


def provision_key(port: int) -> tuple[str, str]:
    """A new Time Attendance endpoint token of the demo subscription (see `_demo_subscription`), registered in
    EBS; the one it replaces, if any, is revoked first (EBS keeps one per type). Answer its id and key. Call
    within the auth server's app."""
    from flask import current_app

    from authserver.audit import account_actor
    from authserver.endpoint_tokens import flow, service
    from authserver.endpoint_tokens.lifecycle import reveal_key, revoke_token
    from authserver.extensions import db
    from authserver.gateway_client import gateway_client
    from authserver.signin.users import EndUser
    from shared.service import encryptor

    session, gateway, secrets = db.session, gateway_client(), encryptor()
    subscription, account_id = _demo_subscription(port)
    actor = account_actor(account_id)
    bridge_id = subscription.bridges[0].bridge_id
    for live in service.list_tokens(session=session, subscription=subscription):
        if live.endpoint_type == ENDPOINT_TYPE and live.bridge_id == bridge_id:
            warning = revoke_token(session=session, gateway=gateway, token=live, actor=actor, ip=None, cache=None)
            if warning:
                raise RuntimeError(warning)
    title = f"benchmark clock agent {datetime.now(UTC):%H:%M:%S}"
    _, app = service.check_new_token(
        session=session, subscription=subscription, title=title, bridge_id=bridge_id, endpoint_type=ENDPOINT_TYPE
    )
    config = current_app.config
    client = flow.ensure_portal_client(session=session, issuer=config["ISSUER"], secret_key=current_app.secret_key)
    pending, _ = flow.start_request(
        session=session,
        encryptor=secrets,
        client=client,
        issuer=config["ISSUER"],
        subscription=subscription,
        account_id=account_id,
        bridge_id=bridge_id,
        endpoint_type=ENDPOINT_TYPE,
        app_code=app.code,
        title=title,
        lifetime=600,
    )
    if not flow.claim_request(session=session, pending=pending, outcome="allowed", message=None):
        raise RuntimeError("the endpoint token request was already claimed")
    erp_user = _demo_company()[2][ALLOWED_BY]
    allowed_by = EndUser(
        sub=f"bench-{ALLOWED_BY}",
        subscription_id=subscription.subscription_id,
        subscription_gid=str(subscription.gid),
        user_id=erp_user.user_id,
        email=erp_user.email,
        name=erp_user.name,
        bridge_id=bridge_id,
        branch_id="001",
        payroll=True,
    )
    token = service.create_token(session=session, gateway=gateway, encryptor=secrets, pending=pending, user=allowed_by)
    pending.outcome, pending.token_id = "created", token.id
    session.commit()
    key = reveal_key(session=session, encryptor=secrets, token=token, actor=actor, ip=None)
    return token.id, key


def main() -> None:
    """Provision the key against the simulator's port (`BENCH_SIMULATOR_PORT`) and print it as JSON."""
    import os

    from authserver.extensions import db

    app = service_app("authserver")
    with app.app_context():
        token_id, key = provision_key(int(os.environ["BENCH_SIMULATOR_PORT"]))
        db.engine.dispose()
    print(json.dumps({"token_id": token_id, "api_key": key}))


if __name__ == "__main__":
    main()
