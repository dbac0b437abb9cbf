"""What deciding an event teaches the feature store: the one rule, shared by the engine
(live) and by the restart's catch-up replay (`storage/feature_checkpoints.py`), so that a
restarted engine holds exactly the state one that never stopped would hold.

- `learns`: whether the account's profile learns from the event's habits.
- `fraud_named`: the keys a chargeback or fraud report names in fraud (counted once per
  event, with the event's own update: `FeatureStore.update(..., reports=...)`).
"""

from __future__ import annotations

from walletguard.events.model import WalletEvent
from walletguard.features.profile import AccountProfile
from walletguard.features.store import EventKeys

NEW_DEVICE_SECONDS = 86400.0
"""A device first seen this long before the reported event (or later) was the fraudster's."""


def learns(event: WalletEvent, decision: str) -> bool:
    """Whether the profile learns from `event`, decided `decision` (`"allow"`, ...): only
    from events let through, and never from a failed sign-in or password check — an
    attacker's device and country must not become "known" by guessing wrong."""
    return decision == "allow" and (event.auth is None or event.auth.success)


def fraud_named(reported: WalletEvent, profile: AccountProfile) -> list[str]:
    """The keys a chargeback or fraud report of `reported` names in fraud: its
    counterparty, and its device when that device was new to the account (`profile`, as
    of just before the report) around the reported event.

    A scam victim pays from their own phone: the fraud is the payee's, not the device's.
    A device first seen around the fraud (or never learned) is the fraudster's."""
    keys = EventKeys(reported)
    named = [keys.counterparty] if keys.counterparty is not None else []
    if keys.device is not None:
        assert reported.device is not None
        first_seen = profile.devices.get(reported.device.id)
        if first_seen is None or first_seen > reported.ts - NEW_DEVICE_SECONDS:
            named.append(keys.device)
    return named
