"""Verify Connection, as the guide walks it (facts §1.3, §5 row 3).

Stage 1: the admin names the subscription (ID and password), a back-office user with WebApi access, the bridge
and a branch; the gateway logs that user in on the bridge. On success the portal issues a fresh 7-digit code,
valid `lifetime` seconds, to be written into `CSWebAssets/<SubscriptionID>-<BridgeID>.txt` on the server.
Stage 2: the gateway reads that file as the bridge's service user and compares it with the code; the bridge
is then verified. Every attempt is audited, with EBS's MessageID when it refused.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from authserver import audit
from authserver.accounts.models import AdminAccount
from authserver.gateway_client import GatewayClient, GatewayProblem
from authserver.subscriptions.errors import FieldError, StateError
from authserver.subscriptions.models import Bridge, Subscription, as_utc
from authserver.subscriptions.registration import subscription_password as stored_password
from authserver.subscriptions.registration import with_registration
from authserver.subscriptions.service import subscription_bridge
from shared.secrets import Encryptor

__all__ = ["CODE_DIGITS", "Challenge", "pending_challenge", "verify_challenge", "verify_login"]

CODE_DIGITS = 7
NO_CHALLENGE = "First fill in the VERIFY CONNECTION form: a code is issued once the user's login succeeds."
EXPIRED = "The code has expired. Fill in the VERIFY CONNECTION form again to get a new code."


@dataclass(frozen=True)
class Challenge:
    """What stage 2 expects: the file to create, the code to put in it, and until when the code is valid."""

    file: str
    code: str
    expires_at: datetime
    user_id: str | None


def _now() -> datetime:
    return datetime.now(UTC)


def _new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def pending_challenge(*, bridge: Bridge, encryptor: Encryptor, now: datetime | None = None) -> Challenge | None:
    """The bridge's unexpired stage-1 code, or None."""
    now = now or _now()
    if not bridge.challenge_pending(now) or bridge.challenge_code_encrypted is None:
        return None
    return Challenge(
        file=bridge.challenge_file,
        code=encryptor.decrypt(bridge.challenge_code_encrypted),
        expires_at=as_utc(bridge.challenge_expires_at),  # type: ignore[arg-type]
        user_id=bridge.challenge_user_id,
    )


def _record(
    session: Session, account: AdminAccount, bridge: Bridge, event: str, ip: str | None, **details: object
) -> None:
    audit.record(
        session=session,
        event=event,
        actor=audit.account_actor(account.id),
        subscription_id=bridge.subscription_pk,
        ip=ip,
        bridge=bridge.bridge_id,
        **details,
    )


def verify_login(
    *,
    session: Session,
    gateway: GatewayClient,
    encryptor: Encryptor,
    account: AdminAccount,
    subscription: Subscription,
    subscription_id: str,
    subscription_password: str,
    user_id: str,
    password: str,
    bridge_id: str,
    branch_id: str | None = None,
    lifetime: int = 86400,
    ip: str | None = None,
) -> Challenge:
    """Stage 1: check the typed subscription details, log the back-office user in through the gateway, issue a code.

    Raises FieldError (a typed value is wrong) or GatewayProblem (EBS or the network said no).
    """
    if subscription_id.strip().lower() != subscription.subscription_id_normalized:
        raise FieldError("subscription_id", f"This is not the Subscription ID of {subscription.subscription_id}.")
    bridge = subscription_bridge(session=session, subscription=subscription, bridge_id=bridge_id)
    if bridge is None:
        raise FieldError("bridge_id", "This subscription has no connection with this Bridge ID.")
    stored = stored_password(subscription=subscription, encryptor=encryptor)
    if not hmac.compare_digest(subscription_password.encode(), stored.encode()):
        _record(session, account, bridge, "bridge.verify_login", ip, outcome="failed", reason="subscription-password")
        session.commit()
        raise FieldError("subscription_password", "The Subscription Password is not the password of this subscription.")
    sub_id = subscription.subscription_id
    try:
        answer = with_registration(
            gateway=gateway,
            bridge=bridge,
            encryptor=encryptor,
            call=lambda: gateway.verify_login(
                subscription_id=sub_id,
                bridge_id=bridge.bridge_id,
                user_id=user_id,
                password=password,
                branch_id=branch_id,
            ),
        )
    except GatewayProblem as problem:
        _record(
            session,
            account,
            bridge,
            "bridge.verify_login",
            ip,
            outcome="failed",
            reason=problem.slug,
            message_id=problem.message_id,
            user=user_id,
        )
        session.commit()
        raise
    code = _new_code()
    expires_at = _now() + timedelta(seconds=lifetime)
    bridge.challenge_code_encrypted = encryptor.encrypt(code)
    bridge.challenge_expires_at = expires_at
    bridge.challenge_user_id = user_id.strip()
    _record(session, account, bridge, "bridge.verify_login", ip, outcome="ok", user=user_id)
    session.commit()
    challenge_file = answer.get("challengeFile") if isinstance(answer, dict) else None
    return Challenge(
        file=challenge_file if isinstance(challenge_file, str) else bridge.challenge_file,
        code=code,
        expires_at=expires_at,
        user_id=bridge.challenge_user_id,
    )


def verify_challenge(
    *,
    session: Session,
    gateway: GatewayClient,
    encryptor: Encryptor,
    account: AdminAccount,
    bridge: Bridge,
    ip: str | None = None,
) -> Bridge:
    """Stage 2: the gateway finds the code in the bridge's CSWebAssets file; the bridge becomes verified.

    Raises StateError (no code issued, or it expired) or GatewayProblem (file missing, code mismatch, network).
    """
    if bridge.challenge_code_encrypted is None:
        raise StateError(NO_CHALLENGE)
    if not bridge.challenge_pending(_now()):
        bridge.challenge_code_encrypted = None
        bridge.challenge_expires_at = None
        _record(session, account, bridge, "bridge.verify_challenge", ip, outcome="failed", reason="expired")
        session.commit()
        raise StateError(EXPIRED)
    code = encryptor.decrypt(bridge.challenge_code_encrypted)
    sub_id = bridge.subscription.subscription_id
    try:
        with_registration(
            gateway=gateway,
            bridge=bridge,
            encryptor=encryptor,
            call=lambda: gateway.verify_challenge(subscription_id=sub_id, bridge_id=bridge.bridge_id, code=code),
        )
    except GatewayProblem as problem:
        _record(session, account, bridge, "bridge.verify_challenge", ip, outcome="failed", reason=problem.slug)
        session.commit()
        raise
    bridge.verified_at = _now()
    bridge.verified_by = bridge.challenge_user_id
    bridge.challenge_code_encrypted = None
    bridge.challenge_expires_at = None
    bridge.challenge_user_id = None
    _record(session, account, bridge, "bridge.verify_challenge", ip, outcome="ok")
    session.commit()
    return bridge
