"""Per-rule precision from case outcomes: of the labelled events a rule fired on, how many
were confirmed fraud. Inconclusive outcomes count for neither side."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from walletguard.cases.model import Label


@dataclass
class RulePrecision:
    rule: str
    fraud: int = 0
    legit: int = 0
    unknown: int = 0

    @property
    def labelled(self) -> int:
        return self.fraud + self.legit

    @property
    def precision(self) -> float | None:
        """fraud / (fraud + legit), or None before any decisive outcome."""
        return self.fraud / self.labelled if self.labelled else None


def rule_precision(labels: Iterable[Label]) -> list[RulePrecision]:
    """One line per rule that fired on a labelled event, most decisive evidence first."""
    by_rule: dict[str, RulePrecision] = {}
    for label in labels:
        for rule in dict.fromkeys(label.rules):
            stats = by_rule.get(rule)
            if stats is None:
                stats = by_rule[rule] = RulePrecision(rule)
            if label.label == "fraud":
                stats.fraud += 1
            elif label.label == "legit":
                stats.legit += 1
            else:
                stats.unknown += 1
    return sorted(by_rule.values(), key=lambda s: (-s.labelled, s.rule))
