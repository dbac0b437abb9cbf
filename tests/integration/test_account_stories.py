"""Account security, as whole stories through the Python API, on SQLite and PostgreSQL:
lock-outs, restricted accounts, password resets and their cool-off, step-ups that
release held money, self-service freeze links, unfreezing with maker-checker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from tests.support import FOREIGN_IP, EventFactory, Harness, codes
from walletguard.accounts import service
from walletguard.accounts.codes import SecretSealer, one_time_code
from walletguard.accounts.stepup import answer_with_code
from walletguard.composition import key_store
from walletguard.kernel.errors import Conflict, IllegalTransition, Refused
from walletguard.kernel.money import from_units
from walletguard.ledger import operator
from walletguard.ledger import service as ledger_service
from walletguard.ledger.model import ExpiryAction, Hold, wallet_account
from walletguard.storage import tables as t

ATTACKER = {"device": {"id": "attacker-phone", "os": "android"}, "network": {"ip": FOREIGN_IP}}


@pytest.fixture
def h(db_url: str) -> Iterator[Harness]:
    harness = Harness(db_url)
    yield harness
    harness.close()


def balance(h: Harness, account: str = "alice") -> dict[str, Decimal]:
    with h.runtime.database.reading() as conn:
        row = conn.execute(
            select(t.balances).where(t.balances.c.account == wallet_account(account))
        ).one()
    return {k: from_units(getattr(row, k)) for k in ("posted", "held")}


def transitions(h: Harness, account: str = "alice") -> list[tuple[str, str, str]]:
    with h.runtime.database.reading() as conn:
        c = t.account_state_changes.c
        rows = conn.execute(
            select(c.from_state, c.to_state, c.actor).where(c.account_id == account).order_by(c.id)
        )
        return [(r.from_state, r.to_state, r.actor) for r in rows]


def audit_actions(h: Harness) -> list[str]:
    with h.runtime.database.reading() as conn:
        return list(
            conn.execute(select(t.audit_log.c.action).order_by(t.audit_log.c.seq)).scalars()
        )


def settled(h: Harness, f: EventFactory, account: str = "alice", amount: str = "1000.00") -> None:
    """An ordinary funded account, a few days old."""
    h.decide_all(f.funded(account, amount))
    f.advance(days=5)


def until(decision: Any) -> datetime:
    assert decision.locked_until is not None
    return datetime.fromisoformat(decision.locked_until)


# -- lock-outs ---------------------------------------------------------------------------


def test_password_guessing_ends_locked_and_its_withdrawal_is_refused(
    h: Harness, events: EventFactory
) -> None:
    settled(h, events)
    decisions = []
    for _ in range(5):
        events.advance(seconds=15)
        decisions.append(h.decide(events.login(success=False, **ATTACKER)))
    assert [d.account_state for d in decisions] == ["active"] * 4 + ["locked"]
    locked = decisions[-1]
    assert locked.decision == "block"
    assert "ACCOUNT_LOCKED" in codes(locked)
    assert until(locked) == events.now + timedelta(minutes=15)

    events.advance(minutes=1)
    withdrawal = h.decide(events.withdraw(token="card-alice", amount="100.00", **ATTACKER))
    assert withdrawal.decision == "block"
    assert "ACCOUNT_LOCKED" in codes(withdrawal)
    again = h.decide(events.login(success=False, **ATTACKER))
    assert again.decision == "block"
    assert again.locked_until == locked.locked_until
    assert balance(h)["posted"] == Decimal("1000.00")

    # The lock ends by the clock: the next event after its end records the unlock. The
    # holder signing in then is asked to prove who they are (failures in the last hour).
    events.advance(minutes=15)
    back = h.decide(events.login(success=True))
    assert back.account_state == "active"
    assert back.decision == "challenge"
    assert "ACCOUNT_LOCKED" not in codes(back)
    assert transitions(h)[-2:] == [
        ("active", "locked", "system:lockout"),
        ("locked", "active", "clock"),
    ]


def test_lockouts_grow_with_the_failures(h: Harness, events: EventFactory) -> None:
    settled(h, events)
    for _ in range(5):
        events.advance(seconds=10)
        first = h.decide(events.login(success=False))
    assert until(first) == events.now + timedelta(minutes=15)
    for _ in range(4):
        events.advance(minutes=16)  # each failure after a lock-out ends locks again
        h.decide(events.login(success=False))
    events.advance(minutes=16)
    tenth = h.decide(events.login(success=False))
    assert until(tenth) == events.now + timedelta(hours=24)


def test_a_success_starts_the_count_again(h: Harness, events: EventFactory) -> None:
    settled(h, events)
    for _ in range(4):
        events.advance(seconds=10)
        h.decide(events.login(success=False))
    h.decide(events.login(success=True))
    for _ in range(4):
        events.advance(seconds=10)
        last = h.decide(events.login(success=False))
    assert last.account_state == "active"
    assert last.locked_until is None


def test_transaction_password_guessing_locks_money_out_but_not_sign_in(
    h: Harness, events: EventFactory
) -> None:
    settled(h, events)
    for _ in range(5):
        events.advance(seconds=10)
        last = h.decide(
            events.make("txn_password_verify", auth={"method": "txn_password", "success": False})
        )
    assert last.account_state == "locked"
    assert last.locked_until is not None
    assert h.decide(events.login()).decision == "allow"
    pay = h.decide(events.payment(amount="10.00"))
    assert pay.decision == "block"
    assert "ACCOUNT_LOCKED" in codes(pay)
    topup = h.decide(events.topup(amount="50.00", ref="r-locked"))
    assert "ACCOUNT_LOCKED" not in codes(topup)


# -- restricted ---------------------------------------------------------------------------


def test_a_restricted_account_accepts_a_topup_and_refuses_a_withdrawal(
    h: Harness, events: EventFactory
) -> None:
    settled(h, events)
    with h.runtime.transaction() as uow:
        service.restrict(
            uow, "alice", reason="investigating a complaint", actor="analyst:kim", at=events.now
        )
    events.advance(minutes=1)
    assert h.decide(events.login()).decision == "allow"
    assert h.decide(events.topup(amount="200.00", ref="r2")).decision == "allow"
    events.advance(seconds=30)
    confirmed = h.decide(events.confirm(amount="200.00", ref="r2"))
    assert confirmed.decision == "allow"
    assert confirmed.account_state == "restricted"
    assert balance(h)["posted"] == Decimal("1200.00")
    withdrawal = h.decide(events.withdraw(token="card-alice", amount="100.00"))
    assert withdrawal.decision == "block"
    assert "ACCOUNT_RESTRICTED" in codes(withdrawal)
    assert "ACCOUNT_RESTRICTED" in codes(h.decide(events.bind(token="card-new")))
    assert balance(h)["posted"] == Decimal("1200.00")
    assert transitions(h)[-1] == ("active", "restricted", "analyst:kim")


# -- password reset --------------------------------------------------------------------------


def reset_request(f: EventFactory, account: str = "alice", **fields: Any) -> dict[str, Any]:
    return f.make("password_reset_request", account, **fields)


def reset_complete(f: EventFactory, method: str = "sms_otp", **fields: Any) -> dict[str, Any]:
    return f.make("password_reset_complete", auth={"method": method, "success": True}, **fields)


def test_sim_change_then_sms_reset_then_new_card_then_withdrawal_is_stopped(
    h: Harness, events: EventFactory
) -> None:
    settled(h, events)
    h.decide(events.make("profile_change", profile={"field": "sim"}))
    events.advance(minutes=30)
    request = h.decide(reset_request(events))
    assert request.decision == "challenge"
    assert "SIM_CHANGE_RECENT" in codes(request)
    assert not {"step_up:sms_otp"} & set(request.actions)  # an SMS code proves nothing now
    events.advance(minutes=5)
    h.decide(reset_complete(events, "sms_otp"))
    events.advance(minutes=10)
    card = h.decide(events.bind(token="card-mule", binding={"institution": "CMB"}))
    assert card.decision == "block"
    events.advance(minutes=5)
    withdrawal = h.decide(events.withdraw(token="card-mule", amount="900.00"))
    assert withdrawal.decision == "block"
    assert balance(h) == {"posted": Decimal("1000.00"), "held": Decimal(0)}


def test_a_reset_asks_for_more_proof_as_its_risk_grows(h: Harness, events: EventFactory) -> None:
    settled(h, events)
    settled(h, events, "bob")
    calm = h.decide(reset_request(events))
    assert calm.decision == "challenge"
    assert "step_up:sms_otp" in calm.actions
    assert calm.challenge_id is not None
    h.decide(events.make("profile_change", "bob", profile={"field": "sim"}))
    events.advance(minutes=10)
    risky = h.decide(reset_request(events, "bob", auth={"method": "sms_otp", "success": True}))
    assert risky.risk_level == "high"
    assert "step_up:manual_kyc" in risky.actions
    assert risky.case_id is not None


def test_an_sms_verified_reset_makes_withdrawals_and_bindings_wait(
    h: Harness, events: EventFactory
) -> None:
    settled(h, events)
    request = h.decide(reset_request(events))
    assert request.challenge_id is not None
    code = one_time_code(key_store().secret("otp"), request.challenge_id)
    events.advance(minutes=2)
    with h.runtime.transaction() as uow:
        challenge = uow.challenges.get(request.challenge_id)
        assert challenge is not None
        answer = answer_with_code(
            challenge,
            code,
            at=events.now,
            accounts=uow.accounts,
            otp_key=key_store().secret("otp"),
            sealer=SecretSealer(key_store().secret("totp")),
        )
    assert answer["step_up"]["success"] is True
    assert h.decide(answer).decision == "allow"
    events.advance(minutes=1)
    done = h.decide(reset_complete(events, "sms_otp"))
    assert done.decision == "allow"

    events.advance(hours=1)
    withdrawal = h.decide(events.withdraw(token="card-alice", amount="100.00"))
    assert withdrawal.decision == "block"
    assert "RESET_COOL_OFF" in codes(withdrawal)
    assert "RESET_COOL_OFF" in codes(h.decide(events.bind(token="card-2")))
    assert h.decide(events.payment(amount="20.00")).decision == "allow"
    h.decide_all(events.funded("mule", "1.00"))
    to_a_new_wallet = h.decide(events.transfer(to="mule", amount="200.00"))
    assert to_a_new_wallet.decision == "challenge"  # the taken-over account's way out
    assert "RESET_THEN_NEW_PAYEE" in codes(to_a_new_wallet)
    assert balance(h)["held"] == Decimal("200.00")

    events.advance(hours=24)
    assert h.decide(events.withdraw(token="card-alice", amount="100.00")).decision == "allow"
    assert "account.password_reset" in audit_actions(h)


def test_a_face_verified_reset_needs_no_cool_off(h: Harness, events: EventFactory) -> None:
    settled(h, events)
    h.decide(reset_request(events))
    events.advance(minutes=3)
    assert h.decide(reset_complete(events, "face")).decision == "allow"
    events.advance(hours=1)
    assert h.decide(events.withdraw(token="card-alice", amount="100.00")).decision == "allow"


def test_a_verified_reset_ends_a_lock_out(h: Harness, events: EventFactory) -> None:
    settled(h, events)
    for _ in range(5):
        events.advance(seconds=10)
        h.decide(events.login(success=False))
    events.advance(minutes=1)
    assert h.decide(reset_complete(events, "face")).account_state == "active"
    signed_in = h.decide(events.login())
    assert signed_in.decision != "block"
    assert "ACCOUNT_LOCKED" not in codes(signed_in)
    assert transitions(h)[-1] == ("locked", "active", "user")


def test_an_unverified_reset_is_refused(h: Harness, events: EventFactory) -> None:
    settled(h, events)
    refused = h.decide(
        events.make("password_reset_complete", auth={"method": "sms_otp", "success": False})
    )
    assert refused.decision == "block"
    assert "RESET_NOT_VERIFIED" in codes(refused)
    # the password is what is being reset: knowing one proves nothing about who asks
    for method in ("password", "txn_password"):
        events.advance(minutes=1)
        by_password = h.decide(reset_complete(events, method))
        assert "RESET_NOT_VERIFIED" in codes(by_password), method


# -- step-ups ----------------------------------------------------------------------------------


def step_up(
    f: EventFactory, challenge_id: str, method: str, success: bool, **fields: Any
) -> dict[str, Any]:
    return f.make(
        "step_up_result",
        step_up={"challenge_id": challenge_id, "method": method, "success": success},
        **fields,
    )


def held_withdrawal(h: Harness, f: EventFactory) -> Any:
    settled(h, f)
    h.decide(f.make("profile_change", profile={"field": "sim"}))
    f.advance(hours=1)
    held = h.decide(f.withdraw(token="card-alice", amount="300.00"))
    assert held.decision == "challenge"
    assert "step_up:face" in held.actions
    assert held.hold_id is not None
    assert balance(h) == {"posted": Decimal("1000.00"), "held": Decimal("300.00")}
    return held


def test_a_passed_face_check_releases_the_held_withdrawal(h: Harness, events: EventFactory) -> None:
    held = held_withdrawal(h, events)
    events.advance(minutes=2)
    passed = h.decide(step_up(events, held.challenge_id, "face", True))
    assert passed.decision == "allow"
    assert balance(h) == {"posted": Decimal("700.00"), "held": Decimal(0)}
    again = h.decide(step_up(events, held.challenge_id, "face", True))
    assert "CHALLENGE_RESOLVED" in codes(again)
    assert balance(h)["posted"] == Decimal("700.00")


def test_failed_face_checks_refuse_the_withdrawal_and_release_the_money(
    h: Harness, events: EventFactory
) -> None:
    held = held_withdrawal(h, events)
    first = h.decide(step_up(events, held.challenge_id, "face", False))
    assert first.decision == "challenge"
    assert first.challenge_id == held.challenge_id
    h.decide(step_up(events, held.challenge_id, "face", False))
    last = h.decide(step_up(events, held.challenge_id, "face", False))
    assert last.decision == "block"
    assert "STEP_UP_FAILED" in codes(last)
    assert balance(h) == {"posted": Decimal("1000.00"), "held": Decimal(0)}
    # ...and the failures weigh on what the account does next.
    events.advance(minutes=5)
    retry = h.decide(events.withdraw(token="card-alice", amount="300.00"))
    assert "FAILED_STEP_UPS" in codes(retry)
    assert retry.decision == "review"


def test_an_answer_after_expiry_or_with_another_method_is_refused(
    h: Harness, events: EventFactory
) -> None:
    held = held_withdrawal(h, events)
    wrong = h.decide(step_up(events, held.challenge_id, "sms_otp", True))
    assert "CHALLENGE_METHOD_MISMATCH" in codes(wrong)
    events.advance(minutes=11)
    late = h.decide(step_up(events, held.challenge_id, "face", True))
    assert late.decision == "block"
    assert "CHALLENGE_EXPIRED" in codes(late)
    assert balance(h) == {"posted": Decimal("1000.00"), "held": Decimal(0)}


@pytest.mark.parametrize(
    "meanwhile", ["frozen", "restricted", "card unbound", "card marked suspicious"]
)
def test_a_passed_check_does_not_undo_what_changed_meanwhile(
    h: Harness, events: EventFactory, meanwhile: str
) -> None:
    """Passing proves who the user is; the money still does not leave an account frozen or
    restricted since, nor go to a card unbound or marked suspicious since. It stays held."""
    held = held_withdrawal(h, events)
    events.advance(minutes=1)
    with h.runtime.transaction() as uow:
        change = {"frozen": service.freeze, "restricted": service.restrict}.get(meanwhile)
        if change is not None:
            change(uow, "alice", reason="bank called", actor="analyst:kim", at=events.now)
        elif meanwhile == "card unbound":
            service.unbind(uow, "alice", "card-alice", reason="lost", actor="user", at=events.now)
        else:
            service.mark_suspicious(uow, "alice", "card-alice", reason="mule card",
                                    actor="analyst:kim", at=events.now)  # fmt: skip
    passed = h.decide(step_up(events, held.challenge_id, "face", True))
    assert passed.decision == "block"
    expected = {
        "frozen": "ACCOUNT_FROZEN",
        "restricted": "ACCOUNT_RESTRICTED",
        "card unbound": "WITHDRAWAL_NOT_BOUND",
        "card marked suspicious": "BINDING_SUSPICIOUS",
    }
    assert expected[meanwhile] in codes(passed)
    assert balance(h) == {"posted": Decimal("1000.00"), "held": Decimal("300.00")}


def test_only_the_account_a_challenge_asked_answers_it_and_not_before_it_was_asked(
    h: Harness, events: EventFactory
) -> None:
    held = held_withdrawal(h, events)
    events.advance(minutes=-1)
    early = h.decide(step_up(events, held.challenge_id, "face", True))
    assert "CHALLENGE_NOT_ASKED_YET" in codes(early)
    events.advance(minutes=30)  # past the challenge's expiry: another account's late answer
    h.decide_all(events.funded("mallory", "10.00"))
    foreign = h.decide(step_up(events, held.challenge_id, "face", True, account_id="mallory"))
    assert "CHALLENGE_UNKNOWN" in codes(foreign)
    with h.runtime.transaction() as uow:
        challenge = uow.challenges.get(held.challenge_id)
        assert challenge is not None
        assert challenge.status.value == "pending"  # not expired by mallory's answer
    assert balance(h) == {"posted": Decimal("1000.00"), "held": Decimal("300.00")}


def test_money_does_not_reach_a_frozen_wallet(h: Harness, events: EventFactory) -> None:
    settled(h, events)
    h.decide_all(events.funded("bob", "10.00"))
    with h.runtime.transaction() as uow:
        service.freeze(uow, "bob", reason="mule signs", actor="analyst:kim", at=events.now)
    sent = h.decide(events.transfer("alice", to="bob", amount="100.00"))
    assert sent.decision == "block"
    assert "RECEIVER_FROZEN" in codes(sent)
    assert balance(h)["posted"] == Decimal("1000.00")


def test_an_operator_posts_no_held_money_into_a_frozen_wallet(
    h: Harness, events: EventFactory
) -> None:
    settled(h, events)
    h.decide_all(events.funded("bob", "10.00"))
    hold = Hold(
        id="hold-by-hand", account="wallet:alice", currency="CNY", amount=1_000_000,
        purpose="transfer", destination="wallet:bob", created_at=events.now,
        expires_at=None, on_expiry=ExpiryAction.KEEP,
    )  # fmt: skip
    with h.runtime.transaction() as uow:
        ledger_service.place_hold(uow.ledger, hold)
        service.freeze(uow, "bob", reason="mule signs", actor="analyst:kim", at=events.now)
    with pytest.raises(Refused) as refused, h.runtime.transaction() as uow:
        operator.post_hold_as(uow, hold.id, by="operator:joe", at=events.now, amount=None, note="")
    assert refused.value.reason_code == "ACCOUNT_FROZEN"
    assert balance(h) == {"posted": Decimal("1000.00"), "held": Decimal("100.00")}


# -- self-service freeze and unfreeze -----------------------------------------------------


def test_a_freeze_link_freezes_at_once_and_works_once(h: Harness, events: EventFactory) -> None:
    settled(h, events)
    key = key_store().secret("freeze_link")
    link = service.mint_freeze_link(key, "alice", at=events.now, ttl=timedelta(days=7))
    events.advance(minutes=5)
    with h.runtime.transaction() as uow:
        redeemed = service.redeem_freeze_link(uow, key, link, at=events.now)
    assert redeemed.frozen_now
    assert redeemed.account.state == "frozen"
    events.advance(minutes=1)
    withdrawal = h.decide(events.withdraw(token="card-alice", amount="10.00", **ATTACKER))
    assert "ACCOUNT_FROZEN" in codes(withdrawal)
    with pytest.raises(Refused, match="already used") as used, h.runtime.transaction() as uow:
        service.redeem_freeze_link(uow, key, link, at=events.now)
    assert used.value.reason_code == "FREEZE_LINK_USED"
    assert transitions(h)[-1] == ("active", "frozen", "user")


def test_an_expired_or_forged_freeze_link_is_refused(h: Harness, events: EventFactory) -> None:
    settled(h, events)
    key = key_store().secret("freeze_link")
    link = service.mint_freeze_link(key, "alice", at=events.now, ttl=timedelta(hours=1))
    with pytest.raises(Refused) as expired, h.runtime.transaction() as uow:
        service.redeem_freeze_link(uow, key, link, at=events.now + timedelta(hours=2))
    assert expired.value.reason_code == "FREEZE_LINK_EXPIRED"
    forged = service.mint_freeze_link(b"x" * 32, "alice", at=events.now, ttl=timedelta(hours=1))
    with pytest.raises(Refused) as bad, h.runtime.transaction() as uow:
        service.redeem_freeze_link(uow, key, forged, at=events.now)
    assert bad.value.reason_code == "FREEZE_LINK_INVALID"
    assert h.decide(events.payment(amount="5.00")).account_state == "active"


def self_freeze(h: Harness, at: datetime, account: str = "alice") -> None:
    """The holder freezes the account from a notification's link."""
    key = key_store().secret("freeze_link")
    link = service.mint_freeze_link(key, account, at=at, ttl=timedelta(days=1))
    with h.runtime.transaction() as uow:
        service.redeem_freeze_link(uow, key, link, at=at)


