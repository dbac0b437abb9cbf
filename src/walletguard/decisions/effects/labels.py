"""Chargebacks and fraud reports: remember who was involved, so paying them again is riskier."""

from __future__ import annotations

from walletguard.decisions.context import DecisionContext
from walletguard.decisions.outcome import Outcome
from walletguard.events.model import LABELS
from walletguard.features.store import EventKeys, FeatureStore


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
        named = [k for k in (keys.counterparty, keys.device) if k is not None]
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
