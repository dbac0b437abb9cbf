"""The Redis feature store keeps exactly the state the in-memory store keeps.

Behaviour tests run against every store. Differential tests drive seeded random event
streams (out-of-order events, receivers, distinct counts, learning on and off, held
events learnt later, fraud reports, gaps of days) through the memory store and Redis
side by side and require identical snapshots at every event; engine tests require
identical decisions. Redis is real, each test under its own key prefix.
"""

from __future__ import annotations

import random
import shutil
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
import redis
from sqlalchemy import select

from tests.integration.conftest import REDIS_URL, RedisStores
from tests.support import EventFactory, Harness, mixed_events
from walletguard.composition import load_rules
from walletguard.enrich.location import NOWHERE, Located
from walletguard.events.decode import decode_event
from walletguard.events.model import WalletEvent
from walletguard.features.memory import MemoryFeatureStore
from walletguard.features.names import parse_feature_name
from walletguard.features.profile import AccountProfile
from walletguard.features.redis_channel import ScriptChannel
from walletguard.features.redis_store import RedisFeatureStore
from walletguard.features.store import EventKeys, FeatureSnapshot, FeatureStore
from walletguard.storage import tables as t

pytestmark = pytest.mark.redis

EXTRA_FEATURES = [
    "any_count_by_account_10m",
    "any_count_by_ip24_6h",
    "any_ip_distinct_by_account_7d",
    "any_device_distinct_by_account_30d",
    "login_failed_count_by_ip_10m",
    "login_device_distinct_by_ip24_6h",
    "money_out_amount_sum_by_account_1h",
    "money_out_amount_sum_by_device_6h",
    "money_out_counterparty_distinct_by_account_7d",
    "payment_amount_sum_by_counterparty_30d",
    "payment_count_by_counterparty_10m",
    "payment_account_distinct_by_counterparty_24h",
    "transfer_received_count_by_account_10m",
    "transfer_received_amount_sum_by_account_30d",
    "transfer_received_amount_sum_by_counterparty_24h",
    "transfer_received_sender_distinct_by_counterparty_1h",
    "withdrawal_count_by_account_1h",
    "withdrawal_amount_sum_by_account_24h",
    "withdrawal_amount_sum_by_token_7d",
    "withdrawal_account_distinct_by_token_24h",
    "topup_amount_sum_by_account_6h",
    "topup_small_count_by_device_1h",
    "topup_confirmed_amount_sum_by_account_7d",
    "register_ip_distinct_by_device_30d",
    "account_bind_token_distinct_by_account_30d",
]
FEATURES = list(
    {
        f.name: f
        for f in [*load_rules(None).window_features(), *map(parse_feature_name, EXTRA_FEATURES)]
    }.values()
)
HOME = Located("CN", 31.2, 121.4)
PLACES = [HOME, Located("US", 37.4, -122.1), Located("CN", None, None), NOWHERE]


def frozen(snapshot: FeatureSnapshot) -> tuple[Any, ...]:
    """A snapshot as plain values, safe to keep (the memory store's profiles are live)."""

    def copy(profile: AccountProfile | None) -> AccountProfile | None:
        if profile is None:
            return None
        return msgspec.msgpack.decode(msgspec.msgpack.encode(profile), type=AccountProfile)

    return (
        dict(snapshot.values),
        copy(snapshot.profile),
        copy(snapshot.receiver_profile),
        snapshot.counterparty_reports,
        snapshot.device_reports,
    )


# -- every store behaves the same --------------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest, redis_stores: RedisStores) -> FeatureStore:
    """A feature store keeping FEATURES: in memory or on Redis."""
    made: FeatureStore = MemoryFeatureStore() if request.param == "memory" else redis_stores()
    made.maintain(FEATURES)
    return made