def holders_word_is_not_enough(h: Harness, events: EventFactory) -> None:
    """An operator asking to unfreeze alice on her verified word gets an approval request
    for someone else, and alice stays frozen."""
    with h.runtime.transaction() as uow:
        asked = service.request_unfreeze(
            uow, "alice", reason="it was me", actor="operator:joe", verified_by="sms_otp",
            at=events.now,
        )  # fmt: skip
    assert not asked.done
    assert asked.approval is not None
    assert h.decide(events.payment(amount="5.00")).account_state == "frozen"


def test_a_self_service_freeze_is_no_way_out_of_a_restriction(
    h: Harness, events: EventFactory
) -> None:
    """Unfreezing makes the account active: if an analyst had restricted it before the
    holder froze it, lifting that takes a second person, as lifting the restriction would."""
    settled(h, events)
    with h.runtime.transaction() as uow:
        service.restrict(uow, "alice", reason="mule signs", actor="analyst:kim", at=events.now)
    self_freeze(h, events.now)
    holders_word_is_not_enough(h, events)


def test_unfreezing_a_self_frozen_account_needs_verification(
    h: Harness, events: EventFactory
) -> None:
    settled(h, events)
    self_freeze(h, events.now)
    with pytest.raises(Refused, match="verified"), h.runtime.transaction() as uow:
        service.request_unfreeze(
            uow, "alice", reason="it was me", actor="analyst:kim", verified_by=None, at=events.now
        )
    unknown_way = "'magic' is not a way of verifying"
    with pytest.raises(Refused, match=unknown_way), h.runtime.transaction() as uow:
        service.request_unfreeze(uow, "alice", reason="it was me", actor="analyst:kim",
                                 verified_by="magic", at=events.now)  # fmt: skip
    with h.runtime.transaction() as uow:
        result = service.request_unfreeze(
            uow, "alice", reason="holder on video call", actor="analyst:kim",
            verified_by="face", at=events.now,
        )  # fmt: skip
    assert result.done
    assert h.decide(events.payment(amount="5.00")).decision == "allow"


