from walletguard.events.model import EventType
from walletguard.scoring.anomaly import MIN_POPULATION, PopulationStats

PAY = EventType.PAYMENT


def units(major: int) -> int:
    return major * 10_000


def test_amounts_far_above_everyones_score_high_for_a_new_account() -> None:
    stats = PopulationStats()
    assert stats.score(PAY, units(40), 0, None) is None  # warming up
    for i in range(MIN_POPULATION):
        stats.observe(PAY, units(20 + i % 40))
    stats.observe(EventType.LOGIN, units(5))  # not a money-out event: ignored
    small = stats.score(PAY, units(40), 0, None)
    big = stats.score(PAY, units(4000), 0, None)
    assert stats.score(EventType.TRANSFER, units(40), 0, None) is None
    assert small is not None
    assert big is not None
    assert abs(small) < 1.5 < 4 < big


def test_an_account_with_history_is_judged_against_its_own_mean() -> None:
    stats = PopulationStats()
    for i in range(MIN_POPULATION):
        stats.observe(PAY, units(20 + i % 40))
    own = stats.score(PAY, units(4000), 10, units(4000))
    assert own is not None
    assert abs(own) < 0.5