def run(store: FeatureStore, documents: list[dict[str, Any]], *, learn: bool = True) -> list[Any]:
    """Read then update each event, as the engine does; returns what each event saw."""
    seen = []
    for doc in documents:
        event = decode_event(doc)
        keys = EventKeys(event)
        seen.append(frozen(store.read(event, keys, FEATURES)))
        store.update(event, keys, learn=learn, where=HOME)
    return seen


def values(seen: list[Any], name: str) -> list[Any]:
    return [s[0][name] for s in seen]


def test_an_event_never_sees_itself(store: FeatureStore) -> None:
    f = EventFactory()
    seen = run(store, [f.withdraw(amount="10"), f.withdraw(amount="20")])
    assert values(seen, "withdrawal_count_by_account_1h") == [0, 1]
    assert values(seen, "withdrawal_amount_sum_by_account_24h") == [0, Decimal("10")]


def test_windows_forget_in_event_time(store: FeatureStore) -> None:
    f = EventFactory()
    docs = [f.withdraw(amount="10")]
    f.advance(hours=2)
    docs.append(f.withdraw(amount="20"))
    f.advance(days=31)
    docs.append(f.withdraw(amount="30"))
    seen = run(store, docs)
    assert values(seen, "withdrawal_count_by_account_1h") == [0, 0, 0]
    assert values(seen, "withdrawal_amount_sum_by_account_24h") == [0, Decimal("10"), 0]


def test_late_events_count_in_their_own_bucket(store: FeatureStore) -> None:
    f = EventFactory()
    f.advance(minutes=5)
    first = f.login("x", success=False, network={"ip": "1.2.3.4"})
    f.advance(minutes=-3)
    late = f.login("y", success=False, network={"ip": "1.2.3.4"})  # sees nothing after itself
    f.advance(minutes=4)
    after = f.login("z", success=False, network={"ip": "1.2.3.4"})
    f.advance(minutes=9)  # minute 15: the 10-minute window holds minutes 6..15
    last = f.login("x", success=False, network={"ip": "1.2.3.4"})
    seen = run(store, [first, late, after, last])
    assert values(seen, "login_failed_account_distinct_by_ip_1h") == [0, 0, 2, 3]
    assert values(seen, "login_failed_count_by_ip_10m") == [0, 0, 2, 1]


def test_a_window_sum_stops_at_the_largest_amount_instead_of_failing(store: FeatureStore) -> None:
    """The schema admits amounts up to the ledger's largest; two of them in one window must
    not break the account's (or its payees') later events."""
    f = EventFactory()
    largest = "922337203685477.5807"
    docs = [f.withdraw(amount=largest), f.withdraw(amount=largest), f.withdraw(amount="1.00")]
    docs.append(f.withdraw(amount="1.00"))
    seen = run(store, docs)
    assert values(seen, "withdrawal_amount_sum_by_account_24h") == [
        0,
        Decimal(largest),
        Decimal(largest),
        Decimal(largest),
    ]
    assert values(seen, "withdrawal_count_by_account_1h") == [0, 1, 2, 3]


def test_money_received_shows_up_for_the_receiver(store: FeatureStore) -> None:
    f = EventFactory()
    docs = [f.transfer(f"sender-{i}", to="mule", amount="100") for i in range(3)]
    docs.append(f.withdraw("mule", amount="250"))
    seen = run(store, docs)
    assert values(seen, "transfer_received_amount_sum_by_counterparty_24h")[2] == Decimal("200")
    assert values(seen, "transfer_received_sender_distinct_by_account_24h")[3] == 3
    receiver = seen[2][2]
    assert receiver is not None
    assert receiver.last_money_in_units == 100 * 10_000
    assert receiver.first_seen_ts is None  # the mule itself has done nothing yet
    assert seen[3][1].last_money_in_units == 100 * 10_000


def test_profile_learns_only_from_events_let_through(store: FeatureStore) -> None:
    f = EventFactory()
    run(store, [f.payment(merchant="scammer")], learn=False)
    run(store, [f.payment(merchant="grocer")], learn=True)
    profile = run(store, [f.login()])[0][1]
    assert profile.knows_counterparty("merchant:grocer")
    assert not profile.knows_counterparty("merchant:scammer")