def test_unfreezing_what_a_rule_froze_needs_another_persons_approval(
    h: Harness, events: EventFactory
) -> None:
    settled(h, events)
    h.decide(events.make("profile_change", profile={"field": "sim"}))
    events.advance(minutes=5)
    frozen = h.decide(events.bind(token="c9", device={"id": "emu-1", "is_emulator": True}))
    assert frozen.account_state == "frozen", frozen.reasons
    with h.runtime.transaction() as uow:
        asked = service.request_unfreeze(
            uow, "alice", reason="documents checked", actor="analyst:kim",
            verified_by="manual_kyc", at=events.now,
        )  # fmt: skip
    assert not asked.done
    assert asked.approval is not None
    with pytest.raises(Refused, match="maker-checker"), h.runtime.transaction() as uow:
        service.approve_unfreeze(uow, asked.approval.id, approver="analyst:kim", at=events.now)
    assert h.decide(events.payment(amount="5.00")).account_state == "frozen"
    with h.runtime.transaction() as uow:
        done = service.approve_unfreeze(
            uow, asked.approval.id, approver="analyst:lee", at=events.now
        )
    assert done.done
    assert done.account.state == "active"
    assert transitions(h)[-1] == ("frozen", "active", "analyst:lee")
    with pytest.raises(Conflict), h.runtime.transaction() as uow:
        service.approve_unfreeze(uow, asked.approval.id, approver="analyst:ann", at=events.now)


