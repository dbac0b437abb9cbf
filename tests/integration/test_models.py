"""Models end to end on real databases: train on the engine's own history, register,
promote, and decide with the champion (explained) and a shadow (only recorded)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.support import EventFactory, Harness
from walletguard.composition import train_on_history, unit_of_work
from walletguard.decisions.catalogue import RuleCatalogue
from walletguard.events.decode import decode_event
from walletguard.kernel.errors import IllegalTransition
from walletguard.scoring import registry
from walletguard.scoring.model import ModelStatus
from walletguard.scoring.training import DAY, TrainingPlan
from walletguard.scoring.vectors import Vectorizer
from walletguard.storage import tables as t
from walletguard.storage.database import open_database

FEATURES = (
    "event.amount",
    "profile.amount_vs_mean",
    "counterparty.is_new",
    "payment_count_by_account_24h",
    "reported_count_by_counterparty_7d / payment_count_by_counterparty_7d",
)


def history(f: EventFactory) -> list[dict[str, Any]]:
    """Five days of payments; frauds (from stolen devices, at one shop) are ten times the
    usual amount, and each is charged back a day later."""
    rng = random.Random(5)
    docs: list[dict[str, Any]] = []
    accounts = [f"acct{i}" for i in range(30)]
    for a in accounts:
        docs += f.funded(a, "90000.00")
    chargebacks: list[tuple[datetime, dict[str, Any]]] = []
    for _ in range(600):
        f.advance(minutes=12)
        while chargebacks and chargebacks[0][0] <= f.now:
            docs.append(chargebacks.pop(0)[1])
        account = rng.choice(accounts)
        if rng.random() < 0.07 and account < "acct20":  # acct2x are never victims
            doc = f.payment(
                account,
                merchant="bad-shop",
                amount=f"{rng.randint(400, 600)}.00",
                device={"id": f"stolen-{rng.randint(1, 500)}"},
            )
            cb = f.make("chargeback", account, ref_event_id=doc["event_id"], amount="1.00")
            cb["occurred_at"] = (f.now + timedelta(days=1)).isoformat()
            chargebacks.append((f.now + timedelta(days=1), cb))
        else:
            doc = f.payment(
                account, merchant=f"shop-{rng.randint(1, 5)}", amount=f"{rng.randint(20, 60)}.00"
            )
        docs.append(doc)
    return docs


def decide_batch(h: Harness, docs: list[dict[str, Any]]) -> None:
    list(h.engine.decide_batch([decode_event(d) for d in docs]))


def train(h: Harness, **params: Any) -> Any:
    vectorizer = Vectorizer(FEATURES, RuleCatalogue())
    plan = TrainingPlan(maturity_seconds=DAY, params=params)
    trained, data = train_on_history(
        h.runtime.database, vectorizer, ["payment"], plan, actor="test:trainer"
    )
    assert len(data) == sum(1 for _ in data.event_ids)
    return trained


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[dict[str, Any]], Any]:
    """A model trained once, by the real pipeline, on the history decided on SQLite."""
    f = EventFactory()
    docs = history(f)
    path = tmp_path_factory.mktemp("train") / "history.db"
    h = Harness(f"sqlite:///{path}")
    decide_batch(h, docs)
    record = train(h).record
    h.close()
    return record, docs, f


def test_each_chargeback_counts_once_among_the_labels(trained: Any) -> None:
    """The history replayed for training holds the chargebacks; the database's own copy
    of them is not counted a second time."""
    record, docs, _ = trained
    chargebacks = sum(1 for d in docs if d["type"] == "chargeback")
    assert chargebacks > 0
    assert record.notes["label_sources"]["chargeback"] == chargebacks


def deploy(url: str, record: Any, action: Any) -> None:
    now = datetime.now(UTC)
    with unit_of_work(open_database(url)) as uow:
        assert registry.register(uow, record, actor="test:trainer", at=now)
    with unit_of_work(open_database(url)) as uow:
        action(uow, record.version, actor="analyst:ann", at=now)


def trace_of(h: Harness, event_id: str) -> Any:
    with h.runtime.database.reading() as conn:
        return conn.execute(
            select(t.decisions.c.trace, t.decisions.c.model_version).where(
                t.decisions.c.event_id == event_id
            )
        ).one()


def test_the_champion_scores_explains_and_is_recorded(db_url: str, trained: Any) -> None:
    record, docs, f = trained
    assert record.metrics["validation"]["auc_roc"] > 0.9
    h = Harness(db_url)
    decide_batch(h, docs)
    h.close()
    deploy(db_url, record, registry.promote)

    h = Harness(db_url)
    f.advance(hours=1)
    usual = h.decide(f.payment("acct25", merchant="shop-1", amount="30.00"))
    f.advance(minutes=5)
    odd = h.decide(
        f.payment("acct2", merchant="bad-shop", amount="550.00", device={"id": "stolen-new"})
    )
    assert usual.model_version == odd.model_version == record.version
    assert usual.decision == "allow"
    assert not [r for r in usual.reasons if r.code.startswith("MODEL_")]
    model_reasons = [r for r in odd.reasons if r.code.startswith("MODEL_")]
    assert model_reasons, odd.reasons
    assert odd.score >= 300
    assert odd.decision != "allow"
    assert "fraud probability" in model_reasons[0].message
    row = trace_of(h, odd.event_id)
    trace = json.loads(row.trace)
    assert row.model_version == record.version
    assert trace["model_score"] > 0.3
    assert trace["model_points"] == sum(r.score for r in model_reasons)
    with h.runtime.database.reading() as conn:
        actions = [
            r.action
            for r in conn.execute(
                select(t.audit_log.c.action).where(
                    t.audit_log.c.subject == f"model:{record.version}"
                )
            )
        ]
    assert actions == ["model.registered", "model.promoted"]
    h.close()


def test_a_shadow_model_is_recorded_but_never_acted_on(db_url: str, trained: Any) -> None:
    record, _, f = trained
    deploy(db_url, record, registry.shadow)
    h = Harness(db_url)
    h.decide_all(f.funded("zed", "5000.00"))
    f.advance(hours=1)
    odd = h.decide(f.payment("zed", merchant="bad-shop", amount="550.00"))
    assert odd.model_version is None
    assert not [r for r in odd.reasons if r.code.startswith("MODEL_")]
    trace = json.loads(trace_of(h, odd.event_id).trace)
    assert 0.0 <= trace["shadow_scores"][record.version] <= 1.0
    assert trace["model_points"] == 0
    assert trace["model_score"] is None
    h.close()


def test_one_champion_at_a_time_and_retired_models_stay_retired(db_url: str, trained: Any) -> None:
    first, _, _ = trained
    second = replace(first, version="gbm-other", fingerprint="f" * 64)
    now = datetime.now(UTC)
    db = open_database(db_url)
    with unit_of_work(db) as uow:
        registry.register(uow, first, actor="t", at=now)
        registry.register(uow, second, actor="t", at=now)
    with unit_of_work(db) as uow:
        registry.promote(uow, first.version, actor="a", at=now)
    with unit_of_work(db) as uow:
        registry.promote(uow, second.version, actor="b", at=now)
    with unit_of_work(db) as uow:
        statuses = {r.version: r.status for r in uow.models.all()}
        assert statuses == {
            first.version: ModelStatus.RETIRED,
            second.version: ModelStatus.CHAMPION,
        }
        assert uow.models.get(second.version).promoted_by == "b"  # type: ignore[union-attr]
    with pytest.raises(IllegalTransition), unit_of_work(db) as uow:
        registry.promote(uow, first.version, actor="a", at=now)
    db.dispose()


def model_on(name: str) -> Any:
    """A model whose only input is `name` (fraud when it is positive)."""
    from walletguard.scoring.dataset import TrainingSet
    from walletguard.scoring.labels import Label, LabelBook, LabelSource
    from walletguard.scoring.training import train_model

    rng = random.Random(2)
    data = TrainingSet((name,), ("payment",))
    book = LabelBook()
    for i in range(2000):
        value = float(rng.random() < 0.1) * rng.randint(1, 5)
        data.rows.append([value])
        data.event_ids.append(f"s{i}")
        data.times.append(i * 600.0)
        data.accounts.append("a")
        if value and rng.random() < 0.9:
            book.add(Label(f"s{i}", True, i * 600.0, LabelSource.FILE))
    return train_model(data, book, TrainingPlan(maturity_seconds=0), created_by="t").record


def test_a_restarted_engine_keeps_the_champions_label_fed_features(
    db_url: str, trained: Any
) -> None:
    """The champion's windows (chargebacks per merchant) are rebuilt on restart: the
    champion is loaded before the stored events are re-applied."""
    _, _, f = trained
    record = model_on("reported_count_by_counterparty_7d")
    deploy(db_url, record, registry.promote)
    h = Harness(db_url)
    docs = f.funded("amy", "500.00")
    docs.append(f.payment("amy", merchant="dodgy", amount="20.00"))
    f.advance(days=2)
    docs.append(f.make("chargeback", "amy", ref_event_id=docs[-1]["event_id"], amount="20.00"))
    h.decide_all(docs)
    h.close()
    h = Harness(db_url)  # no checkpoint was saved: everything is re-applied
    seen: list[Any] = []
    h.engine.observers.append(
        lambda ctx: seen.append(ctx.features.get("reported_count_by_counterparty_7d"))
    )
    f.advance(minutes=1)
    h.decide(f.payment("amy", merchant="dodgy", amount="5.00"))
    assert seen == [1]
    h.close()


def test_labels_come_from_chargebacks_and_case_outcomes_when_known(db_url: str) -> None:
    from sqlalchemy import update

    from walletguard.scoring.labels import LabelSource
    from walletguard.storage.history import stored_labels

    f = EventFactory()
    h = Harness(db_url)
    docs = f.funded("kim", "500.00")
    docs.append(f.payment("kim", merchant="m", amount="20.00"))
    paid = docs[-1]["event_id"]
    f.advance(days=3)
    docs.append(f.make("fraud_report", "kim", ref_event_id=paid))
    f.advance(minutes=1)
    odd = f.confirm("kim", ref="ghost", amount="900.00", signature_valid=False)
    docs.append(odd)
    decisions = h.decide_all(docs)
    case_id = decisions[-1].case_id
    assert case_id is not None  # the forged confirmation opened a case
    resolved = datetime(2026, 3, 20, tzinfo=UTC)
    with h.runtime.database.writing() as conn:
        conn.execute(
            update(t.cases)
            .where(t.cases.c.id == case_id)
            .values(outcome="false_positive", status="resolved", updated_at=resolved)
        )
    labels = {(x.event_id, x.source): x for x in stored_labels(h.runtime.database)}
    report = labels[(paid, LabelSource.FRAUD_REPORT)]
    assert report.fraud
    assert report.known_ts == datetime.fromisoformat(docs[-2]["occurred_at"]).timestamp()
    outcome = labels[(odd["event_id"], LabelSource.CASE)]
    assert not outcome.fraud
    assert outcome.known_ts == resolved.timestamp()
    h.close()