def test_facts_are_recorded_whatever_the_decision(store: FeatureStore) -> None:
    f = EventFactory()
    run(store, [f.make("profile_change", profile={"field": "sim"})], learn=False)
    assert run(store, [f.login()])[0][1].last_sim_change_ts is not None


def test_a_held_event_is_learnt_later(store: FeatureStore) -> None:
    f = EventFactory()
    held = decode_event(f.payment(merchant="new-shop"))
    store.update(held, EventKeys(held), learn=False, where=HOME)
    step_up = decode_event(f.make("step_up_result", step_up=_step_up(True)))
    keys = EventKeys(step_up)
    store.read(step_up, keys, FEATURES)
    store.learn_later(held, HOME)  # inside the step-up's decision, between its read and update
    store.update(step_up, keys, learn=True, where=HOME)
    profile = run(store, [f.login()])[0][1]
    assert profile.knows_counterparty("merchant:new-shop")
    assert len(profile.counterparties) == 8  # exactly one payee known
    assert profile.amount_count("payment") == 1


def test_fraud_reports_are_counted_per_key(store: FeatureStore) -> None:
    f = EventFactory()
    store.report_fraud(["c:merchant:scam", "d:phone-alice"])
    store.report_fraud(["c:merchant:scam"])
    seen = run(store, [f.payment(merchant="scam"), f.payment(merchant="shop-1")])
    assert (seen[0][3], seen[0][4]) == (2, 1)
    assert (seen[1][3], seen[1][4]) == (0, 1)


def test_an_events_fraud_reports_are_counted_once_with_it(store: FeatureStore) -> None:
    f = EventFactory()
    report = decode_event(f.make("chargeback", ref_event_id="ev-0", device=None, network=None))
    keys = EventKeys(report)
    for _ in range(2):  # sent again after its batch's commit failed
        store.read(report, keys, FEATURES)
        store.update(report, keys, learn=False, where=NOWHERE, reports=["c:merchant:scam", "d:p9"])
    probe = decode_event(f.payment(merchant="scam", device={"id": "p9", "os": "android"}))
    seen = store.read(probe, EventKeys(probe), FEATURES)
    assert (seen.counterparty_reports, seen.device_reports) == (1, 1)


def _step_up(success: bool, challenge: str = "ch-1") -> dict[str, Any]:
    return {"challenge_id": challenge, "method": "sms_otp", "success": success}


# -- Redis: layout, round trips, scripts, several workers ----------------------------------


def test_windows_live_under_the_prefix_and_expire(redis_stores: RedisStores) -> None:
    store = redis_stores(expiry_slack_seconds=600, retry_window_seconds=900)
    store.maintain(FEATURES)
    run(store, mixed_events(7, 60))
    store.flush()
    client = redis.Redis.from_url(REDIS_URL)
    keys = [k.decode() for k in client.scan_iter(match=store.prefix + "*", count=1000)]
    windows = [k for k in keys if k.startswith(store.prefix + "w:")]
    added = [k for k in keys if k.startswith(store.prefix + "e:")]
    assert windows
    assert len(added) == 60  # one marker per event added, for the retry window
    assert {k[len(store.prefix)] for k in keys} == {"w", "p", "e"}
    longest = 30 * 86400 + 86400 + 600
    assert all(0 < client.ttl(k) <= longest for k in windows)
    assert all(0 < client.ttl(k) <= 900 for k in added)
    kept = [k for k in keys if k not in windows and k not in added]
    assert all(client.ttl(k) == -1 for k in kept)  # profiles are kept
    client.close()