def test_a_rule_that_would_freeze_takes_over_the_holders_own_freeze(
    h: Harness, events: EventFactory
) -> None:
    """A self-service freeze is no shield: when a rule would freeze the account too, the
    freeze becomes the rule's, and one operator can no longer lift it on the holder's word."""
    settled(h, events)
    self_freeze(h, events.now)
    h.decide(events.make("profile_change", profile={"field": "sim"}))
    events.advance(minutes=5)
    decided = h.decide(events.bind(token="c9", device={"id": "emu-1", "is_emulator": True}))
    assert decided.account_state == "frozen"
    last = transitions(h)[-1]
    assert last[:2] == ("frozen", "frozen")
    assert last[2].startswith("rule:"), transitions(h)
    holders_word_is_not_enough(h, events)


def test_an_analyst_freezing_a_self_frozen_account_takes_the_freeze_over(
    h: Harness, events: EventFactory
) -> None:
    settled(h, events)
    self_freeze(h, events.now)
    with h.runtime.transaction() as uow:
        frozen = service.freeze(uow, "alice", reason="fraud report", actor="analyst:kim",
                                at=events.now)  # fmt: skip
    assert (frozen.state, frozen.actor) == ("frozen", "analyst:kim")
    assert transitions(h)[-1] == ("frozen", "frozen", "analyst:kim")
    with pytest.raises(IllegalTransition), h.runtime.transaction() as uow:
        service.freeze(uow, "alice", reason="again", actor="analyst:lee", at=events.now)
    holders_word_is_not_enough(h, events)


