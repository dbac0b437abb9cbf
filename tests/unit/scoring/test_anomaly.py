from tests.support import EventFactory
from walletguard.events.decode import decode_event
from walletguard.scoring.anomaly import MIN_POPULATION, PopulationStats


def test_amounts_far_above_everyones_score_high_for_a_new_account() -> None:
    f = EventFactory()
    stats = PopulationStats()
    usual = decode_event(f.payment(amount="40.00"))
    assert stats.score(usual, 0, None) is None  # warming up
    for i in range(MIN_POPULATION):
        stats.observe(decode_event(f.payment(amount=f"{20 + i % 40}.00")))
    huge = decode_event(f.payment(amount="4000.00"))
    small = stats.score(usual, 0, None)
    big = stats.score(huge, 0, None)
    assert small is not None
    assert big is not None
    assert abs(small) < 1.5 < 4 < big


def test_an_account_with_history_is_judged_against_its_own_mean() -> None:
    f = EventFactory()
    stats = PopulationStats()
    for i in range(MIN_POPULATION):
        stats.observe(decode_event(f.payment(amount=f"{20 + i % 40}.00")))
    big_spender = decode_event(f.payment(amount="4000.00"))
    own = stats.score(big_spender, 10, 4000_0000)
    assert own is not None
    assert abs(own) < 0.5
