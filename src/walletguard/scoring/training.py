"""Training a gradient-boosted model on recorded point-in-time rows.

The plan is time-ordered, never random:

    [ train ........................ | validation ] [ maturity ] as_of

- `as_of`: the moment of training; only labels known by then are used.
- events newer than `as_of - maturity` are left out: their labels may still be on
  their way (a chargeback arrives days after the payment), so calling them "not
  fraud" would teach the model wrong.
- the rest is split by time: a model fit on the earlier part picks the number of
  trees on the later part (early stopping) and is measured there; the registered
  model is then refit on the whole window with that number of trees.

The objective is plain log loss with no class re-weighting, so the output is a
probability that stays calibrated (the registry records Brier score and ECE).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from walletguard.kernel.canonical import canonical_json, sha256_hex
from walletguard.kernel.errors import Refused
from walletguard.scoring import metrics
from walletguard.scoring.dataset import TrainingSet
from walletguard.scoring.labels import LabelBook
from walletguard.scoring.model import ModelRecord, ModelStatus

if TYPE_CHECKING:
    import lightgbm as lgb

DAY = 86400.0

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "max_depth": 6,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.9,
    "lambda_l2": 1.0,
    "max_bin": 255,
    "verbose": -1,
    "num_threads": 2,
    "deterministic": True,
    "force_row_wise": True,
    "seed": 7,
}
MAX_TREES = 400
EARLY_STOP = 40
TOP_K = 100


@dataclass(frozen=True, slots=True)
class TrainingPlan:
    """Which rows train and which measure, in event time (POSIX seconds)."""

    as_of: float | None = None
    maturity_seconds: float = 7 * DAY
    train_from: float | None = None
    train_to: float | None = None
    valid_share: float = 0.2
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TrainedModel:
    record: ModelRecord
    booster: lgb.Booster


def _fingerprint(
    data: TrainingSet, chosen: list[int], labels: list[int], plan: dict[str, Any]
) -> str:
    h = hashlib.sha256(canonical_json({"features": list(data.features), "plan": plan}))
    for i, label in zip(chosen, labels, strict=True):
        h.update(data.event_ids[i].encode())
        h.update(b"\x01" if label else b"\x00")
        h.update(struct.pack(f"<{len(data.features)}d", *data.rows[i]))
    return h.hexdigest()


def train_model(
    data: TrainingSet,
    labels: LabelBook,
    plan: TrainingPlan,
    *,
    created_by: str,
    now: datetime | None = None,
) -> TrainedModel:
    """Fit, measure and package a model; raises `Refused` when the data cannot train one."""
    import lightgbm as lgb  # here, not at the top: it costs ~1 s at import

    if not data.rows:
        raise Refused("no events of the model's types to train on", reason_code="NO_DATA")
    as_of = plan.as_of if plan.as_of is not None else max(data.times)
    cutoff = as_of - plan.maturity_seconds
    if plan.train_to is not None:
        cutoff = min(cutoff, plan.train_to)
    start = plan.train_from if plan.train_from is not None else -np.inf
    chosen = sorted(
        (i for i, ts in enumerate(data.times) if start <= ts < cutoff),
        key=lambda i: data.times[i],
    )
    if len(chosen) < 50:
        raise Refused(
            f"only {len(chosen)} events are old enough to have known labels "
            f"(before {_iso(cutoff)}); need at least 50",
            reason_code="NOT_ENOUGH_DATA",
        )
    y = [1 if labels.fraud_as_of(data.event_ids[i], as_of) else 0 for i in chosen]
    split = int(len(chosen) * (1.0 - plan.valid_share))
    y_train, y_valid = y[:split], y[split:]
    if sum(y_train) < 5 or sum(y_valid) < 1:
        raise Refused(
            f"not enough known fraud to train: {sum(y_train)} in the training part and "
            f"{sum(y_valid)} in the validation part (labels known by {_iso(as_of)})",
            reason_code="NOT_ENOUGH_LABELS",
        )
    x = np.asarray([data.rows[i] for i in chosen], dtype=np.float64)
    params = {**DEFAULT_PARAMS, **plan.params}
    names = [_lgb_name(n) for n in data.features]
    first = lgb.train(
        {**params, "metric": "binary_logloss"},
        lgb.Dataset(x[:split], y_train, feature_name=names, free_raw_data=False),
        num_boost_round=MAX_TREES,
        valid_sets=[lgb.Dataset(x[split:], y_valid, feature_name=names)],
        callbacks=[lgb.early_stopping(EARLY_STOP, verbose=False)],
    )
    trees = max(1, first.best_iteration or MAX_TREES)
    valid_p = first.predict(x[split:], num_iteration=trees)
    measured = metrics.summary(y_valid, list(valid_p), TOP_K)
    final = lgb.train(
        params,
        lgb.Dataset(x, y, feature_name=names),
        num_boost_round=trees,
    )
    text = final.model_to_string()
    plan_doc = {
        "as_of": _iso(as_of),
        "maturity_days": plan.maturity_seconds / DAY,
        "train_from": _iso(data.times[chosen[0]]),
        "train_to": _iso(data.times[chosen[-1]]),
        "valid_from": _iso(data.times[chosen[split]]),
        "params": params,
        "trees": trees,
    }
    gains = final.feature_importance(importance_type="gain")
    importance = {
        name: round(float(g), 3)
        for name, g in sorted(zip(data.features, gains, strict=True), key=lambda kv: -kv[1])
    }
    record = ModelRecord(
        version="gbm-" + sha256_hex(text.encode())[:12],
        features=data.features,
        event_types=data.event_types,
        fingerprint=_fingerprint(data, chosen, y, plan_doc),
        metrics={
            "validation": _rounded(measured),
            "training_rows": len(chosen),
            "training_positives": sum(y),
        },
        params=plan_doc,
        model_text=text,
        created_at=now or datetime.now(UTC),
        created_by=created_by,
        status=ModelStatus.CANDIDATE,
        notes={"importance_gain": importance, "label_sources": labels.sources()},
    )
    return TrainedModel(record, final)


def _lgb_name(name: str) -> str:
    return name.replace(".", "__")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 6) for k, v in values.items()}
