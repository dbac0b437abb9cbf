"""The operating metrics a wallet risk team watches, over the simulated window.

- **new-account anomaly rate**: of the accounts opened in the window, the share with at
  least one event at medium risk or above, or stopped.
- **top-up anomaly ratio**: of the top-ups requested in the window, the share flagged:
  the request or its confirmation at medium risk or above or stopped, or the ledger
  holding the top-up as suspected fake (a forged confirmation, reconciliation).
- **withdrawal anomaly ratio**: of the withdrawals, the share at medium risk or above
  or stopped.
- **chargeback rate**: confirmed top-ups that come back as chargebacks, over confirmed
  top-ups (count and amount): `chargeback` events in the stream, plus labelled top-ups
  paid with stolen cards that went through (their owners dispute them after the run).
- **appeal rate**: appeals opened over accounts that were restricted, frozen or locked.
- **mean time to unlock**: how long an account stayed restricted, frozen or locked
  until it could act again — a lock-out until its end, a freeze or restriction until a
  person lifted it; episodes still running when the run ended are counted apart.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from walletguard.evaluate.observe import STOPPED, Observation
from walletguard.evaluate.ports import AppealFact, StateChange
from walletguard.events.model import EventType

RESTRICTED_STATES = frozenset({"restricted", "frozen", "locked"})
STOLEN_CARD_TYPOLOGIES = frozenset({"card_testing"})


@dataclass
class Operating:
    new_accounts: int = 0
    new_accounts_flagged: int = 0
    topups: int = 0
    topups_flagged: int = 0
    withdrawals: int = 0
    withdrawals_flagged: int = 0
    confirmed_topups: int = 0
    confirmed_topup_amount: int = 0
    chargebacks: int = 0
    chargeback_amount: int = 0
    restricted_accounts: int = 0
    appeals: int = 0
    appeals_resolved: int = 0
    unlock_hours: list[float] | None = None
    lockout_hours: list[float] | None = None
    still_restricted: int = 0

    @property
    def new_account_anomaly_rate(self) -> float:
        return _ratio(self.new_accounts_flagged, self.new_accounts)

    @property
    def topup_anomaly_ratio(self) -> float:
        return _ratio(self.topups_flagged, self.topups)

    @property
    def withdrawal_anomaly_ratio(self) -> float:
        return _ratio(self.withdrawals_flagged, self.withdrawals)

    @property
    def chargeback_rate(self) -> float:
        return _ratio(self.chargebacks, self.confirmed_topups)

    @property
    def chargeback_amount_rate(self) -> float:
        return _ratio(self.chargeback_amount, self.confirmed_topup_amount)

    @property
    def appeal_rate(self) -> float:
        return _ratio(self.appeals, self.restricted_accounts)

    @property
    def mean_hours_to_unlock(self) -> float | None:
        hours = (self.unlock_hours or []) + (self.lockout_hours or [])
        return statistics.fmean(hours) if hours else None


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _flagged(o: Observation) -> bool:
    return o.level_rank >= 2 or o.outcome in STOPPED


def operating_metrics(
    observations: Sequence[Observation],
    *,
    state_changes: Sequence[StateChange],
    appeals: Sequence[AppealFact],
    suspected_topups: set[str],
    lockouts: Sequence[tuple[str, datetime, datetime]],
    window: tuple[datetime, datetime] | None,
    ended_at: datetime | None,
) -> Operating:
    """`lockouts`: (account, locked at, locked until) from the decisions that locked."""
    m = Operating()
    scope = [o for o in observations if o.in_window]
    opened = {o.account_id for o in scope if o.type is EventType.REGISTER}
    flagged_accounts = {o.account_id for o in scope if o.account_id in opened and _flagged(o)}
    m.new_accounts, m.new_accounts_flagged = len(opened), len(flagged_accounts)

    confirmations: dict[str, Observation] = {}
    for o in scope:
        if o.type is EventType.TOPUP_CONFIRMATION and o.channel_ref is not None:
            confirmations.setdefault(o.channel_ref, o)
            if o.went_through:
                m.confirmed_topups += 1
                m.confirmed_topup_amount += o.amount
                if o.label is not None and o.label.typology in STOLEN_CARD_TYPOLOGIES:
                    m.chargebacks += 1
                    m.chargeback_amount += o.amount
        elif o.type is EventType.CHARGEBACK:
            m.chargebacks += 1
            m.chargeback_amount += o.amount
    for o in scope:
        if o.type is EventType.TOPUP:
            m.topups += 1
            confirmation = confirmations.get(o.channel_ref or "")
            if (
                _flagged(o)
                or o.event_id in suspected_topups
                or (confirmation is not None and _flagged(confirmation))
            ):
                m.topups_flagged += 1
        elif o.type is EventType.WITHDRAWAL:
            m.withdrawals += 1
            m.withdrawals_flagged += _flagged(o)

    start = window[0] if window else None
    restricted: set[str] = set()
    since: dict[str, datetime] = {}
    hours: list[float] = []
    for change in state_changes:
        if start is not None and change.at < start:
            continue
        if change.to_state in ("restricted", "frozen"):
            restricted.add(change.account_id)
            since.setdefault(change.account_id, change.at)
        elif change.to_state == "active" and change.account_id in since:
            began = since.pop(change.account_id)
            hours.append((change.at - began).total_seconds() / 3600)
    lock_hours = []
    for account, locked_at, until in lockouts:
        if start is not None and locked_at < start:
            continue
        restricted.add(account)
        if ended_at is None or until <= ended_at:
            lock_hours.append((until - locked_at).total_seconds() / 3600)
        else:
            m.still_restricted += 1
    m.restricted_accounts = len(restricted)
    m.unlock_hours, m.lockout_hours = hours, lock_hours
    m.still_restricted += len(since)
    in_scope = [a for a in appeals if start is None or a.opened_at >= start]
    m.appeals = len(in_scope)
    m.appeals_resolved = sum(a.resolved_at is not None for a in in_scope)
    return m
