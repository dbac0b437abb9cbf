"""What deciding teaches the feature store, on a real database (SQLite and PostgreSQL) and
the real Redis: confirmed fraud reaches a running engine on either store, once; a
restart's catch-up replay leaves the state a run that never stopped has; an event sent
again names its fraud once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import redis

from tests.integration.casework import (
    case_harness,
    confirm_fraud,
    held_withdrawal,
    ruleset_file,
)
from tests.integration.conftest import REDIS_URL, RedisStores
from tests.support import FOREIGN_IP, EventFactory, Harness, codes
from walletguard.composition import build_runtime
from walletguard.events.decode import decode_event
from walletguard.features.memory import MemoryFeatureStore


@pytest.fixture
def h(db_url: str, tmp_path: Path) -> Iterator[Harness]:
    harness = case_harness(db_url, tmp_path)
    yield harness
    harness.close()


@pytest.fixture
def events() -> EventFactory:
    return EventFactory()


# -- confirmed fraud reaches a running engine ---------------------------------------------


def test_a_running_engine_applies_confirmed_fraud_without_a_restart(
    h: Harness, events: EventFactory
) -> None:
    mule = held_withdrawal(h, events, "mule", "20000.00")
    h.decide_all(events.funded("carol", "100.00"))
    events.advance(minutes=1)
    assert "PAYEE_REPORTED" not in codes(h.decide(events.transfer("carol", to="mule", amount="1")))
    confirm_fraud(h, mule)
    events.advance(minutes=1)
    paying = h.decide(events.transfer("carol", to="mule", amount="1"))
    assert "PAYEE_REPORTED" in codes(paying)
    assert h.runtime.catch_up_reports() == 0  # applied already, by the engine itself


def test_workers_on_redis_apply_confirmed_fraud_once(
    db_url: str, tmp_path: Path, events: EventFactory, redis_stores: RedisStores
) -> None:
    rules = ruleset_file(tmp_path)
    first = Harness(db_url, ruleset_path=rules, exclusive=False, features=redis_stores())
    second = Harness(db_url, ruleset_path=rules, exclusive=False, features=redis_stores())
    workers = [first, second]
    try:
        mule = held_withdrawal(first, events, "mule", "20000.00")
        first.decide_all(events.funded("carol", "100.00"))
        confirm_fraud(first, mule)
        events.advance(minutes=1)
        for worker in (second, first, second):  # each applies what it finds, at its next batch
            events.advance(seconds=10)
            paying = worker.decide(events.transfer("carol", to="mule", amount="1"))
            assert "PAYEE_REPORTED" in codes(paying)
        assert first.runtime.catch_up_reports() == 0
        assert second.runtime.catch_up_reports() == 0
        assert _reports(first) == {"c:account:mule": 1, "d:phone-mule": 1}
    finally:
        for worker in workers:
            worker.close()


def _reports(h: Harness) -> dict[str, int]:
    store: Any = h.runtime.features
    client = redis.Redis.from_url(REDIS_URL)
    try:
        found = client.hgetall(store.prefix + "r")
    finally:
        client.close()
    return {k.decode(): int(v) for k, v in found.items()}


def test_a_case_report_is_counted_once_whichever_worker_sends_it(
    redis_stores: RedisStores,
) -> None:
    a, b = redis_stores(), redis_stores()
    assert a.apply_case_reports([(1, ["c:x"]), (3, ["c:x", "d:p"])]) == (2, 3)
    # id 2 was committed after 3 (PostgreSQL): still applied, once; 1 and 3 not again
    assert b.apply_case_reports([(1, ["c:x"]), (2, ["c:y"]), (3, ["c:x", "d:p"])]) == (1, 3)
    assert a.apply_case_reports([(2, ["c:y"])]) == (0, 3)
    assert b.case_reports_cursor() == 3
    client = redis.Redis.from_url(REDIS_URL)
    try:
        counts = client.hgetall(a.prefix + "r")
    finally:
        client.close()
    assert {k.decode(): int(v) for k, v in counts.items()} == {"c:x": 2, "d:p": 1, "c:y": 1}


# -- a restart's catch-up replay does what live deciding did ---------------------------------


def restarted(db_url: str) -> MemoryFeatureStore:
    """The features a runtime started now restores (checkpoint + the events after it)."""
    later = build_runtime(db_url, ruleset_path=None, exclusive=False, graph=False, models=False)
    later.close()
    assert isinstance(later.features, MemoryFeatureStore)
    return later.features


def encoded(store: MemoryFeatureStore, account: str) -> bytes:
    return msgspec.msgpack.encode(store.profiles.get(account))


@pytest.fixture
def plain(db_url: str) -> Iterator[Harness]:
    harness = Harness(db_url, exclusive=False, graph=False, models=False)
    yield harness
    harness.close()


def test_a_restart_counts_the_fraud_a_chargeback_named(
    plain: Harness, events: EventFactory, db_url: str
) -> None:
    plain.decide_all(events.funded("alice", "500.00"))
    events.advance(minutes=5)
    payment = events.payment("alice", merchant="shop-9", amount="50.00")
    plain.decide(payment)
    plain.runtime.save_features()
    events.advance(days=3)
    plain.decide(
        events.make("chargeback", ref_event_id=payment["event_id"], device=None, network=None)
    )
    live = plain.runtime.features
    assert isinstance(live, MemoryFeatureStore)
    assert live.reports == {"c:merchant:shop-9": 1, "d:phone-alice": 1}
    assert restarted(db_url).reports == live.reports


def test_a_restart_learns_the_binding_a_passed_step_up_let_through(
    plain: Harness, events: EventFactory, db_url: str
) -> None:
    plain.decide_all(events.funded("alice"))
    plain.runtime.save_features()
    events.advance(days=5)
    plain.decide(events.make("profile_change", profile={"field": "sim"}))
    events.advance(hours=1)
    bind = plain.decide(events.bind(token="card-9"))
    assert bind.decision == "challenge", bind.reasons
    method = next(a for a in bind.actions if a.startswith("step_up:")).split(":")[1]
    events.advance(minutes=1)
    step = {"challenge_id": bind.challenge_id, "method": method, "success": True}
    assert plain.decide(events.make("step_up_result", step_up=step)).decision == "allow"
    live = plain.runtime.features
    assert isinstance(live, MemoryFeatureStore)
    assert "card-9" in live.profiles["alice"].bound
    after = restarted(db_url)
    assert "card-9" in after.profiles["alice"].bound
    assert encoded(after, "alice") == encoded(live, "alice")


def test_a_restart_learns_nothing_from_a_failed_sign_in(
    plain: Harness, events: EventFactory, db_url: str
) -> None:
    plain.decide_all(events.funded("alice"))
    plain.runtime.save_features()
    events.advance(hours=2)
    failed = plain.decide(
        events.login(
            success=False, device={"id": "attacker-1", "os": "android"}, network={"ip": FOREIGN_IP}
        )
    )
    assert failed.decision == "allow", failed.reasons
    live = plain.runtime.features
    assert isinstance(live, MemoryFeatureStore)
    after = restarted(db_url)
    assert "attacker-1" not in after.profiles["alice"].devices
    assert "US" not in after.profiles["alice"].countries
    assert encoded(after, "alice") == encoded(live, "alice")


# -- an event sent again names its fraud once ------------------------------------------------


def test_a_chargeback_sent_again_after_a_failed_commit_names_its_fraud_once(
    plain: Harness, events: EventFactory
) -> None:
    plain.decide_all(events.funded("alice", "500.00"))
    events.advance(minutes=5)
    payment = events.payment("alice", merchant="shop-9", amount="50.00")
    plain.decide(payment)
    events.advance(days=3)
    chargeback = decode_event(
        events.make("chargeback", ref_event_id=payment["event_id"], device=None, network=None)
    )
    engine = plain.engine
    with pytest.raises(ConnectionError):
        decided_then_lost(engine, chargeback)  # the client is told to send it again
    engine.decide(chargeback)
    assert plain.runtime.features.reports == {"c:merchant:shop-9": 1, "d:phone-alice": 1}


def decided_then_lost(engine: Any, event: Any) -> None:
    """Decide `event` in a batch whose commit then fails."""
    with engine.batch([event]) as decide:
        decide(event)
        raise ConnectionError("the commit failed")
