from tests.support import EventFactory
from walletguard.enrich.location import Located
from walletguard.events.decode import decode_event
from walletguard.features.memory import MemoryFeatureStore
from walletguard.features.names import parse_feature_name
from walletguard.features.store import EventKeys

HOME = Located("CN", 31.2, 121.4)
REPORTED = parse_feature_name("reported_count_by_counterparty_7d")


def test_a_chargeback_counts_for_the_merchant_of_the_payment_it_reports() -> None:
    f = EventFactory()
    store = MemoryFeatureStore()
    store.maintain([REPORTED])
    payment = decode_event(f.payment("alice", merchant="shop-9"))
    store.update(payment, EventKeys(payment), learn=True, where=HOME)
    f.advance(days=7)
    chargeback = decode_event(
        f.make("chargeback", "alice", ref_event_id=payment.event_id, amount="30.00")
    )
    keys = EventKeys(chargeback)
    keys.reported = EventKeys(payment)
    store.update(chargeback, keys, learn=False, where=HOME)

    f.advance(minutes=1)
    later = decode_event(f.payment("bob", merchant="shop-9"))
    other = decode_event(f.payment("bob", merchant="shop-1"))
    assert store.read(later, EventKeys(later), [REPORTED]).values[REPORTED.name] == 1
    assert store.read(other, EventKeys(other), [REPORTED]).values[REPORTED.name] == 0
    f.advance(days=8)
    expired = decode_event(f.payment("bob", merchant="shop-9"))
    assert store.read(expired, EventKeys(expired), [REPORTED]).values[REPORTED.name] == 0


def test_a_chargeback_whose_payment_is_unknown_counts_nowhere() -> None:
    f = EventFactory()
    store = MemoryFeatureStore()
    store.maintain([REPORTED])
    chargeback = decode_event(f.make("chargeback", "alice", ref_event_id="nope", amount="1.00"))
    store.update(chargeback, EventKeys(chargeback), learn=False, where=HOME)
    assert store.entities == {}
