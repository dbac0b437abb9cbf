"""The ledger's configuration: limits, withdrawal approvals, top-up deadlines,
reconciliation tolerances and statement formats, read from YAML."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from walletguard.kernel.clock import LONGEST_DURATION
from walletguard.kernel.errors import ConfigurationError
from walletguard.kernel.money import AmountError, parse_amount, to_units
from walletguard.kernel.strict_yaml import load_yaml

OPERATIONS = ("transfer", "payment", "withdrawal")
STATEMENT_FIELDS = ("channel_ref", "amount", "currency", "merchant_no", "settled_at")


@dataclass(frozen=True, slots=True)
class PeriodLimits:
    """Ceilings in units; None means no ceiling of that kind."""

    per_transaction: int | None = None
    daily: int | None = None
    monthly: int | None = None


@dataclass(frozen=True, slots=True)
class StatementFormat:
    """How one channel writes its statement CSV."""

    columns: dict[str, str]
    """Our field (channel_ref, amount, currency, merchant_no, settled_at) → its column."""
    delimiter: str = ","
    amount_unit: str = "major"
    """`major` (decimal string, "12.50") or `minor` (integer hundredths, "1250")."""
    time_format: str | None = None
    """A `strptime` format; None means RFC 3339."""
    timezone: str | None = None
    """Offset such as `+08:00` for times written without one."""
    per_merchant: bool = False
    """The channel sends one statement per merchant: a statement judges only the top-ups
    of the merchants its lines name (otherwise it judges every top-up of the channel)."""


@dataclass(frozen=True, slots=True)
class LedgerSettings:
    default_tier: str = "standard"
    tiers: dict[str, dict[str, PeriodLimits]] = field(default_factory=dict)
    counterparty: PeriodLimits = PeriodLimits()
    counterparty_overrides: dict[str, PeriodLimits] = field(default_factory=dict)
    one_approver_above: int | None = None
    two_approvers_above: int | None = None
    approval_hold_expiry: timedelta = timedelta(hours=72)
    topup_confirm_within: timedelta = timedelta(hours=24)
    amount_tolerance: int = 0
    time_drift: timedelta = timedelta(minutes=60)
    formats: dict[str, StatementFormat] = field(default_factory=dict)

    def limits_for(self, tier: str, operation: str) -> PeriodLimits:
        by_operation = self.tiers.get(tier) or self.tiers.get(self.default_tier) or {}
        return by_operation.get(operation, PeriodLimits())

    def counterparty_limits(self, counterparty: str) -> PeriodLimits:
        return self.counterparty_overrides.get(counterparty, self.counterparty)

    def approvers_needed(self, amount: int) -> int:
        """How many people must approve releasing a withdrawal of `amount` units."""
        if self.two_approvers_above is not None and amount > self.two_approvers_above:
            return 2
        if self.one_approver_above is not None and amount > self.one_approver_above:
            return 1
        return 0

    def names_channel(self, channel: str) -> bool:
        """Whether a statement format is configured under this channel's own name."""
        return channel in self.formats and channel != DEFAULT_FORMAT

    def statement_format(self, channel: str) -> StatementFormat:
        found = self.formats.get(channel) or self.formats.get(DEFAULT_FORMAT)
        if found is None:
            raise ConfigurationError(f"no statement format for channel {channel!r} nor a default")
        return found


DEFAULT_FORMAT = "default"
"""The statement format of every channel that has none under its own name."""


def default_ledger_text() -> str:
    return resources.files("walletguard.ledger").joinpath("default_ledger.yaml").read_text()


def load_ledger_settings(path: Path | None = None) -> LedgerSettings:
    """The configuration in `path`, else `$WALLETGUARD_LEDGER_CONFIG`, else the default."""
    configured = path or (Path(p) if (p := os.environ.get("WALLETGUARD_LEDGER_CONFIG")) else None)
    if configured is None:
        return parse_ledger_settings(default_ledger_text(), "default ledger configuration")
    try:
        text = configured.read_text()
    except OSError as exc:
        raise ConfigurationError(f"cannot read {configured}: {exc.strerror}") from None
    return parse_ledger_settings(text, str(configured))


