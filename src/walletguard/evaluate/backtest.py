"""Back-testing: the same events through the current and a candidate ruleset, compared.

Both runs are complete evaluations (same engine, same effects, each on its own scratch
database, challenges answered and appeals handled the same way); the comparison says
what a promotion would change: decisions, alert volume, precision and recall, money
stopped by typology, friction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from walletguard.evaluate.document import money, share
from walletguard.evaluate.observe import Observation
from walletguard.evaluate.service import Evaluation

EXAMPLES = 20


@dataclass(frozen=True)
class Change:
    event_id: str
    type: str
    label: str
    current: str
    candidate: str
    current_codes: tuple[str, ...]
    candidate_codes: tuple[str, ...]


@dataclass
class Comparison:
    current: Evaluation
    candidate: Evaluation
    changed: Counter[tuple[str, str]]
    """(current decision, candidate decision) → events, over events decided by both."""
    changed_on_attacks: int
    changed_on_legit: int
    examples: list[Change]


def compare(current: Evaluation, candidate: Evaluation) -> Comparison:
    """Line the two runs' events up by event id and count what changed."""
    theirs = {o.event_id: o for o in candidate.observations}
    changed: Counter[tuple[str, str]] = Counter()
    on_attacks = on_legit = 0
    attack_examples: list[Change] = []
    legit_examples: list[Change] = []
    for mine in current.observations:
        other = theirs.get(mine.event_id)
        if other is None or other.decision == mine.decision:
            continue
        changed[(mine.decision, other.decision)] += 1
        if mine.label is not None:
            on_attacks += 1
            if len(attack_examples) < EXAMPLES:
                attack_examples.append(_change(mine, other))
        else:
            on_legit += 1
            if len(legit_examples) < EXAMPLES:
                legit_examples.append(_change(mine, other))
    examples = (attack_examples[: EXAMPLES // 2] + legit_examples)[:EXAMPLES]
    return Comparison(current, candidate, changed, on_attacks, on_legit, examples)


def _change(mine: Observation, other: Observation) -> Change:
    label = f"{mine.label.typology}/{mine.label.stage}" if mine.label else "legit"
    return Change(
        mine.event_id,
        mine.type.value,
        label,
        mine.decision,
        other.decision,
        mine.codes,
        other.codes,
    )


def _side(ev: Evaluation) -> dict[str, Any]:
    overall = next(d for d in ev.detection if d.flagged_when.startswith("decision"))
    medium = next(d for d in ev.detection if d.flagged_when == "risk ≥ medium")
    tried = sum(t.tried for t in ev.typologies)
    left = sum(t.left for t in ev.typologies)
    f = ev.friction
    return {
        "ruleset_version": ev.ruleset_version,
        "decisions": dict(sorted(ev.decisions.items())),
        "alerts": ev.cases.get("alerts", 0),
        "cases": sum(n for status, n in ev.cases.items() if status != "alerts"),
        "precision": share(overall.precision),
        "recall": share(overall.recall),
        "precision_at_medium": share(medium.precision),
        "recall_at_medium": share(medium.recall),
        "false_positive_rate": share(overall.false_positive_rate),
        "money_tried": money(tried),
        "money_left": money(left),
        "money_stopped": money(tried - left),
        "share_money_stopped": share(None if tried == 0 else 1 - left / tried),
        "by_typology": {
            t.typology: {
                "money_tried": money(t.tried),
                "money_left": money(t.left),
                "share_stopped": share(t.share_stopped),
                "campaigns_stopped": t.stopped,
                "campaigns": t.campaigns,
            }
            for t in ev.typologies
        },
        "legit_users_challenged_or_held": f.challenged_or_held,
        "share_legit_users_challenged_or_held": share(f.share_challenged_or_held),
        "legit_money_movements_blocked_by_risk": f.money_movements_blocked_by_risk,
        "share_legit_money_blocked_by_risk": share(f.share_money_blocked_by_risk),
        "targets_met": sum(1 for t in ev.targets if t.met),
        "targets_missed": sum(1 for t in ev.targets if t.met is False),
    }


def comparison_document(c: Comparison) -> dict[str, Any]:
    return {
        "current": _side(c.current),
        "candidate": _side(c.candidate),
        "decisions_changed": sum(c.changed.values()),
        "changed_on_attacks": c.changed_on_attacks,
        "changed_on_legit": c.changed_on_legit,
        "changes": [{"from": a, "to": b, "events": n} for (a, b), n in c.changed.most_common()],
        "examples": [
            {
                "event_id": e.event_id,
                "type": e.type,
                "label": e.label,
                "current": e.current,
                "candidate": e.candidate,
                "current_reasons": list(e.current_codes),
                "candidate_reasons": list(e.candidate_codes),
            }
            for e in c.examples
        ],
    }
