"""What the evaluation reads from the store once a run is over (adapters in
`storage/repositories/evaluation.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StateChange:
    account_id: str
    from_state: str
    to_state: str
    at: datetime
    actor: str


@dataclass(frozen=True, slots=True)
class AppealFact:
    account_id: str
    restriction: str
    opened_at: datetime
    resolved_at: datetime | None
    result: str | None


class RunFacts(Protocol):
    def rule_hits(self) -> Iterator[tuple[str, str, str]]:
        """(event id, rule id, mode) for every rule that fired, from the decision traces."""

    def state_changes(self) -> list[StateChange]:
        """Every account state change, in order."""

    def appeals(self) -> list[AppealFact]: ...

    def suspected_topups(self) -> set[str]:
        """Request event ids of top-ups the ledger holds as suspected fake."""

    def case_counts(self) -> dict[str, int]:
        """Cases by status, and `alerts`: how many alerts were raised."""