def test_lifting_a_restriction_someone_else_put_on_needs_a_second_person(
    h: Harness, events: EventFactory
) -> None:
    """`unrestrict` is no way around maker-checker: lifting a rule's or another analyst's
    restriction waits for someone other than who asks; one's own is lifted at once."""
    settled(h, events)
    with h.runtime.transaction() as uow:
        service.restrict(uow, "alice", reason="mule signs", actor="analyst:kim", at=events.now)
    with h.runtime.transaction() as uow:
        asked = service.lift_restriction(
            uow, "alice", reason="documents checked", actor="operator:joe", at=events.now
        )
    assert asked.approval is not None
    assert asked.account.state == "restricted"
    assert h.decide(events.withdraw(amount="50.00")).decision == "block"
    with pytest.raises(Refused, match="maker-checker"), h.runtime.transaction() as uow:
        service.approve_unfreeze(uow, asked.approval.id, approver="joe", at=events.now)
    with h.runtime.transaction() as uow:
        done = service.approve_unfreeze(uow, asked.approval.id, approver="lee", at=events.now)
    assert done.account.state == "active"
    with h.runtime.transaction() as uow:
        service.restrict(uow, "alice", reason="second look", actor="analyst:kim", at=events.now)
    with h.runtime.transaction() as uow:
        own = service.lift_restriction(
            uow, "alice", reason="my mistake", actor="kim", at=events.now
        )
    assert own.done
    assert transitions(h)[-1] == ("restricted", "active", "kim")


