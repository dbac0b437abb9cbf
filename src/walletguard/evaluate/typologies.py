"""Per campaign and per typology: was the attack stopped, how much money left, how soon.

Definitions (docs/evaluation.md):

- **cash-out**: a labelled event that takes money out of the wallet system — a
  withdrawal to a bank account or a payment to a merchant. Transfers between wallets
  are not cash-outs: the money is still inside, where a freeze or a hold can keep it.
- **money tried**: the sum of a campaign's cash-out attempts. **Money that left**: the
  part of it that went through (allowed, or its step-up passed: posted to the
  destination). **Stopped** = tried − left (blocked, held for review and never released,
  step-up failed). A held withdrawal counts as stopped: it moves only if a person
  releases it.
- **money at risk**: what the campaign set out to take (`campaigns.jsonl`), for scale;
  a campaign cut off by the end of the window may never try it all.
- a **stop** is a labelled event that would otherwise have gone through and did not
  (a failed password guess is not a stop: it failed by itself). **Time to first stop**
  counts from the campaign's first event.
- a campaign's outcome: `stopped` (tried, nothing left), `partly` (some left),
  `missed` (everything tried left), `no_cash_out` (no cash-out attempt in the window).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from walletguard.evaluate.observe import STOPPED, Observation
from walletguard.evaluate.truth import GroundTruth
from walletguard.events.model import EventType

CASH_OUT_TYPES = frozenset({EventType.WITHDRAWAL, EventType.PAYMENT})


@dataclass
class CampaignOutcome:
    campaign_id: str
    typology: str
    started_at: datetime
    events: int
    money_at_risk: int
    tried: int
    left: int
    first_stop: datetime | None
    first_stop_event: str | None
    detected: bool
    """Any labelled event at medium risk or above, or stopped."""

    @property
    def stopped_money(self) -> int:
        return self.tried - self.left

    @property
    def outcome(self) -> str:
        if self.tried == 0:
            return "no_cash_out"
        if self.left == 0:
            return "stopped"
        return "partly" if self.left < self.tried else "missed"

    @property
    def minutes_to_first_stop(self) -> float | None:
        if self.first_stop is None:
            return None
        return max(0.0, (self.first_stop - self.started_at).total_seconds() / 60)


@dataclass
class TypologyResult:
    typology: str
    campaigns: int = 0
    detected: int = 0
    cash_out_attempted: int = 0
    stopped: int = 0
    partly: int = 0
    missed: int = 0
    no_cash_out: int = 0
    labelled_events: int = 0
    money_at_risk: int = 0
    tried: int = 0
    left: int = 0
    minutes_to_first_stop: list[float] = field(default_factory=list)

    @property
    def stopped_money(self) -> int:
        return self.tried - self.left

    @property
    def share_stopped(self) -> float | None:
        """Share of the money tried that did not leave (None when nothing was tried)."""
        return None if self.tried == 0 else 1 - self.left / self.tried

    @property
    def median_minutes_to_stop(self) -> float | None:
        times = self.minutes_to_first_stop
        return statistics.median(times) if times else None

    @property
    def p90_minutes_to_stop(self) -> float | None:
        times = sorted(self.minutes_to_first_stop)
        if not times:
            return None
        return times[min(len(times) - 1, int(0.9 * len(times)))]


def campaign_outcomes(
    observations: Sequence[Observation], truth: GroundTruth
) -> list[CampaignOutcome]:
    """One outcome per campaign in the ground truth (and per campaign id seen only in the
    labels), in order of start."""
    by_campaign: dict[str, list[Observation]] = {}
    for o in observations:
        if o.label is not None:
            by_campaign.setdefault(o.label.campaign_id, []).append(o)
    outcomes = []
    ids = list(truth.campaigns) + [c for c in by_campaign if c not in truth.campaigns]
    for campaign_id in ids:
        events = by_campaign.get(campaign_id, [])
        record = truth.campaigns.get(campaign_id)
        if record is None and not events:
            continue
        typology = record.typology if record else events[0].label.typology  # type: ignore[union-attr]
        started = record.started_at if record else min(o.at for o in events)
        cash_outs = [o for o in events if o.type in CASH_OUT_TYPES]
        stops = [o for o in events if o.outcome in STOPPED and not o.auth_failed]
        first = min(stops, key=lambda o: o.at) if stops else None
        outcomes.append(
            CampaignOutcome(
                campaign_id=campaign_id,
                typology=typology,
                started_at=started,
                events=len(events),
                money_at_risk=record.money_at_risk if record else 0,
                tried=sum(o.amount for o in cash_outs),
                left=sum(o.amount for o in cash_outs if o.went_through),
                first_stop=first.at if first else None,
                first_stop_event=first.event_id if first else None,
                detected=bool(stops) or any(o.level_rank >= 2 for o in events),
            )
        )
    outcomes.sort(key=lambda c: (c.started_at, c.campaign_id))
    return outcomes


def by_typology(
    outcomes: Sequence[CampaignOutcome], typologies: Sequence[str]
) -> list[TypologyResult]:
    """Aggregate campaign outcomes per typology (every typology named, even without
    campaigns)."""
    results = {t: TypologyResult(t) for t in typologies}
    for c in outcomes:
        r = results.setdefault(c.typology, TypologyResult(c.typology))
        r.campaigns += 1
        r.detected += c.detected
        r.labelled_events += c.events
        r.money_at_risk += c.money_at_risk
        r.tried += c.tried
        r.left += c.left
        kind = c.outcome
        if kind != "no_cash_out":
            r.cash_out_attempted += 1
        setattr(r, kind, getattr(r, kind) + 1)
        minutes = c.minutes_to_first_stop
        if minutes is not None:
            r.minutes_to_first_stop.append(minutes)
    return list(results.values())
