"""Event-level detection: precision, recall and false-positive rate.

Over the input events of the simulated window (account history before it and the
evaluation's own step-up answers excluded). An event is *positive* when it is labelled
malicious. Flagged means:

- per risk level L: the decision's risk level is L or higher;
- overall: the engine intervened — any decision but `allow`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from walletguard.evaluate.observe import Observation
from walletguard.kernel.risk import RiskLevel

FLAG_LEVELS = (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.CRITICAL)


@dataclass(frozen=True)
class Detection:
    """One way of flagging events, scored against the labels."""

    flagged_when: str
    flagged: int
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int
    precision: float
    recall: float
    false_positive_rate: float


def detection_table(observations: Sequence[Observation]) -> list[Detection]:
    """One row per risk level (flagged at that level or above), then the overall row."""
    scored = [o for o in observations if o.in_window]
    truth = np.fromiter((o.label is not None for o in scored), dtype=bool, count=len(scored))
    ranks = np.fromiter((o.level_rank for o in scored), dtype=np.int8, count=len(scored))
    rows = [_score(f"risk ≥ {level.value}", truth, ranks >= level.rank) for level in FLAG_LEVELS]
    intervened = np.fromiter((o.decision != "allow" for o in scored), dtype=bool, count=len(scored))
    rows.append(_score("decision ≠ allow", truth, intervened))
    return rows


def _score(name: str, truth: np.ndarray, flagged: np.ndarray) -> Detection:
    # Imported here: scikit-learn costs ~1 s at import, which every command would pay.
    from sklearn.metrics import confusion_matrix, precision_score, recall_score

    if truth.size == 0:
        return Detection(name, 0, 0, 0, 0, 0, 0.0, 0.0, 0.0)
    tn, fp, fn, tp = (
        int(x) for x in confusion_matrix(truth, flagged, labels=[False, True]).ravel()
    )
    return Detection(
        flagged_when=name,
        flagged=tp + fp,
        true_positives=tp,
        false_positives=fp,
        false_negatives=fn,
        true_negatives=tn,
        precision=float(precision_score(truth, flagged, zero_division=0)),
        recall=float(recall_score(truth, flagged, zero_division=0)),
        false_positive_rate=fp / (fp + tn) if fp + tn else 0.0,
    )
