"""Chargebacks and fraud reports: remember who was involved, so paying them again is riskier.

The keys named (`features.learning.fraud_named`) are counted by the engine with the report's
own feature update, after the decision — once per event, like the event itself, so a
report sent again after a failed commit is not counted twice, and a restart's catch-up
replay counts it as the live engine did. Here the report is audited and flagged.
"""

from __future__ import annotations

from walletguard.decisions.context import DecisionContext
from walletguard.decisions.outcome import Outcome
from walletguard.events.model import LABELS


class LabelEffects:
    def guard(self, ctx: DecisionContext, out: Outcome) -> None:
        return None

    def apply(self, ctx: DecisionContext, out: Outcome) -> None:
        event = ctx.event
        if event.type not in LABELS or event.ref_event_id is None:
            return
        reported = ctx.reported_event
        if reported is None:
            return
        out.flags.add("label")
        ctx.uow.audit.append(
            at=event.occurred_at,
            actor="engine",
            action=f"label.{event.type.value}",
            subject=f"event:{event.ref_event_id}",
            payload={"event_id": event.event_id, "named": ctx.fraud_named},
        )
