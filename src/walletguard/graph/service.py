"""Turning detected rings into cases, with their evidence, in one unit of work."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from walletguard.cases.model import Alert, AlertKind, Case, CaseRepository, CaseStatus
from walletguard.graph.picture import ring_svg
from walletguard.graph.rings import Ring, RingRecord
from walletguard.kernel.money import format_amount, from_units
from walletguard.kernel.risk import RiskLevel

RING_RISK = RiskLevel.HIGH.value
"""A suspected ring's case and alert: reviewed as high risk (its SLA too)."""


class RingRepository(Protocol):
    def add(self, ring: RingRecord) -> None: ...

    def known_ring_ids(self) -> set[str]: ...


class RingUnitOfWork(Protocol):
    @property
    def cases(self) -> CaseRepository: ...

    @property
    def rings(self) -> RingRepository: ...

    @property
    def audit(self) -> Any: ...


def open_ring_cases(
    uow: RingUnitOfWork,
    rings: list[Ring],
    *,
    window: tuple[datetime, datetime],
    at: datetime,
    actor: str,
    currency: str,
) -> list[RingRecord]:
    """Open a case for each ring not already known (same members → same ring id), with
    the ring's picture stored for the case's evidence. Returns the new ones."""
    known = uow.rings.known_ring_ids()
    opened = []
    for ring in rings:
        if ring.ring_id in known:
            continue
        case_id = "case-" + ring.ring_id
        lead = _lead(ring)
        summary = (
            f"suspected mule ring of {len(ring.members)} wallets "
            f"({', '.join(ring.patterns)}); {format_amount(from_units(ring.money_units))} "
            "moved by its members"
        )
        case = Case(
            id=case_id,
            account_id=lead,
            status=CaseStatus.OPEN,
            opened_at=at,
            updated_at=at,
            max_score=ring.score,
            amount_at_stake_units=ring.money_units,
            alert_count=1,
            risk_level=RING_RISK,
        )
        uow.cases.save_case(case)
        uow.cases.add_alert(
            Alert(
                id="alert-" + ring.ring_id,
                account_id=lead,
                kind=AlertKind.MULE_SIGNS,
                event_id=None,
                risk_level=RING_RISK,
                score=ring.score,
                amount_units=ring.money_units,
                currency=currency,
                summary=summary,
                created_at=at,
            ),
            case_id,
        )
        record = RingRecord(
            case_id=case_id,
            ring_id=ring.ring_id,
            detected_at=at,
            detected_by=actor,
            window_from=window[0],
            window_to=window[1],
            patterns=ring.patterns,
            members=ring.members,
            flows=ring.flows,
            money_units=ring.money_units,
            score=ring.score,
            svg=ring_svg(ring, f"{case_id}: {summary}"),
        )
        uow.rings.add(record)
        uow.audit.append(
            at=at,
            actor=actor,
            action="graph.ring_case_opened",
            subject=f"case:{case_id}",
            payload={
                "ring_id": ring.ring_id,
                "members": list(ring.members),
                "patterns": list(ring.patterns),
                "money_units": ring.money_units,
            },
        )
        opened.append(record)
    return opened


def _lead(ring: Ring) -> str:
    """The member that received the most money (the case is filed under it)."""
    received: dict[str, int] = {}
    for flow in ring.flows:
        to = flow["to"]
        if to.startswith("a:") and to[2:] in ring.members:
            received[to[2:]] = received.get(to[2:], 0) + int(flow["units"])
    if not received:
        return ring.members[0]
    return max(sorted(received), key=lambda m: received[m])
