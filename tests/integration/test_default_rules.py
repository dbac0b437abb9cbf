"""Every signal family of the default ruleset fires on its attack and stays quiet on
ordinary behaviour. Each test runs a short story through the real engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support import FOREIGN_IP, HOSTING_IP, OTHER_CN_IP, EventFactory, Harness, codes
from walletguard.enrich.lists import ListEntity, ListEntry, ListKind
from walletguard.storage.uow import SqlUnitOfWork


def settled(h: Harness, f: EventFactory, account: str = "alice", amount: str = "5000.00") -> None:
    """An ordinary account, opened a month ago, with a card and money, used every day at 10:00."""
    h.decide_all(f.funded(account, amount))
    for _ in range(12):
        f.advance(days=2)
        h.decide(f.login(account))
        h.decide(f.payment(account, merchant="grocer", amount="35.00"))
    f.advance(days=1)


# 1. High-frequency binding ---------------------------------------------------------------


def test_one_device_binding_many_cards(harness: Harness, events: EventFactory) -> None:
    device = {"id": "farm-phone"}
    decisions = [
        harness.decide(events.bind(f"victim-{i}", token=f"stolen-{i}", device=device))
        for i in range(4)
    ]
    assert "BINDING_VELOCITY_DEVICE" not in codes(decisions[0])
    assert "BINDING_VELOCITY_DEVICE" in codes(decisions[3])


def test_one_card_on_many_wallets(harness: Harness, events: EventFactory) -> None:
    first = harness.decide(events.bind("w1", token="shared-card", device={"id": "d1"}))
    harness.decide(events.bind("w2", token="shared-card", device={"id": "d2"}))
    third = harness.decide(events.bind("w3", token="shared-card", device={"id": "d3"}))
    assert not codes(first) & {"TOKEN_SHARED_ACROSS_WALLETS", "TOKEN_ON_ANOTHER_WALLET"}
    assert "TOKEN_SHARED_ACROSS_WALLETS" in codes(third)


# 2. Hours ----------


def test_withdrawal_at_an_hour_the_user_is_never_active(
    harness: Harness, events: EventFactory
) -> None:
    settled(harness, events)
    usual = harness.decide(events.withdraw(token="card-alice", amount="50.00"))
    events.advance(hours=17)  # 03:00 local
    odd = harness.decide(events.withdraw(token="card-alice", amount="50.00"))
    assert not codes(usual) & {"UNUSUAL_HOUR_WITHDRAWAL", "SMALL_HOURS"}
    assert {"UNUSUAL_HOUR_WITHDRAWAL", "SMALL_HOURS"} <= codes(odd)


# 3. Devices ----------


def test_new_emulated_or_rooted_device_for_a_withdrawal(
    harness: Harness, events: EventFactory
) -> None:
    settled(harness, events)
    own = harness.decide(events.withdraw(token="card-alice", amount="50.00"))
    other = harness.decide(
        events.withdraw(
            token="card-alice",
            amount="50.00",
            device={"id": "emu-1", "is_emulator": True, "is_rooted": True},
        )
    )
    assert not codes(own) & {"NEW_DEVICE", "EMULATOR", "ROOTED_DEVICE"}
    assert {"NEW_DEVICE", "EMULATOR", "ROOTED_DEVICE"} <= codes(other)


# 4. Where ----------


def test_impossible_travel_new_country_and_hosting_network(
    harness: Harness, events: EventFactory
) -> None:
    settled(harness, events)
    harness.decide(events.login())
    events.advance(hours=1)
    far = harness.decide(events.login(network={"ip": FOREIGN_IP}))
    assert {"IMPOSSIBLE_TRAVEL", "NEW_COUNTRY"} <= codes(far)
    assert far.decision != "allow"
    events.advance(hours=1)
    cloud = harness.decide(events.login("bob", network={"ip": HOSTING_IP}))
    assert "HOSTING_NETWORK" in codes(cloud)


def test_a_plausible_journey_is_not_impossible_travel(
    harness: Harness, events: EventFactory
) -> None:
    settled(harness, events)
    harness.decide(events.login())
    events.advance(hours=20)  # Shanghai → New York in 20 h: a flight
    later = harness.decide(events.login(network={"ip": FOREIGN_IP}))
    assert "IMPOSSIBLE_TRAVEL" not in codes(later)
    assert "NEW_COUNTRY" in codes(later)
    events.advance(hours=1)
    same_country = harness.decide(events.login("carol", network={"ip": OTHER_CN_IP}))
    assert not codes(same_country) & {"IMPOSSIBLE_TRAVEL", "NEW_COUNTRY", "HOSTING_NETWORK"}


def test_an_event_arriving_late_is_not_judged_from_where_the_account_went_after_it(
    harness: Harness, events: EventFactory
) -> None:
    """Beijing at 13:00, Shanghai at 19:00, then Beijing's 16:05 event arrives late: no
    journey can be judged backwards from Shanghai, and the account is still in Shanghai."""
    beijing, shanghai = {"lat": 39.90, "lon": 116.40}, {"lat": 31.23, "lon": 121.47}
    settled(harness, events)
    start = events.now
    harness.decide(events.login(geo=beijing))
    events.advance(hours=6)
    harness.decide(events.login(geo=shanghai))
    events.now = start + timedelta(hours=3, minutes=5)
    late = harness.decide(events.login(geo=beijing))
    assert "IMPOSSIBLE_TRAVEL" not in codes(late)
    events.now = start + timedelta(hours=6, minutes=30)
    assert "IMPOSSIBLE_TRAVEL" not in codes(harness.decide(events.login(geo=shanghai)))


# 5. What is bound ----------


def test_binding_checks(harness: Harness, events: EventFactory) -> None:
    settled(harness, events)
    fine = harness.decide(events.bind(token="card-2"))
    odd = harness.decide(
        events.bind(
            token="corp-1",
            binding={
                "kind": "corporate",
                "institution": "Bank of Nowhere",
                "holder_name_match": False,
                "real_name_verified": False,
            },
        )
    )
    assert not codes(fine) & {
        "HOLDER_NAME_MISMATCH",
        "NOT_REAL_NAME_VERIFIED",
        "CORPORATE_ON_PERSONAL",
    }
    assert {"HOLDER_NAME_MISMATCH", "NOT_REAL_NAME_VERIFIED", "CORPORATE_ON_PERSONAL"} <= codes(odd)
    assert odd.decision in ("review", "block")


def test_a_kind_of_account_never_bound_before(harness: Harness, events: EventFactory) -> None:
    settled(harness, events)
    decision = harness.decide(events.bind(token="sec-1", binding={"kind": "securities"}))
    assert "NEW_KIND_OF_ACCOUNT" in codes(decision)


# 6. Sign-in habits --------------------------------------------------------------------------------


def test_sms_sign_in_on_an_always_biometric_account(harness: Harness, events: EventFactory) -> None:
    harness.decide_all(events.funded())
    for _ in range(5):
        events.advance(hours=8)
        assert "UNUSUAL_AUTH_METHOD" not in codes(harness.decide(events.login(method="biometric")))
    events.advance(hours=8)
    assert "UNUSUAL_AUTH_METHOD" in codes(harness.decide(events.login(method="sms_otp")))


# 7. Credential stuffing ----------


def test_failed_logins_across_accounts_from_one_ip(harness: Harness, events: EventFactory) -> None:
    bot = {"ip": "185.220.101.1"}
    for i in range(5):
        events.advance(seconds=20)
        harness.decide(
            events.login(f"victim-{i}", success=False, network=bot, device={"id": "bot"})
        )
    events.advance(seconds=20)
    sixth = harness.decide(
        events.login("victim-5", success=True, network=bot, device={"id": "bot"})
    )
    assert "CREDENTIAL_STUFFING_IP" in codes(sixth)
    assert sixth.decision != "allow"


def test_a_user_mistyping_once_is_not_stuffing(harness: Harness, events: EventFactory) -> None:
    settled(harness, events)
    harness.decide(events.login(success=False))
    events.advance(seconds=30)
    ok = harness.decide(events.login())
    assert not codes(ok) & {"CREDENTIAL_STUFFING_IP", "FAILED_LOGINS", "SUCCESS_AFTER_FAILURES"}


def test_many_failures_on_one_account(harness: Harness, events: EventFactory) -> None:
    settled(harness, events)
    for _ in range(5):
        events.advance(minutes=2)
        harness.decide(events.login(success=False, network={"ip": FOREIGN_IP}, device={"id": "x"}))
    events.advance(minutes=2)
    decision = harness.decide(
        events.login(success=True, network={"ip": FOREIGN_IP}, device={"id": "x"})
    )
    assert {"FAILED_LOGINS", "SUCCESS_AFTER_FAILURES"} <= codes(decision)


# 8. Transaction password guessing ----------


def test_transaction_password_guessing(harness: Harness, events: EventFactory) -> None:
    settled(harness, events)
    for _ in range(3):
        events.advance(minutes=1)
        harness.decide(
            events.make("txn_password_verify", auth={"method": "txn_password", "success": False})
        )
    events.advance(minutes=1)
    payment = harness.decide(events.payment(amount="800.00"))
    assert "TXN_PASSWORD_GUESSING" in codes(payment)
    assert payment.decision != "allow"


# 9. Credential changes then money ----------


def test_sim_change_then_reset_then_card_then_withdrawal(
    harness: Harness, events: EventFactory
) -> None:
    settled(harness, events)
    harness.decide(events.make("profile_change", profile={"field": "sim"}, device=None))
    events.advance(hours=1)
    reset = harness.decide(
        events.make("password_reset_complete", auth={"method": "sms_otp", "success": True})
    )
    assert {"SIM_CHANGE_RECENT", "RESET_AFTER_SIM_CHANGE"} <= codes(reset)
    events.advance(minutes=10)
    harness.decide(events.bind(token="fresh-card"))
    events.advance(minutes=10)
    withdrawal = harness.decide(events.withdraw(token="card-alice", amount="4000.00"))
    assert {"SIM_CHANGE_RECENT", "RESET_RECENT"} <= codes(withdrawal)
    assert withdrawal.decision != "allow"


def test_repeated_password_resets(harness: Harness, events: EventFactory) -> None:
    settled(harness, events)
    decisions = []
    for _ in range(3):
        events.advance(hours=5)
        decisions.append(
            harness.decide(
                events.make("password_reset_request", auth={"method": "email_otp", "success": True})
            )
        )
    assert "REPEATED_RESETS" not in codes(decisions[0])
    assert "REPEATED_RESETS" in codes(decisions[2])


# 10. Withdrawals ----------


def test_withdrawal_far_above_usual_draining_to_a_fresh_card(
    harness: Harness, events: EventFactory
) -> None:
    settled(harness, events, amount="20000.00")
    for _ in range(3):
        events.advance(days=1)
        assert "AMOUNT_FAR_ABOVE_USUAL" not in codes(
            harness.decide(events.withdraw(token="card-alice", amount="100.00"))
        )
    events.advance(days=1)
    harness.decide(events.bind(token="new-card"))
    events.advance(minutes=5)
    big = harness.decide(events.withdraw(token="new-card", amount="19000.00"))
    assert {"AMOUNT_FAR_ABOVE_USUAL", "DRAINS_BALANCE", "FRESHLY_BOUND_DESTINATION"} <= codes(big)
    assert big.decision != "allow"


def test_first_withdrawal_of_a_brand_new_account(harness: Harness, events: EventFactory) -> None:
    harness.decide_all(events.funded("newbie", "3000.00"))
    events.advance(hours=2)
    decision = harness.decide(events.withdraw("newbie", token="card-newbie", amount="2500.00"))
    assert "FIRST_WITHDRAWAL_NEW_ACCOUNT" in codes(decision)


# 11. Fake top-ups ----------


def test_forged_or_mismatched_confirmations(harness: Harness, events: EventFactory) -> None:
    settled(harness, events)
    cases = {
        "bad-sig": {"signature_valid": False},
        "wrong-amount": {"amount": "9999.00"},
        "wrong-merchant": {"topup": {"merchant_no": "M-666"}},
    }
    for ref, change in cases.items():
        harness.decide(events.topup(ref=ref, amount="100.00"))
        events.advance(seconds=20)
        confirm = events.confirm(ref=ref, amount=change.pop("amount", "100.00"), **change)
        decision = harness.decide(confirm)
        assert "TOPUP_CONFIRMATION_MISMATCH" in codes(decision), ref
        assert decision.risk_level == "critical"
    never_reported = harness.decide(events.confirm(ref="ghost", amount="500.00"))
    assert "TOPUP_CONFIRMATION_MISMATCH" in codes(never_reported)


def test_a_genuine_confirmation_is_quiet(harness: Harness, events: EventFactory) -> None:
    settled(harness, events)
    harness.decide(events.topup(ref="real", amount="200.00"))
    events.advance(seconds=20)
    decision = harness.decide(events.confirm(ref="real", amount="200.00"))
    assert decision.decision == "allow"
    assert not codes(decision)


def test_card_testing_bursts_of_tiny_topups(harness: Harness, events: EventFactory) -> None:
    settled(harness, events)
    decisions = []
    for i in range(5):
        events.advance(minutes=3)
        decisions.append(harness.decide(events.topup(ref=f"tiny-{i}", amount="1.00")))
    assert "TOPUP_BURST_SMALL" not in codes(decisions[0])
    assert "TOPUP_BURST_SMALL" in codes(decisions[4])


def test_unconfirmed_topups_then_money_out(harness: Harness, events: EventFactory) -> None:
    settled(harness, events)
    for i in range(2):
        events.advance(minutes=5)
        harness.decide(events.topup(ref=f"never-{i}", amount="3000.00"))
    events.advance(minutes=30)
    decision = harness.decide(events.withdraw(token="card-alice", amount="100.00"))
    assert "UNCONFIRMED_TOPUPS" in codes(decision)


# 12. Mules ----------


def test_new_account_collects_from_many_then_cashes_out(
    harness: Harness, events: EventFactory
) -> None:
    harness.decide_all(events.funded("mule", "10.00"))
    for i in range(6):
        harness.decide_all(events.funded(f"victim-{i}", "2000.00"))
        events.advance(minutes=10)
        harness.decide(events.transfer(f"victim-{i}", to="mule", amount="1500.00"))
    payee_view = harness.decide(events.transfer("victim-extra", to="mule", amount="10.00"))
    assert "PAYEE_COLLECTS_FROM_MANY" in codes(payee_view)
    events.advance(minutes=10)
    cash_out = harness.decide(events.withdraw("mule", token="card-mule", amount="8500.00"))
    assert {"MULE_MANY_SENDERS", "MULE_NEW_ACCOUNT_INFLOW", "HIGH_PASS_THROUGH"} <= codes(cash_out)
    assert cash_out.decision in ("review", "block")


def test_a_new_account_cashing_out_what_strangers_sent_it(
    harness: Harness, events: EventFactory
) -> None:
    harness.decide_all(events.funded("fresh-mule", "10.00"))
    for i in range(2):
        harness.decide_all(events.funded(f"payer-{i}", "2000.00"))
        events.advance(minutes=10)
        harness.decide(events.transfer(f"payer-{i}", to="fresh-mule", amount="400.00"))
    events.advance(minutes=20)
    cash_out = harness.decide(
        events.withdraw("fresh-mule", token="card-fresh-mule", amount="350.00")
    )
    assert "MULE_NEW_ACCOUNT_CASH_OUT" in codes(cash_out)
    assert cash_out.decision in ("review", "block")  # a mule passes an SMS code: no step-up


def test_a_new_account_withdrawing_its_own_top_up_is_quiet(
    harness: Harness, events: EventFactory
) -> None:
    harness.decide_all(events.funded("newbie", "3000.00"))
    harness.decide_all(events.funded("friend", "500.00"))
    harness.decide(events.transfer("friend", to="newbie", amount="50.00"))
    events.advance(hours=3)
    withdrawal = harness.decide(events.withdraw("newbie", token="card-newbie", amount="1000.00"))
    assert "MULE_NEW_ACCOUNT_CASH_OUT" not in codes(withdrawal)


def test_paying_friends_is_not_mule_activity(harness: Harness, events: EventFactory) -> None:
    settled(harness, events)
    settled(harness, events, account="bob")
    harness.decide(events.transfer("bob", to="alice", amount="200.00"))
    events.advance(hours=3)
    decision = harness.decide(events.withdraw(token="card-alice", amount="100.00"))
    assert not codes(decision) & {
        "MULE_MANY_SENDERS",
        "MULE_NEW_ACCOUNT_INFLOW",
        "HIGH_PASS_THROUGH",
    }


def test_many_accounts_on_one_device(harness: Harness, events: EventFactory) -> None:
    farm = {"id": "farm"}
    decisions = []
    for i in range(5):
        events.advance(minutes=30)
        decisions.append(harness.decide(events.register(f"fresh-{i}", device=farm)))
    assert not codes(decisions[1]) & {"DEVICE_SHARED", "DEVICE_OPENS_ACCOUNTS"}
    assert {"DEVICE_SHARED", "DEVICE_OPENS_ACCOUNTS"} <= codes(decisions[4])


# 13. Lists ----------


def add_to_list(h: Harness, entry: ListEntry) -> None:
    uow = SqlUnitOfWork(h.runtime.database)
    uow.lists.add(entry, at=datetime.now(UTC))
    uow.commit()
    uow.close()


def test_block_watch_and_allow_lists(harness: Harness, events: EventFactory) -> None:
    settled(harness, events)
    settled(harness, events, account="bob")
    add_to_list(
        harness, ListEntry(ListKind.BLOCK, ListEntity.COUNTERPARTY, "account:mule-9", "known mule")
    )
    add_to_list(
        harness, ListEntry(ListKind.WATCH, ListEntity.DEVICE, "phone-bob", "seen in a dispute")
    )
    add_to_list(harness, ListEntry(ListKind.ALLOW, ListEntity.ACCOUNT, "alice", "verified VIP"))
    blocked = harness.decide(events.transfer("bob", to="mule-9", amount="10.00"))
    assert {"BLOCK_LIST", "WATCH_LIST"} <= codes(blocked)
    assert blocked.decision == "block"
    assert "account:mule-9" in next(r.message for r in blocked.reasons if r.code == "BLOCK_LIST")
    allowed = harness.decide(events.payment("alice", amount="10.00"))
    assert "ALLOW_LIST" in codes(allowed)
    quiet = harness.decide(events.payment("carol-unlisted", amount="10.00", device={"id": "c"}))
    assert not codes(quiet) & {"BLOCK_LIST", "WATCH_LIST", "ALLOW_LIST"}


# 14. Payees ----------


def test_first_time_payee_with_a_large_amount(harness: Harness, events: EventFactory) -> None:
    settled(harness, events, amount="20000.00")
    harness.decide(events.payment(merchant="grocer", amount="6000.00"))
    known = harness.decide(events.payment(merchant="grocer", amount="6000.00"))
    new = harness.decide(events.payment(merchant="watch-shop", amount="6000.00"))
    assert "NEW_PAYEE_LARGE_AMOUNT" not in codes(known)
    assert "NEW_PAYEE_LARGE_AMOUNT" in codes(new)


def test_payee_named_in_a_fraud_report(harness: Harness, events: EventFactory) -> None:
    settled(harness, events)
    settled(harness, events, account="bob")
    scam = events.transfer("alice", to="scammer", amount="100.00")
    harness.decide(scam)
    events.advance(days=2)
    harness.decide(events.make("fraud_report", "alice", ref_event_id=scam["event_id"]))
    events.advance(hours=1)
    next_victim = harness.decide(events.transfer("bob", to="scammer", amount="100.00"))
    assert "PAYEE_IN_FRAUD_REPORTS" in codes(next_victim)
    assert next_victim.risk_level in ("high", "critical")
    other = harness.decide(events.transfer("bob", to="alice", amount="10.00"))
    assert "PAYEE_IN_FRAUD_REPORTS" not in codes(other)


# What an attacker's failed attempts must not do to the real owner ----------


def test_stuffed_wrong_passwords_do_not_freeze_the_owner(
    harness: Harness, events: EventFactory
) -> None:
    settled(harness, events)
    bot = {"ip": HOSTING_IP}
    for i in range(6):
        events.advance(seconds=10)
        harness.decide(
            events.login(
                f"other-{i}", success=False, network=bot, device={"id": "bot", "is_emulator": True}
            )
        )
    attempt = harness.decide(
        events.login(success=False, network=bot, device={"id": "bot", "is_emulator": True})
    )
    assert attempt.risk_level in ("high", "critical")
    assert attempt.account_state == "active"
    assert not {"freeze_account", "restrict_account"} & set(attempt.actions)
    events.advance(minutes=5)
    owner = harness.decide(events.payment(amount="20.00"))
    assert owner.decision == "allow"


def test_a_failed_sign_in_far_away_teaches_nothing(harness: Harness, events: EventFactory) -> None:
    settled(harness, events)
    harness.decide(
        events.login(success=False, network={"ip": FOREIGN_IP}, device={"id": "intruder"})
    )
    events.advance(minutes=30)
    home = harness.decide(events.login())
    assert not codes(home) & {"IMPOSSIBLE_TRAVEL", "NEW_COUNTRY"}


def test_a_scam_report_marks_the_payee_not_the_victims_own_phone(
    harness: Harness, events: EventFactory
) -> None:
    settled(harness, events)
    scam = events.transfer("alice", to="scammer-2", amount="300.00")
    harness.decide(scam)
    events.advance(days=1)
    harness.decide(events.make("fraud_report", "alice", ref_event_id=scam["event_id"]))
    events.advance(hours=1)
    later = harness.decide(events.payment(amount="20.00"))
    assert "DEVICE_IN_FRAUD_REPORTS" not in codes(later)
    to_scammer = harness.decide(events.transfer("alice", to="scammer-2", amount="10.00"))
    assert "PAYEE_IN_FRAUD_REPORTS" in codes(to_scammer)
