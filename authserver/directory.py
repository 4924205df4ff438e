"""The ERP user directory behind app sign-in: subscription users, their bridges, live ERP checks, licences.

It implements `authserver.signin.users.ErpAuthenticator` from the portal's records: a user signs in only
when VERIFIED and active in a subscription whose bridge (the Company ID) is verified, and only with ERP
credentials the ERP accepts live through the bridge gateway. The password is passed on and forgotten.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from authserver.extensions import db
from authserver.gateway_client import GatewayProblem, gateway_client
from authserver.signin.users import EndUser, ErpUnavailable, SignInRefused
from authserver.store.errors import LicenceProblem
from authserver.store.licences.service import check_app_access
from authserver.subscriptions.models import Bridge, Subscription
from authserver.subscriptions.service import subscription_bridge
from authserver.users.models import SubscriptionUser
from authserver.users.service import find_users_for_signin

if TYPE_CHECKING:
    from authserver.clients.service import RegisteredClient

__all__ = ["DirectoryAuthenticator"]

VERIFIED = "VERIFIED"
# Failures of the road to the ERP, not of the person signing in.
_UNAVAILABLE = {
    "gateway-unavailable",
    "upstream-unreachable",
    "upstream-timeout",
    "upstream-tls-failure",
    "circuit-open",
    "bridge-busy",
    "upstream-error",
    "upstream-invalid-response",
}


def _refusal(problem: GatewayProblem) -> SignInRefused:
    if problem.slug in _UNAVAILABLE:
        return ErpUnavailable("Your company's ERP server cannot be reached right now. Try again in a few minutes.")
    if problem.user_message:
        return SignInRefused(f"The ERP refused the sign-in: {problem.user_message}")
    return SignInRefused("The ERP refused the sign-in. Check your User ID, Password, Company ID and Branch ID.")


class DirectoryAuthenticator:
    """Signs ERP users in against the portal's subscription users and the ERP itself."""

    def _resolve(self, login: str, company_id: str) -> tuple[SubscriptionUser, Subscription, Bridge]:
        users = find_users_for_signin(session=db.session, login=login)
        if not users:
            raise SignInRefused("Unknown user: sign in with your e-mail or SubscriptionID/UserID (e.g. demo/esmaster).")
        matches = []
        for user in users:
            bridge = subscription_bridge(session=db.session, subscription=user.subscription, bridge_id=company_id)
            if bridge is not None:
                matches.append((user, user.subscription, bridge))
        if not matches:
            raise SignInRefused(f"Company ID {company_id!r} is not a connection (BridgeID) of your subscription.")
        if len(matches) > 1:
            raise SignInRefused("This e-mail belongs to several subscriptions: sign in with SubscriptionID/UserID.")
        user, subscription, bridge = matches[0]
        if user.status != VERIFIED:
            raise SignInRefused(
                "Your account is not confirmed yet: open the invitation e-mail and press Confirm account."
            )
        if not user.active:
            raise SignInRefused("Your user is deactivated in this subscription. Ask your administrator.")
        if bridge.verified_at is None:
            raise SignInRefused(f"The connection {bridge.bridge_id} is not verified yet. Ask your administrator.")
        return user, subscription, bridge

    def branches(self, *, login: str, company_id: str) -> list[tuple[str, str]]:
        """The user's branches on the bridge, as the ERP lists them."""
        user, subscription, bridge = self._resolve(login, company_id)
        try:
            answer: dict[str, Any] = gateway_client().branches(
                subscription_id=subscription.subscription_id, bridge_id=bridge.bridge_id, user_id=user.erp_user_id
            )
        except GatewayProblem as problem:
            raise _refusal(problem) from None
        return [(str(branch["id"]), str(branch.get("name") or branch["id"])) for branch in answer.get("branches", [])]

    def authenticate(self, *, login: str, password: str, company_id: str, branch_id: str) -> EndUser:
        """Check the credentials live; the EndUser's `sub` is the subscription user's id."""
        user, subscription, bridge = self._resolve(login, company_id)
        try:
            profile: dict[str, Any] = gateway_client().check_credentials(
                subscription_id=subscription.subscription_id,
                bridge_id=bridge.bridge_id,
                user_id=user.erp_user_id,
                password=password,
                branch_id=branch_id or None,
            )
        except GatewayProblem as problem:
            raise _refusal(problem) from None
        return EndUser(
            sub=str(user.id),
            subscription_id=subscription.subscription_id,
            subscription_gid=str(subscription.gid),
            user_id=user.erp_user_id,
            email=user.email,
            name=profile.get("name") or user.erp_user_id,
            bridge_id=bridge.bridge_id,
            branch_id=str(profile.get("branchId") or branch_id),
            administrator=bool(profile.get("administrator")),
            payroll=bool(profile.get("payroll")),
        )

    def app_access(self, *, user: EndUser, client: RegisteredClient) -> None:
        """A client bound to an app admits only users holding a seat of an unexpired licence of it."""
        record = db.session.get(SubscriptionUser, _uuid(user.sub))
        if record is None or record.status != VERIFIED or not record.active:
            raise SignInRefused("Your user is no longer active in this subscription.")
        if not client.app:
            return
        try:
            check_app_access(session=db.session, subscription_user_id=record.id, app_code=client.app)
        except LicenceProblem as problem:
            raise SignInRefused(problem.reason) from None


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
