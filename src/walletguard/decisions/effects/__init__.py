"""What a decision does to the world, one domain per module.

Each stage has `guard(ctx, outcome)` (may refuse the operation, changes nothing)
and `apply(ctx, outcome)` (stages its changes in the unit of work, with audit
records). The engine runs every guard, then every apply, in the order the
composition root gives.
"""

from __future__ import annotations

from typing import Protocol

from walletguard.decisions.context import DecisionContext
from walletguard.decisions.outcome import Outcome


class Stage(Protocol):
    def guard(self, ctx: DecisionContext, out: Outcome) -> None: ...

    def apply(self, ctx: DecisionContext, out: Outcome) -> None: ...
