"""Consent: the append-only ledger, its derived state, receipts, imports, objections and GPC."""

from garde.consent.ledger import (
    Evidence,
    LedgerEvent,
    consent_events,
    current,
    event,
    give,
    hash_ip,
    history,
    record_consent,
    refuse,
    withdraw,
)
from garde.consent.objections import gpc_signal, object_to, record_gpc, unsubscribe
from garde.consent.state import ConsentEvent, ConsentState, fold, fold_all

__all__ = [
    "ConsentEvent", "ConsentState", "Evidence", "LedgerEvent", "consent_events", "current", "event", "fold",
    "fold_all", "give", "gpc_signal", "hash_ip", "history", "object_to", "record_consent", "record_gpc",
    "refuse", "unsubscribe", "withdraw",
]
