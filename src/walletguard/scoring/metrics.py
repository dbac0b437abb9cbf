"""Detection metrics, computed the way scikit-learn and the fraud-detection handbook do.

All take scores (higher = more suspicious) and 0/1 labels as sequences of equal length.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def _arrays(labels: Sequence[int], scores: Sequence[float]) -> tuple[FloatArray, FloatArray]:
    y = np.asarray(labels, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if y.shape != s.shape:
        raise ValueError("labels and scores differ in length")
    return y, s


def auc_roc(labels: Sequence[int], scores: Sequence[float]) -> float | None:
    """Area under the ROC curve (ties count half); None without both classes."""
    y, s = _arrays(labels, scores)
    positives = float(y.sum())
    negatives = float(len(y) - positives)
    if positives == 0 or negatives == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    sorted_scores = s[order]
    ranks = np.empty(len(s), dtype=np.float64)
    # average rank for ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(average, counts)
    rank_sum = float(ranks[y == 1].sum())
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def average_precision(labels: Sequence[int], scores: Sequence[float]) -> float | None:
    """Average precision: the sum over score thresholds of precision × recall gained
    (scikit-learn's definition; tied scores form one threshold)."""
    y, s = _arrays(labels, scores)
    positives = float(y.sum())
    if positives == 0:
        return None
    order = np.argsort(-s, kind="mergesort")
    y_sorted = y[order]
    s_sorted = s[order]
    last_of_tie = np.r_[np.nonzero(np.diff(s_sorted))[0], len(s_sorted) - 1]
    true_pos = np.cumsum(y_sorted)[last_of_tie]
    predicted = last_of_tie + 1.0
    precision = true_pos / predicted
    recall = true_pos / positives
    gained = np.diff(np.r_[0.0, recall])
    return float(np.sum(gained * precision))


def precision_at_k(labels: Sequence[int], scores: Sequence[float], k: int) -> float | None:
    """Share of frauds among the `k` highest scores."""
    y, s = _arrays(labels, scores)
    if len(y) == 0 or k <= 0:
        return None
    top = np.argsort(-s, kind="mergesort")[:k]
    return float(y[top].sum() / k)


def calibration(
    labels: Sequence[int], probabilities: Sequence[float], bins: int = 10
) -> dict[str, float]:
    """Brier score and expected calibration error (equal-width probability bins)."""
    y, p = _arrays(labels, probabilities)
    if len(y) == 0:
        return {"brier": 0.0, "ece": 0.0}
    brier = float(np.mean((p - y) ** 2))
    which = np.minimum((p * bins).astype(int), bins - 1)
    ece = 0.0
    for b in range(bins):
        inside = which == b
        n = int(inside.sum())
        if n:
            ece += n / len(y) * abs(float(p[inside].mean()) - float(y[inside].mean()))
    return {"brier": brier, "ece": ece}


def card_precision_at_k(
    days: Sequence[Hashable],
    cards: Sequence[Hashable],
    labels: Sequence[int],
    scores: Sequence[float],
    k: int = 100,
) -> float:
    """The handbook's Card Precision@k: for each day (in order), the share of compromised
    cards among the `k` cards with the highest score that day (a card scores its highest
    transaction, and is compromised if any of that day's transactions is fraud); cards
    already detected on an earlier day are left out of later days. Averaged over days."""
    per_day: dict[Hashable, dict[Hashable, tuple[float, int]]] = {}
    for day, card, label, score in zip(days, cards, labels, scores, strict=True):
        cards_today = per_day.setdefault(day, {})
        best, fraud = cards_today.get(card, (-np.inf, 0))
        cards_today[card] = (max(best, float(score)), max(fraud, int(label)))
    detected: set[Hashable] = set()
    precisions = []
    for day in sorted(per_day):  # type: ignore[type-var]
        ranked = sorted(
            (
                (score, fraud, card)
                for card, (score, fraud) in per_day[day].items()
                if card not in detected
            ),
            key=lambda item: -item[0],
        )[:k]
        found = [card for _, fraud, card in ranked if fraud]
        precisions.append(len(found) / k)
        detected.update(found)
    return float(np.mean(precisions)) if precisions else 0.0


def summary(
    labels: Sequence[int], probabilities: Sequence[float], k: int = 100
) -> dict[str, float]:
    """The registry's metrics for one evaluation slice."""
    result: dict[str, float] = {
        "rows": float(len(labels)),
        "positives": float(sum(labels)),
    }
    auc = auc_roc(labels, probabilities)
    ap = average_precision(labels, probabilities)
    top = precision_at_k(labels, probabilities, k)
    if auc is not None:
        result["auc_roc"] = auc
    if ap is not None:
        result["average_precision"] = ap
    if top is not None:
        result[f"precision_at_{k}"] = top
    result.update(calibration(labels, probabilities))
    return result