def locked_out(h: Harness, events: EventFactory) -> None:
    """Five wrong passwords: alice is locked out for 15 minutes."""
    for _ in range(5):
        events.advance(seconds=10)
        last = h.decide(events.login(success=False))
    assert last.account_state == "locked"


def test_a_lock_out_does_not_make_someone_elses_restriction_ones_own(
    h: Harness, events: EventFactory
) -> None:
    """Locked out over kim's restriction, alice cannot be restricted again by joe (which
    would make it joe's to lift alone); when the lock ends, the restriction is still kim's."""
    settled(h, events)
    with h.runtime.transaction() as uow:
        service.restrict(uow, "alice", reason="mule signs", actor="analyst:kim", at=events.now)
    locked_out(h, events)
    again = pytest.raises(IllegalTransition, match="restricted already")
    with again, h.runtime.transaction() as uow:
        service.restrict(uow, "alice", reason="mine now", actor="operator:joe", at=events.now)
    events.advance(minutes=16)
    assert h.decide(events.login(success=True)).account_state == "restricted"
    assert transitions(h)[-2:] == [
        ("restricted", "locked", "system:lockout"),
        ("locked", "restricted", "clock"),
    ]
    with h.runtime.transaction() as uow:
        asked = service.lift_restriction(
            uow, "alice", reason="documents checked", actor="operator:joe", at=events.now
        )
    assert asked.approval is not None
    with h.runtime.transaction() as uow:
        own = service.lift_restriction(uow, "alice", reason="cleared", actor="kim", at=events.now)
    assert own.done