def parse_ledger_settings(text: str, source: str) -> LedgerSettings:
    """Parse and check a ledger configuration; errors name the place that is wrong."""
    doc = load_yaml(text, source) or {}
    reader = _Reader(source)
    root = reader.mapping(doc, "")
    limits = reader.mapping(root.get("limits", {}), "limits")
    tiers: dict[str, dict[str, PeriodLimits]] = {}
    for tier, operations in reader.mapping(limits.get("tiers", {}), "limits.tiers").items():
        where = f"limits.tiers.{tier}"
        by_operation = {}
        for operation, values in reader.mapping(operations, where).items():
            if operation not in OPERATIONS:
                reader.fail(f"{where}.{operation}", f"operation must be one of {OPERATIONS}")
            by_operation[operation] = reader.period(values, f"{where}.{operation}")
        tiers[str(tier)] = by_operation
    default_tier = str(limits.get("default_tier", "standard"))
    if tiers and default_tier not in tiers:
        reader.fail("limits.default_tier", f"{default_tier!r} is not one of the tiers")
    counterparty = reader.mapping(limits.get("counterparty", {}), "limits.counterparty")
    overrides = reader.mapping(counterparty.get("overrides", {}), "limits.counterparty.overrides")
    approvals = reader.mapping(
        reader.mapping(root.get("approvals", {}), "approvals").get("withdrawal", {}),
        "approvals.withdrawal",
    )
    one = reader.amount(
        approvals.get("one_approver_above"), "approvals.withdrawal.one_approver_above"
    )
    two = reader.amount(
        approvals.get("two_approvers_above"), "approvals.withdrawal.two_approvers_above"
    )
    if one is not None and two is not None and two < one:
        reader.fail("approvals.withdrawal", "two_approvers_above is below one_approver_above")
    topups = reader.mapping(root.get("topups", {}), "topups")
    recon = reader.mapping(root.get("reconciliation", {}), "reconciliation")
    formats = {
        str(name): reader.statement_format(spec, f"reconciliation.formats.{name}")
        for name, spec in reader.mapping(recon.get("formats", {}), "reconciliation.formats").items()
    }
    return LedgerSettings(
        default_tier=default_tier,
        tiers=tiers,
        counterparty=reader.period(counterparty.get("default", {}), "limits.counterparty.default"),
        counterparty_overrides={
            str(k): reader.period(v, f"limits.counterparty.overrides.{k}")
            for k, v in overrides.items()
        },
        one_approver_above=one,
        two_approvers_above=two,
        approval_hold_expiry=timedelta(
            hours=reader.number(
                approvals.get("hold_expiry_hours", 72),
                "approvals.withdrawal.hold_expiry_hours",
                most=_TEN_YEARS_HOURS,
            )
        ),
        topup_confirm_within=timedelta(
            hours=reader.number(
                topups.get("confirm_within_hours", 24),
                "topups.confirm_within_hours",
                most=_TEN_YEARS_HOURS,
            )
        ),
        amount_tolerance=reader.amount(
            recon.get("amount_tolerance", "0"), "reconciliation.amount_tolerance"
        )
        or 0,
        time_drift=timedelta(
            minutes=reader.number(
                recon.get("time_drift_minutes", 60),
                "reconciliation.time_drift_minutes",
                most=_TEN_YEARS_HOURS * 60,
            )
        ),
        formats=formats,
    )


_TEN_YEARS_HOURS = LONGEST_DURATION.total_seconds() / 3600


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> None:
        raise ConfigurationError(f"{self.source}: {where or 'top level'}: {problem}")

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(where, "expected a mapping")
        return value  # type: ignore[no-any-return]

    def amount(self, value: Any, where: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, float):
            self.fail(where, 'write amounts as quoted decimal strings, e.g. "5000.00"')
        try:
            return to_units(parse_amount(str(value)))
        except AmountError as exc:
            self.fail(where, str(exc))
        raise AssertionError  # unreachable: fail raises

    def number(self, value: Any, where: str, *, most: float) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            self.fail(where, "expected a non-negative number")
        if not math.isfinite(value) or value > most:
            self.fail(where, f"expected a number no larger than {most:g}")
        return float(value)

    def period(self, value: Any, where: str) -> PeriodLimits:
        values = self.mapping(value, where)
        unknown = set(values) - {"per_transaction", "daily", "monthly"}
        if unknown:
            self.fail(where, f"unknown keys {sorted(unknown)} (per_transaction, daily, monthly)")
        return PeriodLimits(
            per_transaction=self.amount(values.get("per_transaction"), f"{where}.per_transaction"),
            daily=self.amount(values.get("daily"), f"{where}.daily"),
            monthly=self.amount(values.get("monthly"), f"{where}.monthly"),
        )

    def statement_format(self, value: Any, where: str) -> StatementFormat:
        spec = self.mapping(value, where)
        columns = {
            str(k): str(v) for k, v in self.mapping(spec.get("columns"), f"{where}.columns").items()
        }
        missing = [f for f in STATEMENT_FIELDS if f != "merchant_no" and f not in columns]
        if missing:
            self.fail(f"{where}.columns", f"missing {missing}")
        unit = str(spec.get("amount_unit", "major"))
        if unit not in ("major", "minor"):
            self.fail(f"{where}.amount_unit", "expected major or minor")
        delimiter = str(spec.get("delimiter", ","))
        if len(delimiter) != 1:
            self.fail(f"{where}.delimiter", "expected one character")
        per_merchant = spec.get("per_merchant", False)
        if not isinstance(per_merchant, bool):
            self.fail(f"{where}.per_merchant", "expected true or false")
        if per_merchant and "merchant_no" not in columns:
            self.fail(f"{where}.per_merchant", "needs a merchant_no column")
        return StatementFormat(
            columns=columns,
            delimiter=delimiter,
            amount_unit=unit,
            time_format=spec.get("time_format"),
            timezone=spec.get("timezone"),
            per_merchant=per_merchant,
        )
