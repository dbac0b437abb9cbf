"""Per rule: how often it fired in the window and how often on a malicious event.

Hits come from the decision traces (every rule that fired, shadow rules included, with
its mode). Precision is malicious hits over all hits; a rule that adds a little score to
many legit events is not wrong by itself (it is meant to combine), so the table also
says how many legit users it touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from walletguard.evaluate.observe import Observation
from walletguard.evaluate.truth import GroundTruth


@dataclass
class RuleStat:
    rule: str
    mode: str
    hits: int = 0
    malicious: int = 0
    typologies: dict[str, int] = field(default_factory=dict)
    legit_users: set[str] = field(default_factory=set)

    @property
    def legit(self) -> int:
        return self.hits - self.malicious

    @property
    def precision(self) -> float:
        return self.malicious / self.hits if self.hits else 0.0


def rule_stats(
    hits: Iterable[tuple[str, str, str]],
    observations: Sequence[Observation],
    truth: GroundTruth,
) -> list[RuleStat]:
    """`hits`: (event_id, rule id, mode) for every rule that fired. Ordered by hits."""
    by_event = {o.event_id: o for o in observations if o.in_window}
    fraudsters = truth.fraudster_accounts
    stats: dict[tuple[str, str], RuleStat] = {}
    for event_id, rule, mode in hits:
        o = by_event.get(event_id)
        if o is None:
            continue
        stat = stats.get((rule, mode))
        if stat is None:
            stat = stats[(rule, mode)] = RuleStat(rule, mode)
        stat.hits += 1
        if o.label is not None:
            stat.malicious += 1
            stat.typologies[o.label.typology] = stat.typologies.get(o.label.typology, 0) + 1
        elif o.account_id not in fraudsters:
            stat.legit_users.add(o.account_id)
    return sorted(stats.values(), key=lambda s: (-s.hits, s.rule))