def test_a_self_service_freeze_over_a_lock_out_is_no_way_out_of_a_restriction(
    h: Harness, events: EventFactory
) -> None:
    """Frozen by the holder while locked out over an analyst's restriction: unfreezing
    on the holder's word waits for a second person, as it does without the lock-out."""
    settled(h, events)
    with h.runtime.transaction() as uow:
        service.restrict(uow, "alice", reason="mule signs", actor="analyst:kim", at=events.now)
    locked_out(h, events)
    self_freeze(h, events.now)
    assert transitions(h)[-1] == ("locked", "frozen", "user")
    holders_word_is_not_enough(h, events)


def test_a_self_service_freeze_over_a_plain_lock_out_is_the_holders_to_lift(
    h: Harness, events: EventFactory
) -> None:
    settled(h, events)
    locked_out(h, events)
    self_freeze(h, events.now)
    with h.runtime.transaction() as uow:
        done = service.request_unfreeze(
            uow, "alice", reason="it was me", actor="operator:joe", verified_by="sms_otp",
            at=events.now,
        )  # fmt: skip
    assert done.done


def test_an_illegal_transition_is_an_error(h: Harness, events: EventFactory) -> None:
    settled(h, events)
    with h.runtime.transaction() as uow:
        service.freeze(uow, "alice", reason="court order", actor="analyst:kim", at=events.now)
    with pytest.raises(IllegalTransition), h.runtime.transaction() as uow:
        service.freeze(uow, "alice", reason="again", actor="analyst:kim", at=events.now)
    with pytest.raises(IllegalTransition), h.runtime.transaction() as uow:
        service.restrict(uow, "alice", reason="loosen it", actor="analyst:kim", at=events.now)
    assert transitions(h) == [("active", "frozen", "analyst:kim")]


