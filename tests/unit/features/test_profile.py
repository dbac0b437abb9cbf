from tests.support import EventFactory
from walletguard.events.decode import decode_event
from walletguard.features.profile import AccountProfile


def learn_all(profile: AccountProfile, docs: list[dict]) -> None:
    for doc in docs:
        event = decode_event(doc)
        profile.record_fact(event)
        profile.learn(event, "CN", None, None)


def test_usual_hours_need_history_then_judge() -> None:
    f = EventFactory(start="2026-03-02T10:00:00+08:00")
    profile = AccountProfile()
    learn_all(profile, [f.login() for _ in range(3)])
    assert profile.hour_is_usual(3) is None
    for _ in range(10):
        f.advance(days=1)
        learn_all(profile, [f.login()])
    assert profile.hour_is_usual(10) is True
    assert profile.hour_is_usual(11) is True  # within an hour of habit
    assert profile.hour_is_usual(3) is False


def test_usual_auth_method_is_the_most_used() -> None:
    f = EventFactory()
    profile = AccountProfile()
    learn_all(
        profile, [f.login(method="biometric") for _ in range(4)] + [f.login(method="sms_otp")]
    )
    assert profile.usual_auth_method() == "biometric"


def test_amount_statistics_are_exact_units() -> None:
    f = EventFactory()
    profile = AccountProfile()
    learn_all(profile, [f.withdraw(amount="100.10"), f.withdraw(amount="200.20")])
    assert profile.amount_mean_units("withdrawal") == 1_501_500
    assert profile.amounts["withdrawal"].max_units == 2_002_000


def test_devices_are_bounded() -> None:
    f = EventFactory()
    profile = AccountProfile()
    learn_all(profile, [f.login(device={"id": f"d{i}"}) for i in range(100)])
    assert len(profile.devices) == 32
    assert "d99" in profile.devices
    assert "d0" not in profile.devices


def test_binding_and_unbinding() -> None:
    f = EventFactory()
    profile = AccountProfile()
    learn_all(profile, [f.bind(token="t1", binding={"kind": "credit_card", "institution": "CMB"})])
    assert "t1" in profile.bound
    assert "CMB" in profile.institutions
    assert "credit_card" in profile.binding_kinds
    learn_all(profile, [f.make("account_unbind", binding={"kind": "credit_card", "token": "t1"})])
    assert "t1" not in profile.bound
    assert "CMB" in profile.institutions


def test_known_payees_are_bounded_oldest_first() -> None:
    f = EventFactory()
    profile = AccountProfile()
    learn_all(profile, [f.payment(merchant=f"m{i}") for i in range(300)])
    assert profile.knows_counterparty("merchant:m299")
    assert not profile.knows_counterparty("merchant:m0")
    assert not profile.knows_counterparty("account:m299")
    assert len(profile.counterparties) == 8 * 256
