"""Risk levels, shared by rules (floors) and the policy (thresholds)."""

from __future__ import annotations

from enum import StrEnum


class RiskLevel(StrEnum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: RiskLevel) -> RiskLevel:
        """The higher of the two levels."""
        return self if self.rank >= other.rank else other


_RANK = {level: i for i, level in enumerate(RiskLevel)}