def test_an_event_sent_again_after_a_failed_commit_is_counted_once(store: FeatureStore) -> None:
    """The engine adds an event when it decides it; if the batch's commit then fails, the
    client sends the event again and the engine decides (and adds) it a second time."""
    f = EventFactory()
    payment, other, later = (
        decode_event(f.payment(amount=amount)) for amount in ("30.00", "40.00", "50.00")
    )
    for event in (payment, other, payment):  # the third: the retry
        store.read(event, EventKeys(event), FEATURES)
        store.update(event, EventKeys(event), learn=True, where=HOME)
    seen = frozen(store.read(later, EventKeys(later), FEATURES))
    assert seen[0]["any_count_by_account_10m"] == 2
    assert seen[0]["money_out_amount_sum_by_account_1h"] == Decimal("70.00")


def test_the_memory_store_remembers_a_bounded_number_of_added_events() -> None:
    f = EventFactory()
    store = MemoryFeatureStore(recent_events=2)
    store.maintain(FEATURES)
    first, *rest = (decode_event(f.payment(amount="1.00")) for _ in range(4))
    for event in (first, *rest, first):  # three others since: `first` is forgotten
        store.update(event, EventKeys(event), learn=True, where=HOME)
    check = decode_event(f.login())
    assert frozen(store.read(check, EventKeys(check), FEATURES))[0]["any_count_by_account_10m"] == 5


def test_an_event_costs_one_round_trip_its_update_going_with_the_next_read(
    redis_stores: RedisStores,
) -> None:
    f = EventFactory()
    store = redis_stores()
    store.maintain(FEATURES)
    watcher = redis_stores()
    watcher.maintain(FEATURES)
    first, second = (decode_event(f.transfer("alice", to="bob")) for _ in range(2))
    before = store.requests
    for event in (first, second):
        keys = EventKeys(event)
        store.read(event, keys, FEATURES)
        store.update(event, keys, learn=True, where=HOME)
    assert store.requests == before + 2
    seen_by_other = frozen(watcher.read(second, EventKeys(second), FEATURES))[0]
    assert seen_by_other["any_count_by_account_10m"] == 1  # the second is still held back
    store.flush()
    assert store.requests == before + 3
    seen_by_other = frozen(watcher.read(second, EventKeys(second), FEATURES))[0]
    assert seen_by_other["any_count_by_account_10m"] == 2


def test_an_update_that_loses_its_compare_and_set_is_applied_again_before_the_next_read(
    redis_stores: RedisStores,
) -> None:
    """Another writer changes the profile between an event's read and its update; the
    update goes out with the next read, fails its version check, is applied again, and
    that read is answered from the profile with both."""
    f = EventFactory()
    memory = MemoryFeatureStore()
    store, other = redis_stores(), redis_stores()
    for s in (memory, store, other):
        s.maintain(FEATURES)
    earlier, now, later = (
        decode_event(f.withdraw(account="alice", amount=a)) for a in ("10", "20", "30")
    )
    for s in (memory, store):
        s.read(now, EventKeys(now), FEATURES)
    memory.learn_later(earlier, PLACES[1])
    other.learn_later(earlier, PLACES[1])  # another worker: the profile's version moves on
    for s in (memory, store):
        s.update(now, EventKeys(now), learn=True, where=HOME)
    before = store.requests
    got = frozen(store.read(later, EventKeys(later), FEATURES))
    assert got == frozen(memory.read(later, EventKeys(later), FEATURES))
    assert store.requests > before + 1  # the profile written again, and the read again


def test_scripts_are_loaded_when_redis_does_not_know_them() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    channel = ScriptChannel(client)
    fresh = channel.script(f"return ARGV[1] .. '{uuid.uuid4().hex}'")  # never loaded before
    assert channel.run(fresh, [], ["x"], changes_state=False).startswith(b"x")
    queued = channel.script(f"return '{uuid.uuid4().hex}'")
    replies: list[Any] = []
    channel.queue(queued, [], [], replies.append)
    assert channel.run(fresh, [], ["y"], changes_state=False).startswith(b"y")
    assert len(replies) == 1  # sent with the run, loaded, sent again
    channel.close()
    client.close()


