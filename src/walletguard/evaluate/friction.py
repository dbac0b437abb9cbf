"""Friction on legitimate users.

A **legitimate user** is an account with at least one unlabelled event in the window
that no campaign operates (attackers' and mules' wallets are out; victims, targets of
credential stuffing and cash agents are in). Only their unlabelled events count: an
attacker's sign-in being refused is not friction on its victim, but the victim's own
payment refused because the account was frozen is.

- **challenged**: a risk challenge (risk medium or above; the routine check of a
  password reset is not friction); **held**: a `review` decision; **blocked**: a
  `block`, or a challenge whose step-up failed.
- **legitimate money movements**: unlabelled top-ups, transfers, payments and
  withdrawals in the window; the blocked share is measured against them.
- blocks are split by what decided them: **risk control** (rules, step-ups, the freezes
  and restrictions risk decisions put on accounts) or the **ledger's business rules**
  (the wallet's limits, insufficient funds) — a payment over the wallet's
  per-transaction limit is refused whatever its risk, so it is reported, but it is not
  something a ruleset can tune. The target is on blocks by risk control.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from walletguard.evaluate.observe import Observation
from walletguard.evaluate.truth import GroundTruth
from walletguard.events.model import EventType

LEDGER_REFUSALS = frozenset({"INSUFFICIENT_FUNDS"})
LEDGER_REFUSAL_PREFIXES = ("LIMIT_",)


def refused_by_ledger(code: str) -> bool:
    """A refusal by the wallet's business rules rather than by risk control."""
    return code in LEDGER_REFUSALS or code.startswith(LEDGER_REFUSAL_PREFIXES)


MONEY_MOVEMENTS = frozenset(
    {EventType.TOPUP, EventType.TRANSFER, EventType.PAYMENT, EventType.WITHDRAWAL}
)


@dataclass
class Friction:
    users: int = 0
    bystanders: int = 0
    """Legitimate users no campaign touched."""
    challenged: int = 0
    held: int = 0
    blocked: int = 0
    challenged_or_held: int = 0
    bystanders_challenged_or_held: int = 0
    events: int = 0
    events_challenged: int = 0
    events_held: int = 0
    events_blocked: int = 0
    money_movements: int = 0
    money_movements_blocked: int = 0
    money_movements_held: int = 0
    money_movements_refused_by_ledger: int = 0
    block_reasons: Counter[str] = field(default_factory=Counter)
    """Why legitimate events were blocked (the decisive reason code)."""
    challenge_reasons: Counter[str] = field(default_factory=Counter)
    hold_reasons: Counter[str] = field(default_factory=Counter)

    @property
    def share_challenged_or_held(self) -> float:
        return self.challenged_or_held / self.users if self.users else 0.0

    @property
    def share_money_blocked(self) -> float:
        """Every block, the ledger's refusals included."""
        return self.money_movements_blocked / self.money_movements if self.money_movements else 0.0

    @property
    def money_movements_blocked_by_risk(self) -> int:
        return self.money_movements_blocked - self.money_movements_refused_by_ledger

    @property
    def share_money_blocked_by_risk(self) -> float:
        """Blocks by risk control: what the target is about."""
        moved = self.money_movements
        return self.money_movements_blocked_by_risk / moved if moved else 0.0

    @property
    def share_challenged(self) -> float:
        return self.challenged / self.users if self.users else 0.0

    @property
    def share_held(self) -> float:
        return self.held / self.users if self.users else 0.0

    @property
    def share_blocked(self) -> float:
        return self.blocked / self.users if self.users else 0.0


def friction(observations: Sequence[Observation], truth: GroundTruth) -> Friction:
    """Friction over the window's unlabelled events of legitimate users."""
    fraudsters = truth.fraudster_accounts
    touched = truth.campaign_accounts
    result = Friction()
    users: set[str] = set()
    challenged: set[str] = set()
    held: set[str] = set()
    blocked: set[str] = set()
    for o in observations:
        if o.label is not None or not o.in_window or o.account_id in fraudsters:
            continue
        users.add(o.account_id)
        result.events += 1
        is_money = o.type in MONEY_MOVEMENTS
        result.money_movements += is_money
        if o.risk_challenge:
            challenged.add(o.account_id)
            result.events_challenged += 1
            result.challenge_reasons[o.decisive_reason] += 1
        if o.outcome == "held":
            held.add(o.account_id)
            result.events_held += 1
            result.money_movements_held += is_money
            result.hold_reasons[o.decisive_reason] += 1
        if o.outcome in ("blocked", "failed"):
            blocked.add(o.account_id)
            result.events_blocked += 1
            result.money_movements_blocked += is_money
            if is_money and refused_by_ledger(o.decisive_reason):
                result.money_movements_refused_by_ledger += 1
            result.block_reasons[o.decisive_reason] += 1
    result.users = len(users)
    result.bystanders = len(users - touched)
    result.challenged = len(challenged)
    result.held = len(held)
    result.blocked = len(blocked)
    result.challenged_or_held = len(challenged | held)
    result.bystanders_challenged_or_held = len((challenged | held) - touched)
    return result
