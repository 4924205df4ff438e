"""The audit log: who did what, when, from where, for which subscription."""

from authserver.audit.service import ACCOUNT_PREFIX, SYSTEM, account_actor, list_events, record

__all__ = ["ACCOUNT_PREFIX", "SYSTEM", "account_actor", "list_events", "record"]