def test_a_profile_written_meanwhile_by_another_worker_is_not_lost(
    redis_stores: RedisStores,
) -> None:
    f = EventFactory()
    first, second = redis_stores(), redis_stores()
    memory = MemoryFeatureStore()
    event = decode_event(f.payment(merchant="grocer"))
    other = decode_event(f.payment(merchant="baker"))
    keys = EventKeys(event)
    for store in (memory, first, second):
        store.maintain(FEATURES)
    first.read(event, keys, FEATURES)
    for store in (memory, second):  # lands between the first worker's read and its update
        store.update(other, EventKeys(other), learn=True, where=HOME)
        store.flush()  # as each worker's engine does before answering
    for store in (memory, first):
        store.update(event, keys, learn=True, where=HOME)
        store.flush()
    check = decode_event(f.login())
    expected = frozen(memory.read(check, EventKeys(check), FEATURES))
    assert frozen(second.read(check, EventKeys(check), FEATURES)) == expected
    assert expected[1].knows_counterparty("merchant:grocer")
    assert expected[1].knows_counterparty("merchant:baker")
    assert len(expected[1].counterparties) == 16


def test_clear_removes_only_this_prefix(redis_stores: RedisStores) -> None:
    store = redis_stores()
    store.maintain(FEATURES)
    run(store, mixed_events(3, 20))
    neighbour = RedisFeatureStore(REDIS_URL, prefix=store.prefix[:-1] + "-other:")
    neighbour.maintain(FEATURES)
    run(neighbour, mixed_events(3, 5))
    assert store.clear() > 0
    assert store.clear() == 0
    assert neighbour.clear() > 0
    neighbour.close()


# -- the same state as the memory store, event by event -------------------------------------


def drive(
    memory: MemoryFeatureStore,
    workers: list[RedisFeatureStore],
    documents: list[dict[str, Any]],
    rng: random.Random,
) -> None:
    """Give every event to the memory store and to one of the workers (in turn), with the same
    random learning, late learning and fraud reports; their snapshots must be equal."""
    done: list[WalletEvent] = []
    for i, doc in enumerate(documents):
        event = decode_event(doc)
        keys = EventKeys(event)
        worker = workers[i % len(workers)]
        expected = frozen(memory.read(event, keys, FEATURES))
        got = frozen(worker.read(event, keys, FEATURES))
        assert got == expected, f"event #{i} {event!r} at {event.occurred_at}"
        if done and rng.random() < 0.05:
            earlier, place = rng.choice(done), rng.choice(PLACES)
            memory.learn_later(earlier, place)
            worker.learn_later(earlier, place)
        learn, place = rng.random() < 0.7, rng.choice(PLACES)
        named: list[str] = []
        if done and rng.random() < 0.03:  # a report's own fraud, with its update
            named = [k for k in (EventKeys(rng.choice(done)).counterparty, keys.device) if k]
        memory.update(event, keys, learn=learn, where=place, reports=named)
        worker.update(event, keys, learn=learn, where=place, reports=named)
        if len(workers) > 1:  # as the engine does before its answer goes out
            worker.flush()
        if done and rng.random() < 0.03:
            named = EventKeys(rng.choice(done))
            reported = [k for k in (named.counterparty, named.device, named.account) if k]
            memory.report_fraud(reported)
            worker.report_fraud(reported)
        done.append(event)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("workers", [1, 2])
def test_redis_sees_what_memory_sees_event_by_event(
    seed: int, workers: int, redis_stores: RedisStores
) -> None:
    memory = MemoryFeatureStore()
    shared = [redis_stores() for _ in range(workers)]
    for store in (memory, *shared):
        store.maintain(FEATURES)
    drive(memory, shared, mixed_events(seed, 700), random.Random(seed))


