import math
import random
from types import SimpleNamespace

from walletguard.decisions.catalogue import RuleCatalogue
from walletguard.scoring.dataset import TrainingSet
from walletguard.scoring.labels import Label, LabelBook, LabelSource
from walletguard.scoring.serving import LoadedModel
from walletguard.scoring.training import TrainingPlan, train_model


class Unreadable:
    def get(self, name: str) -> None:
        raise AssertionError(f"{name} was read")


def test_inputs_no_tree_splits_on_are_neither_read_nor_kept() -> None:
    rng = random.Random(1)
    names = ("profile.amount_vs_mean", "payment_count_by_account_24h")
    data = TrainingSet(names, ("payment",))
    book = LabelBook()
    for i in range(1500):
        ratio = rng.uniform(0.2, 9)
        data.rows.append([ratio, 3.0])  # the count never varies: no tree can use it
        data.event_ids.append(f"e{i}")
        data.times.append(i * 60.0)
        data.accounts.append("a")
        if ratio > 5:
            book.add(Label(f"e{i}", True, i * 60.0, LabelSource.FILE))
    record = train_model(data, book, TrainingPlan(maturity_seconds=0), created_by="t").record
    model = LoadedModel(record, RuleCatalogue())
    assert model.vectorizer.window_features() == []
    ctx = SimpleNamespace(
        event=SimpleNamespace(amount=1, type=SimpleNamespace(value="payment")),
        keys=SimpleNamespace(units=80_000),
        profile=SimpleNamespace(amount_mean_units=lambda kind: 10_000),
        features=Unreadable(),
    )
    vector = model.vectorizer(ctx)
    assert vector[0] == 8.0
    assert math.isnan(vector[1])
    assert model.probability(vector) > 0.5
