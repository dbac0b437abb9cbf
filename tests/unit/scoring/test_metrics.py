import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from walletguard.scoring import metrics


def test_auc_and_average_precision_match_scikit_learn_with_ties() -> None:
    rng = np.random.default_rng(1)
    labels = (rng.random(2000) < 0.1).astype(int)
    scores = np.round(rng.random(2000) + labels * 0.3, 2)  # rounding makes ties
    auc = metrics.auc_roc(labels, scores)
    assert auc is not None
    assert abs(auc - roc_auc_score(labels, scores)) < 1e-12
    ap = metrics.average_precision(labels, scores)
    assert ap is not None
    assert abs(ap - average_precision_score(labels, scores)) < 1e-12


def test_metrics_without_both_classes_are_missing() -> None:
    assert metrics.auc_roc([0, 0], [0.1, 0.2]) is None
    assert metrics.average_precision([0, 0], [0.1, 0.2]) is None


def test_card_precision_counts_cards_per_day_and_drops_detected_cards() -> None:
    # day 1: card A (fraud) scores highest, then B (legit); day 2: A again (already
    # detected, left out), C (fraud) and B.
    days = [1, 1, 1, 2, 2, 2]
    cards = ["A", "A", "B", "A", "C", "B"]
    labels = [1, 0, 0, 1, 1, 0]
    scores = [0.9, 0.1, 0.8, 0.99, 0.5, 0.7]
    # k=1: day 1 → A (fraud) = 1.0; day 2 without A → B (0.7) beats C (0.5) = 0.0
    assert metrics.card_precision_at_k(days, cards, labels, scores, k=1) == 0.5
    # k=2: day 1 → A, B = 0.5; day 2 → B, C = 0.5
    assert metrics.card_precision_at_k(days, cards, labels, scores, k=2) == 0.5


def test_calibration_of_perfect_probabilities_is_zero_error() -> None:
    result = metrics.calibration([0, 1, 0, 1], [0.0, 1.0, 0.0, 1.0])
    assert result == {"brier": 0.0, "ece": 0.0}