# -- the engine decides the same on both ------------------------------------------------------


def engine_on(template: Path, path: Path, **options: Any) -> Harness:
    shutil.copy(template, path)
    return Harness(f"sqlite:///{path}", **options)


def recorded(h: Harness) -> list[tuple[str, str, str]]:
    """Every stored decision with its per-rule trace, in order."""
    c = t.decisions.c
    with h.runtime.database.reading() as conn:
        rows = conn.execute(select(c.event_id, c.body, c.trace).order_by(c.seq)).all()
    return [(r.event_id, r.body, r.trace) for r in rows]


def test_the_engine_decides_identically_on_both_stores(
    migrated_sqlite_template: Path, tmp_path: Path, redis_stores: RedisStores
) -> None:
    """One event at a time, as the API does, with step-ups answered and fraud reported."""
    shared = redis_stores()
    in_memory = engine_on(migrated_sqlite_template, tmp_path / "memory.db")
    on_redis = engine_on(migrated_sqlite_template, tmp_path / "redis.db", features=shared)
    f = EventFactory(start="2026-03-01T08:00:00+08:00")
    opening = [
        {**doc, "event_id": f"open-{i}"}
        for i, doc in enumerate(d for w in range(10) for d in f.funded(f"w{w}", "3000.00"))
    ]
    rng = random.Random(11)
    done: list[dict[str, Any]] = []
    verdicts: dict[str, int] = {}
    follow_ups: list[dict[str, Any]] = []
    for doc in [*opening, *mixed_events(11, 500)]:
        steps, follow_ups = [doc, *follow_ups], []
        for step in steps:
            a, b = in_memory.decide(step), on_redis.decide(step)
            assert a == b, f"{step['event_id']} {step['type']}"
            verdicts[a.decision] = verdicts.get(a.decision, 0) + 1
            done.append(step)
            if a.challenge_id is not None and rng.random() < 0.8:
                follow_ups.append(_answer(step, a.challenge_id, rng.random() < 0.7))
        if rng.random() < 0.03:
            follow_ups.append(_fraud_report(doc, rng.choice(done)))
    assert recorded(in_memory) == recorded(on_redis)
    assert verdicts.keys() >= {"allow", "challenge", "block"}
    in_memory.close()
    on_redis.close()


def test_a_replay_decides_identically_on_both_stores(
    migrated_sqlite_template: Path, tmp_path: Path, redis_stores: RedisStores
) -> None:
    """Many events per unit of work, as `walletguard replay` does."""
    shared = redis_stores()
    in_memory = engine_on(migrated_sqlite_template, tmp_path / "memory.db")
    on_redis = engine_on(migrated_sqlite_template, tmp_path / "redis.db", features=shared)
    events = [decode_event(d) for d in mixed_events(12, 600)]
    for start in range(0, len(events), 200):
        batch = events[start : start + 200]
        expected = list(in_memory.engine.decide_batch(batch))
        assert list(on_redis.engine.decide_batch(batch)) == expected
    assert recorded(in_memory) == recorded(on_redis)
    in_memory.close()
    on_redis.close()


def _answer(guarded: dict[str, Any], challenge_id: str, success: bool) -> dict[str, Any]:
    return {
        "event_id": "answer-" + guarded["event_id"],
        "type": "step_up_result",
        "occurred_at": _later(guarded["occurred_at"]),
        "account_id": guarded["account_id"],
        "device": guarded.get("device", {"id": "phone"}),
        "step_up": _step_up(success, challenge_id),
    }


def _fraud_report(now: dict[str, Any], reported: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": "report-" + now["event_id"],
        "type": "fraud_report",
        "occurred_at": _later(now["occurred_at"]),
        "account_id": reported["account_id"],
        "ref_event_id": reported["event_id"],
    }


def _later(occurred_at: str) -> str:
    return datetime.fromisoformat(occurred_at).replace(microsecond=1).isoformat()
