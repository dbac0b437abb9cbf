"""Chargebacks and fraud reports: remember who was involved, so paying them again is riskier."""

from __future__ import annotations

from walletguard.decisions.context import DecisionContext
from walletguard.decisions.outcome import Outcome
from walletguard.events.model import LABELS, WalletEvent
from walletguard.features.store import EventKeys, FeatureStore

NEW_DEVICE_SECONDS = 86400.0


def _device_was_new(ctx: DecisionContext, reported: WalletEvent) -> bool:
    """Whether the reported event came from a device the account had not used for long.

    A scam victim pays from their own phone: the fraud is the payee's, not the device's.
    A device first seen around the fraud (or never learned) is the fraudster's."""
    assert reported.device is not None
    first_seen = ctx.profile.devices.get(reported.device.id)
    return first_seen is None or first_seen > reported.ts - NEW_DEVICE_SECONDS


class LabelEffects:
    def __init__(self, features: FeatureStore) -> None:
        self._features = features

    def guard(self, ctx: DecisionContext, out: Outcome) -> None:
        return None

    def apply(self, ctx: DecisionContext, out: Outcome) -> None:
        event = ctx.event
        if event.type not in LABELS or event.ref_event_id is None:
            return
        reported = ctx.uow.events.get(event.ref_event_id)
        if reported is None:
            return
        keys = EventKeys(reported)
        named = [k for k in (keys.counterparty,) if k is not None]
        if keys.device is not None and _device_was_new(ctx, reported):
            named.append(keys.device)
        if named:
            self._features.report_fraud(named)
        out.flags.add("label")
        ctx.uow.audit.append(
            at=event.occurred_at,
            actor="engine",
            action=f"label.{event.type.value}",
            subject=f"event:{event.ref_event_id}",
            payload={"event_id": event.event_id, "named": named},
        )
