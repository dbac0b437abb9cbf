from decimal import Decimal

from tests.support import EventFactory
from walletguard.enrich.location import Located
from walletguard.events.decode import decode_event
from walletguard.features.memory import MemoryFeatureStore
from walletguard.features.names import parse_feature_name
from walletguard.features.store import EventKeys

NAMES = [
    "withdrawal_amount_sum_by_account_24h",
    "withdrawal_count_by_account_1h",
    "login_failed_account_distinct_by_ip_1h",
    "transfer_received_sender_distinct_by_account_24h",
    "transfer_received_amount_sum_by_counterparty_24h",
]
FEATURES = [parse_feature_name(n) for n in NAMES]
HOME = Located("CN", 31.2, 121.4)


def run(store: MemoryFeatureStore, documents: list[dict], *, learn: bool = True) -> list[dict]:
    """Read then update each event, as the engine does; returns what each event saw."""
    seen = []
    for doc in documents:
        event = decode_event(doc)
        keys = EventKeys(event)
        seen.append(dict(store.read(event, keys, FEATURES).values))
        store.update(event, keys, learn=learn, where=HOME)
    return seen


def new_store() -> MemoryFeatureStore:
    store = MemoryFeatureStore()
    store.maintain(FEATURES)
    return store


def test_an_event_never_sees_itself() -> None:
    f = EventFactory()
    seen = run(new_store(), [f.withdraw(amount="10"), f.withdraw(amount="20")])
    assert seen[0]["withdrawal_count_by_account_1h"] == 0
    assert seen[1]["withdrawal_count_by_account_1h"] == 1
    assert seen[1]["withdrawal_amount_sum_by_account_24h"] == Decimal("10")


def test_windows_forget_in_event_time() -> None:
    f = EventFactory()
    docs = [f.withdraw(amount="10")]
    f.advance(hours=2)
    docs.append(f.withdraw(amount="20"))
    seen = run(new_store(), docs)
    assert seen[1]["withdrawal_count_by_account_1h"] == 0
    assert seen[1]["withdrawal_amount_sum_by_account_24h"] == Decimal("10")


def test_credential_stuffing_counts_distinct_accounts_per_ip() -> None:
    f = EventFactory()
    docs = [f.login(f"victim-{i}", success=False) for i in range(6)]
    docs.append(f.login("victim-7", success=False))
    seen = run(new_store(), docs)
    assert seen[-1]["login_failed_account_distinct_by_ip_1h"] == 6


def test_money_received_shows_up_for_the_receiver() -> None:
    f = EventFactory()
    docs = [f.transfer(f"sender-{i}", to="mule", amount="100") for i in range(3)]
    docs.append(f.withdraw("mule", amount="250"))
    seen = run(new_store(), docs)
    assert seen[2]["transfer_received_amount_sum_by_counterparty_24h"] == Decimal("200")
    assert seen[3]["transfer_received_sender_distinct_by_account_24h"] == 3


def test_profile_learns_only_from_events_let_through() -> None:
    f = EventFactory()
    store = new_store()
    run(store, [f.payment(merchant="scammer")], learn=False)
    assert not store.profiles["alice"].knows_counterparty("merchant:scammer")
    run(store, [f.payment(merchant="grocer")], learn=True)
    assert store.profiles["alice"].knows_counterparty("merchant:grocer")


def test_facts_are_recorded_whatever_the_decision() -> None:
    f = EventFactory()
    store = new_store()
    run(store, [f.make("profile_change", profile={"field": "sim"})], learn=False)
    assert store.profiles["alice"].last_sim_change_ts is not None


def test_replaying_the_same_events_gives_the_same_features() -> None:
    f = EventFactory()
    docs = []
    for i in range(30):
        docs.append(f.transfer(f"s{i % 4}", to="mule", amount=str(10 + i)))
        docs.append(f.login(f"v{i % 7}", success=i % 3 == 0))
        f.advance(minutes=7)
    assert run(new_store(), docs) == run(new_store(), docs)


def test_checkpoint_round_trip_continues_identically() -> None:
    f = EventFactory()
    first = [f.transfer(f"s{i}", to="mule", amount="100") for i in range(4)]
    f.advance(minutes=5)
    later = [f.withdraw("mule", amount="300"), f.login("x", success=False)]
    original = new_store()
    run(original, first)
    restored = new_store()
    restored.restore((k, v) for k, v in original.checkpoint_rows() if v is not None)
    assert run(restored, later) == run(original, later)
    assert restored.profiles["s1"] == original.profiles["s1"]


def test_sweep_drops_entities_with_nothing_left_in_their_windows() -> None:
    f = EventFactory()
    store = new_store()
    run(store, [f.login(f"v{i}", success=False, network={"ip": f"10.0.0.{i}"}) for i in range(5)])
    f.advance(days=3)
    run(store, [f.withdraw("alice", amount="1")])
    removed = store.sweep()
    assert removed >= 5
    assert not any(key.startswith("i:10.0.0.") for key in store.entities)


def test_event_keys_tie_a_wallet_counterparty_to_its_account_key() -> None:
    f = EventFactory()
    keys = EventKeys(decode_event(f.transfer("alice", to="bob")))
    assert keys.receiver == "a:bob"
    assert keys.counterparty == "c:account:bob"