# -- a password reset that passes its own step-up ----------------------------------------------

ROOTED_PHONE = {"device": {"id": "new-rooted-phone", "os": "android", "is_rooted": True}}


def reset_records(h: Harness) -> list[dict[str, Any]]:
    """The payloads of the `account.password_reset` audit records, oldest first."""
    a = t.audit_log.c
    with h.runtime.database.reading() as conn:
        rows = conn.execute(
            select(a.payload).where(a.action == "account.password_reset").order_by(a.seq)
        ).scalars()
        return [json.loads(p) for p in rows]


def challenged_reset(h: Harness, events: EventFactory) -> Any:
    """alice locked out; her reset request passes its SMS check; the completion, from a new
    rooted phone, scores medium and is challenged."""
    settled(h, events)
    locked_out(h, events)
    events.advance(minutes=1)
    request = h.decide(reset_request(events))
    assert "step_up:sms_otp" in request.actions
    events.advance(minutes=1)
    assert h.decide(step_up(events, request.challenge_id, "sms_otp", True)).decision == "allow"
    events.advance(minutes=1)
    completion = h.decide(reset_complete(events, "sms_otp", **ROOTED_PHONE))
    assert completion.decision == "challenge"
    assert completion.account_state == "locked"  # not applied until the step-up passes
    return completion


def test_a_reset_that_passes_its_sms_step_up_is_applied_with_a_cool_off(
    h: Harness, events: EventFactory
) -> None:
    completion = challenged_reset(h, events)
    assert "step_up:sms_otp" in completion.actions
    events.advance(minutes=1)
    passed = h.decide(step_up(events, completion.challenge_id, "sms_otp", True))
    assert passed.decision == "allow"
    assert passed.account_state == "active"  # the reset ended the lock-out
    assert transitions(h)[-1] == ("locked", "active", "user")
    [record] = reset_records(h)
    assert (record["verified_by"], record["strong"]) == ("sms_otp", False)
    assert record["event_id"] == passed.event_id
    with h.runtime.transaction() as uow:
        account = uow.accounts.get("alice")
        assert account is not None
        assert account.cool_off_until == events.now + timedelta(hours=24)
        assert account.reset_verified_by is None  # the request's verification is used up
        assert account.login_failures == 0

    events.advance(minutes=20)
    withdrawal = h.decide(events.withdraw(token="card-alice", amount="100.00"))
    assert withdrawal.decision == "block"
    assert "RESET_COOL_OFF" in codes(withdrawal)
    assert h.decide(events.login()).account_state == "active"


def test_a_reset_that_passes_a_face_step_up_is_strongly_verified(
    h: Harness, events: EventFactory
) -> None:
    """A passed step-up verifies a reset as its method does (as a request's step-up does):
    a face check is strong, so no cool-off follows."""
    settled(h, events)
    events.advance(minutes=1)
    h.decide(events.make("profile_change", profile={"field": "phone"}))
    events.advance(minutes=1)
    request = h.decide(reset_request(events))
    events.advance(minutes=1)
    assert h.decide(step_up(events, request.challenge_id, "email_otp", True)).decision == "allow"
    events.advance(minutes=1)
    completion = h.decide(reset_complete(events, "email_otp", **ROOTED_PHONE))
    assert completion.decision == "challenge"
    assert "step_up:face" in completion.actions
    events.advance(minutes=1)
    assert h.decide(step_up(events, completion.challenge_id, "face", True)).decision == "allow"
    [record] = reset_records(h)
    assert (record["verified_by"], record["strong"]) == ("face", True)
    with h.runtime.transaction() as uow:
        account = uow.accounts.get("alice")
        assert account is not None
        assert account.cool_off_until is None
        assert account.reset_verified_by is None
    events.advance(minutes=20)
    withdrawal = h.decide(events.withdraw(token="card-alice", amount="100.00"))
    assert "RESET_COOL_OFF" not in codes(withdrawal)


def test_a_reset_whose_step_up_fails_changes_nothing(h: Harness, events: EventFactory) -> None:
    completion = challenged_reset(h, events)
    for _ in range(3):
        events.advance(seconds=20)
        failed = h.decide(step_up(events, completion.challenge_id, "sms_otp", False))
    assert failed.decision == "block"
    assert failed.account_state == "locked"
    assert reset_records(h) == []
