"""The shared state of a run: population, balances, ids, and where side outputs go.

Everything here is touched only by the actor whose turn it is, in time order, so
state read at an event's instant reflects every event before it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from walletguard.simulate.config import SimConfig
from walletguard.simulate.events import EventFactory
from walletguard.simulate.ids import IdMint
from walletguard.simulate.population import Population, User, build_population


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One settled payment on a channel's statement (amount in cents)."""

    channel: str
    channel_ref: str
    cents: int
    currency: str
    merchant_no: str
    settled_at: int


@dataclass(frozen=True, slots=True)
class Expected:
    """A difference between a channel statement and the wallet's events that a
    reconciliation should find. Amounts in cents; None where one side has nothing."""

    channel: str
    channel_ref: str
    kind: str  # missing_credit | amount_mismatch | not_settled
    wallet_cents: int | None
    statement_cents: int | None
    event_id: str | None


def _ignore(_: Any) -> None:
    return None


class World:
    """One run's population, id mint, event factory, random stream for normal life and sinks."""

    def __init__(
        self,
        config: SimConfig,
        *,
        on_statement: Callable[[StatementLine], None] = _ignore,
        on_expected: Callable[[Expected], None] = _ignore,
        on_campaign: Callable[[dict[str, Any]], None] = _ignore,
    ) -> None:
        self.config = config
        self.start = config.start_ts
        self.end = config.end_ts
        self.ids = IdMint(config.seed)
        self.make = EventFactory(self.ids)
        self.population: Population = build_population(config, self.ids)
        self.users = self.population.users
        self.rng = random.Random(f"{config.seed}:life")
        self.on_statement = on_statement
        self.on_expected = on_expected
        self.on_campaign = on_campaign
        self.busy: set[int] = set()
        """Users currently in an attack campaign (as victims), so two campaigns never share one."""

    def settle(self, line: StatementLine) -> None:
        self.on_statement(line)

    def expect(self, difference: Expected) -> None:
        self.on_expected(difference)

    def pick_victim(
        self, rng: random.Random, now: int, *, min_balance: int = 0, country: str | None = None
    ) -> User | None:
        """A user who already has a wallet, is in no other campaign and (if possible) has money."""
        best: User | None = None
        for _ in range(60):
            user = self.users[rng.randrange(len(self.users))]
            if user.index in self.busy or user.joined_at > now - 86400:
                continue
            if country is not None and user.country != country:
                continue
            if user.balance >= min_balance:
                return user
            if best is None or user.balance > best.balance:
                best = user
        return best
