import random

import pytest

from walletguard.decisions.catalogue import RuleCatalogue
from walletguard.kernel.errors import Refused
from walletguard.scoring.dataset import TrainingSet
from walletguard.scoring.labels import Label, LabelBook, LabelSource
from walletguard.scoring.model import ModelStatus
from walletguard.scoring.serving import LoadedModel
from walletguard.scoring.training import DAY, TrainingPlan, train_model

FEATURES = ("event.amount", "profile.amount_vs_mean")


def history(days: int = 30, per_day: int = 200, seed: int = 4) -> tuple[TrainingSet, LabelBook]:
    """Payments where fraud is a large multiple of the usual amount; each fraud is
    reported by chargeback three days later."""
    rng = random.Random(seed)
    data = TrainingSet(FEATURES, ("payment",))
    labels = LabelBook()
    for i in range(days * per_day):
        ts = i * DAY / per_day
        fraud = rng.random() < 0.05
        ratio = rng.uniform(3, 9) if fraud else rng.uniform(0.3, 2.5)
        data.rows.append([ratio * 50, ratio])
        data.event_ids.append(f"e{i}")
        data.times.append(ts)
        data.accounts.append(f"a{i % 50}")
        if fraud:
            labels.add(Label(f"e{i}", True, ts + 3 * DAY, LabelSource.CHARGEBACK))
    return data, labels


def test_a_model_learns_and_is_measured_on_later_events() -> None:
    data, labels = history()
    trained = train_model(data, labels, TrainingPlan(), created_by="test")
    record = trained.record
    assert record.status is ModelStatus.CANDIDATE
    assert record.version.startswith("gbm-")
    validation = record.metrics["validation"]
    assert validation["auc_roc"] > 0.95
    assert validation["average_precision"] > 0.8
    # the newest seven days are immature and left out; validation follows training in time
    assert record.params["train_to"] < record.params["as_of"]
    assert record.params["train_from"] < record.params["valid_from"] < record.params["train_to"]
    cutoff = max(data.times) - 7 * DAY
    assert record.metrics["training_rows"] == sum(1 for ts in data.times if ts < cutoff)
    model = LoadedModel(record, RuleCatalogue())
    assert model.probability([400.0, 8.0]) > 0.5 > model.probability([50.0, 1.0])


def test_labels_not_yet_known_at_training_time_are_not_used() -> None:
    data, labels = history()
    as_of = 20 * DAY
    trained = train_model(
        data, labels, TrainingPlan(as_of=as_of, maturity_seconds=0), created_by="test"
    )
    # events of the last three days before as_of are frauds whose chargeback had not come
    known = sum(
        1
        for eid, ts in zip(data.event_ids, data.times, strict=True)
        if ts < as_of and labels.fraud_as_of(eid, as_of)
    )
    assert trained.record.metrics["training_positives"] == known
    assert known < sum(
        1
        for eid, ts in zip(data.event_ids, data.times, strict=True)
        if ts < as_of and labels.fraud_as_of(eid, 1e12)
    )


def test_the_same_data_gives_the_same_version_and_fingerprint() -> None:
    data, labels = history(days=15)
    a = train_model(data, labels, TrainingPlan(), created_by="x").record
    b = train_model(data, labels, TrainingPlan(), created_by="y").record
    assert (a.version, a.fingerprint) == (b.version, b.fingerprint)


def test_training_without_enough_known_fraud_is_refused() -> None:
    data, _ = history(days=15)
    with pytest.raises(Refused, match="not enough known fraud"):
        train_model(data, LabelBook(), TrainingPlan(), created_by="test")
