"""Limits on money going out: per transaction, per day and per month, by operation and
account tier, and per counterparty.

Usage is counted in calendar periods of UTC (day `D2026-03-02`, month `M2026-03`) by the
time of the operation, when money is committed: a posting, or a hold placed for it
(voiding the hold gives the usage back). The check and the count happen in the same unit
of work as the posting, after the source balance row is locked, so two concurrent
operations cannot both squeeze under a limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Protocol

from walletguard.kernel.errors import Refused
from walletguard.kernel.money import format_amount, from_units
from walletguard.ledger.settings import LedgerSettings, PeriodLimits


class LimitUsageRepository(Protocol):
    def limit_usage(self, account: str, scope: str, period: str, currency: str) -> int:
        """Units used so far (0 when nothing was)."""

    def add_limit_usage(
        self, account: str, scope: str, period: str, currency: str, delta: int
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class LimitedOperation:
    """Money leaving `account` that limits apply to."""

    account: str
    operation: str
    """transfer, payment or withdrawal."""
    counterparty: str | None
    tier: str
    currency: str
    amount: int
    at: datetime


@lru_cache(maxsize=4096)
def _period_keys(year: int, month_: int, day_: int) -> tuple[str, str]:
    return f"D{year:04d}-{month_:02d}-{day_:02d}", f"M{year:04d}-{month_:02d}"


def periods(at: datetime) -> tuple[str, str]:
    """The day and month keys `at` counts in (its UTC calendar day and month)."""
    at = at.astimezone(UTC) if at.tzinfo is not UTC else at
    return _period_keys(at.year, at.month, at.day)


def day(at: datetime) -> str:
    return periods(at)[0]


def month(at: datetime) -> str:
    return periods(at)[1]


def _windows(
    settings: LedgerSettings, op: LimitedOperation
) -> list[tuple[str, str, str, PeriodLimits, str]]:
    """(scope, label, subject, limits, tier note) for every limit that applies."""
    found = [
        (
            "op:" + op.operation,
            op.operation,
            op.operation,
            settings.limits_for(op.tier, op.operation),
            f" (tier {op.tier})",
        )
    ]
    if op.counterparty is not None:
        found.append(
            (
                "cp:" + op.counterparty,
                "counterparty",
                f"to {op.counterparty}",
                settings.counterparty_limits(op.counterparty),
                "",
            )
        )
    return found


def check_limits(
    repo: LimitUsageRepository, settings: LedgerSettings, op: LimitedOperation
) -> None:
    """Raise `Refused` naming the first limit `op` would break (code `LIMIT_<KIND>_<SCOPE>`,
    e.g. `LIMIT_DAILY_WITHDRAWAL`), with the limit and what is already used."""
    today, this_month = periods(op.at)
    for scope, label, subject, limits, note in _windows(settings, op):
        if limits.per_transaction is not None and op.amount > limits.per_transaction:
            raise Refused(
                f"{_money(op.amount, op.currency)} is above the per-transaction {subject} limit "
                f"of {_money(limits.per_transaction, op.currency)}{note}",
                reason_code=f"LIMIT_PER_TRANSACTION_{label.upper()}",
            )
        for kind, ceiling, period, when in (
            ("daily", limits.daily, today, "today"),
            ("monthly", limits.monthly, this_month, "this month"),
        ):
            if ceiling is None:
                continue
            used = repo.limit_usage(op.account, scope, period, op.currency)
            if used + op.amount > ceiling:
                raise Refused(
                    f"the {kind} {subject} limit of {_money(ceiling, op.currency)}{note} would "
                    f"be exceeded: {_money(used, op.currency)} used {when}, "
                    f"{_money(op.amount, op.currency)} more asked",
                    reason_code=f"LIMIT_{kind.upper()}_{label.upper()}",
                )


def count_usage(
    repo: LimitUsageRepository, settings: LedgerSettings, op: LimitedOperation, *, sign: int = 1
) -> None:
    """Add (`sign` 1) or give back (−1) `op.amount` to every period it counts in."""
    today, this_month = periods(op.at)
    for scope, _, _, limits, _ in _windows(settings, op):
        if limits.daily is not None:
            repo.add_limit_usage(op.account, scope, today, op.currency, sign * op.amount)
        if limits.monthly is not None:
            repo.add_limit_usage(op.account, scope, this_month, op.currency, sign * op.amount)


def _money(units: int, currency: str) -> str:
    return f"{format_amount(from_units(units))} {currency}"
