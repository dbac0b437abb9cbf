"""What a simulation run is made of: its size, its seed and how often each attack happens.

A `SimConfig` plus its seed fully determines a run: the same config gives
byte-identical outputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from walletguard.kernel.errors import WalletguardError

TYPOLOGIES: tuple[str, ...] = (
    "account_takeover",
    "sim_swap",
    "fake_topup",
    "card_testing",
    "mule_ring",
    "cs_scam",
    "reset_abuse",
    "corporate_binding",
)
"""Every attack typology the simulator knows, by its label name."""

DEFAULT_RATES: dict[str, float] = {
    "account_takeover": 1.0,
    "sim_swap": 0.3,
    "fake_topup": 0.5,
    "card_testing": 0.4,
    "mule_ring": 0.3,
    "cs_scam": 0.6,
    "reset_abuse": 0.4,
    "corporate_binding": 0.2,
}
"""Campaigns started per simulated day per 10,000 users, before `attack_rate` scales them."""

DEFAULT_START = "2025-01-06T00:00:00Z"
MAX_USERS = 5_000_000
MAX_DAYS = 3650


class SimConfigError(WalletguardError):
    """A simulation setting that makes no sense (negative size, unknown typology...)."""

    code = "invalid_simulation_config"


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Everything that shapes a run. Rates are per simulated day.

    `attack_rate` multiplies every typology's rate (0 disables attacks); `rates`
    overrides single typologies (campaigns per day per 10,000 users, before scaling).
    `noise` multiplies the rare-but-legit behaviours (new phone, travel, forgotten
    password, statement exceptions); 0 makes normal life perfectly boring.
    """

    seed: int = 1
    users: int = 1000
    days: int = 7
    start: str = DEFAULT_START
    attack_rate: float = 1.0
    rates: Mapping[str, float] = field(default_factory=dict)
    new_user_share: float = 0.03
    foreign_share: float = 0.08
    merchants: int | None = None
    agents: int | None = None
    noise: float = 1.0
    fraud_report_rate: float = 0.4
    missing_credit_rate: float = 0.0005
    amount_mismatch_rate: float = 0.0005

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise `SimConfigError` naming the first setting that is out of range."""
        _check_int("seed", self.seed, 0, 2**63 - 1)
        _check_int("users", self.users, 10, MAX_USERS)
        _check_int("days", self.days, 1, MAX_DAYS)
        self.start_ts  # noqa: B018 - parses and so checks `start`
        for name in ("attack_rate", "noise"):
            _check_number(name, getattr(self, name), 0.0, 1000.0)
        for name in (
            "new_user_share",
            "foreign_share",
            "fraud_report_rate",
            "missing_credit_rate",
            "amount_mismatch_rate",
        ):
            _check_number(name, getattr(self, name), 0.0, 1.0)
        for name, value in self.rates.items():
            if name not in TYPOLOGIES:
                raise SimConfigError(f"unknown typology {name!r} (known: {', '.join(TYPOLOGIES)})")
            _check_number(f"rate of {name}", value, 0.0, 100_000.0)
        if self.merchants is not None:
            _check_int("merchants", self.merchants, 1, MAX_USERS)
        if self.agents is not None:
            _check_int("agents", self.agents, 0, MAX_USERS)

    @property
    def start_ts(self) -> int:
        """The start of the simulated window as POSIX seconds (whole seconds, UTC)."""
        try:
            moment = datetime.fromisoformat(self.start.replace("Z", "+00:00"))
        except (ValueError, AttributeError):
            raise SimConfigError(f"start {self.start!r} is not an RFC 3339 time") from None
        if moment.tzinfo is None:
            raise SimConfigError(f"start {self.start!r} needs a UTC offset, e.g. 'Z'")
        return int(moment.astimezone(UTC).timestamp())

    @property
    def end_ts(self) -> int:
        """The end of the simulated window (exclusive)."""
        return self.start_ts + self.days * 86400

    def rate(self, typology: str) -> float:
        """Campaigns of `typology` per simulated day for this population, after scaling."""
        base = self.rates.get(typology, DEFAULT_RATES[typology])
        return base * self.attack_rate * self.users / 10_000

    @property
    def merchant_count(self) -> int:
        return self.merchants if self.merchants is not None else max(30, self.users // 40)

    @property
    def agent_count(self) -> int:
        return self.agents if self.agents is not None else max(2, self.users // 2000)

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON-able data (rates fully spelled out)."""
        data = asdict(self)
        data["rates"] = {t: self.rates.get(t, DEFAULT_RATES[t]) for t in TYPOLOGIES}
        return data

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SimConfig:
        """Build a config from parsed YAML / JSON; unknown keys are an error."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise SimConfigError(f"unknown setting(s): {', '.join(unknown)}")
        values = dict(data)
        if "rates" in values:
            rates = values["rates"]
            if not isinstance(rates, Mapping):
                raise SimConfigError("rates must map typology names to numbers")
            values["rates"] = dict(rates)
        try:
            return cls(**values)
        except TypeError as exc:
            raise SimConfigError(str(exc)) from None


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SimConfigError(f"{name} must be a whole number from {low:,} to {high:,}")


def _check_number(name: str, value: object, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise SimConfigError(f"{name} must be a number from {low:g} to {high:g}")
