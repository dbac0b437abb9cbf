"""Lock-outs and what each state lets through: pure functions, no storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from walletguard.accounts.lockouts import clear_after_reset, end_if_due, record_attempt
from walletguard.accounts.model import AccountSecurity, AccountState, LockScope, actor_kind
from walletguard.accounts.permissions import refusal
from walletguard.accounts.resets import complete_reset
from walletguard.accounts.settings import AccountSettings, LockoutStep
from walletguard.events.model import EventType
from walletguard.kernel.errors import IllegalTransition

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
S = AccountSettings()


def fail(account: AccountSecurity, n: int, scope: LockScope = LockScope.LOGIN, gap: float = 10):
    at = T0
    result = None
    for _ in range(n):
        at += timedelta(seconds=gap)
        result = record_attempt(account, scope, success=False, at=at, settings=S)
        account = result.account
    assert result is not None
    return result, at


def test_five_failures_lock_sign_in_for_fifteen_minutes() -> None:
    four, _ = fail(AccountSecurity("a"), 4)
    assert four.account.state is AccountState.ACTIVE
    assert not four.locked
    five, at = fail(AccountSecurity("a"), 5)
    assert five.locked
    assert five.account.state is AccountState.LOCKED
    assert five.account.locked_until == at + timedelta(minutes=15)
    assert five.change is not None
    assert five.change.actor == "system:lockout"


def test_failures_far_apart_do_not_add_up() -> None:
    result, _ = fail(AccountSecurity("a"), 8, gap=timedelta(hours=25).total_seconds())
    assert result.account.login_failures == 1
    assert not result.locked


def test_a_success_resets_only_its_own_count() -> None:
    failed, at = fail(AccountSecurity("a"), 3, LockScope.TXN_PASSWORD)
    failed_login = record_attempt(
        failed.account, LockScope.LOGIN, success=False, at=at, settings=S
    ).account
    ok = record_attempt(failed_login, LockScope.TXN_PASSWORD, success=True, at=at, settings=S)
    assert ok.account.txn_failures == 0
    assert ok.account.login_failures == 1


def test_the_clock_ends_a_lock_and_restores_the_earlier_state() -> None:
    restricted = AccountSecurity("a", state=AccountState.RESTRICTED)
    locked, at = fail(restricted, 5)
    assert locked.account.resume_state is AccountState.RESTRICTED
    assert not end_if_due(locked.account, at + timedelta(minutes=14), "e").unlocked
    ended = end_if_due(locked.account, at + timedelta(minutes=15), "e")
    assert ended.account.state is AccountState.RESTRICTED
    assert ended.account.locked_until is None
    assert ended.change is not None
    assert ended.change.actor == "clock"


def test_a_frozen_account_keeps_its_state_and_its_lock_out() -> None:
    frozen = AccountSecurity("a", state=AccountState.FROZEN)
    locked, at = fail(frozen, 5)
    assert locked.account.state is AccountState.FROZEN
    assert locked.change is None
    assert locked.account.is_locked(at)
    assert refusal(EventType.LOGIN, locked.account, at) is not None


def test_a_verified_reset_unlocks() -> None:
    locked, at = fail(AccountSecurity("a"), 5)
    cleared = clear_after_reset(locked.account, at=at, event_id="e")
    assert cleared.account.state is AccountState.ACTIVE
    assert cleared.account.login_failures == 0
    assert cleared.change is not None
    assert cleared.change.actor == "user"


@pytest.mark.parametrize(
    ("kind", "login_lock", "txn_lock"),
    [
        (EventType.LOGIN, True, False),
        (EventType.TXN_PASSWORD_VERIFY, True, True),
        (EventType.WITHDRAWAL, True, True),
        (EventType.ACCOUNT_BIND, True, True),
        (EventType.TOPUP, False, False),
        (EventType.PASSWORD_RESET_REQUEST, False, False),
    ],
)
def test_what_a_lock_out_stops(kind: EventType, login_lock: bool, txn_lock: bool) -> None:
    until = T0 + timedelta(minutes=15)
    for scope, stopped in ((LockScope.LOGIN, login_lock), (LockScope.TXN_PASSWORD, txn_lock)):
        account = AccountSecurity(
            "a", state=AccountState.LOCKED, locked_until=until, lock_scope=scope
        )
        found = refusal(kind, account, T0)
        assert (found is not None and found.code == "ACCOUNT_LOCKED") is stopped, scope
        assert refusal(kind, account, until) is None or kind is EventType.WITHDRAWAL


@pytest.mark.parametrize(
    ("state", "kind", "code"),
    [
        (AccountState.RESTRICTED, EventType.WITHDRAWAL, "ACCOUNT_RESTRICTED"),
        (AccountState.RESTRICTED, EventType.ACCOUNT_BIND, "ACCOUNT_RESTRICTED"),
        (AccountState.RESTRICTED, EventType.ACCOUNT_UNBIND, None),
        (AccountState.RESTRICTED, EventType.TOPUP, None),
        (AccountState.RESTRICTED, EventType.LOGIN, None),
        (AccountState.FROZEN, EventType.PAYMENT, "ACCOUNT_FROZEN"),
        (AccountState.FROZEN, EventType.ACCOUNT_UNBIND, "ACCOUNT_FROZEN"),
        (AccountState.FROZEN, EventType.TOPUP, "ACCOUNT_FROZEN"),
        (AccountState.FROZEN, EventType.LOGIN, None),
        (AccountState.CLOSED, EventType.LOGIN, "ACCOUNT_CLOSED"),
        (AccountState.CLOSED, EventType.CHARGEBACK, None),
    ],
)
def test_what_each_state_lets_through(state: AccountState, kind: EventType, code: str) -> None:
    found = refusal(kind, AccountSecurity("a", state=state), T0)
    assert (found.code if found else None) == code


def test_a_weak_reset_starts_a_cool_off_and_a_strong_one_does_not() -> None:
    weak = complete_reset(
        AccountSecurity("a"), auth_method="sms_otp", auth_success=True, at=T0, settings=S,
        event_id="e",
    )  # fmt: skip
    assert weak.account.cool_off_until == T0 + timedelta(hours=24)
    found = refusal(EventType.WITHDRAWAL, weak.account, T0 + timedelta(hours=1))
    assert found is not None
    assert found.code == "RESET_COOL_OFF"
    assert refusal(EventType.PAYMENT, weak.account, T0 + timedelta(hours=1)) is None
    assert refusal(EventType.WITHDRAWAL, weak.account, T0 + timedelta(hours=24)) is None
    strong = complete_reset(
        weak.account, auth_method="face", auth_success=True, at=T0, settings=S, event_id="e"
    )
    assert strong.strong
    assert strong.account.cool_off_until is None


def test_a_reset_counts_an_earlier_passed_step_up() -> None:
    from walletguard.accounts.resets import note_verified

    verified = note_verified(AccountSecurity("a"), "manual_kyc", T0)
    done = complete_reset(
        verified, auth_method=None, auth_success=None, at=T0 + timedelta(hours=2), settings=S,
        event_id="e",
    )  # fmt: skip
    assert done.verified_by == "manual_kyc"
    assert done.strong
    stale = complete_reset(
        verified, auth_method=None, auth_success=None, at=T0 + timedelta(days=2), settings=S,
        event_id="e",
    )  # fmt: skip
    assert stale.verified_by is None


def test_transitions_follow_the_table() -> None:
    closed = AccountSecurity("a", state=AccountState.CLOSED)
    with pytest.raises(IllegalTransition):
        closed.transition(AccountState.ACTIVE, reason="reopen", actor="x", at=T0)
    with pytest.raises(IllegalTransition, match="reason"):
        AccountSecurity("a").transition(AccountState.FROZEN, reason="", actor="x", at=T0)
    with pytest.raises(IllegalTransition):
        AccountSecurity("a", state=AccountState.FROZEN).transition(
            AccountState.LOCKED, reason="r", actor="x", at=T0, locked_until=T0
        )


def test_actor_kinds() -> None:
    assert actor_kind("rule:emulator") == "rule"
    assert actor_kind("guard:ACCOUNT_LOCKED") == "rule"
    assert actor_kind("user") == "user"
    assert actor_kind("clock") == "clock"
    assert actor_kind("operator:kim") == "analyst"


def test_lockout_steps_must_ascend() -> None:
    with pytest.raises(ValueError, match="ascending"):
        AccountSettings(lockout=(LockoutStep(5, timedelta(1)), LockoutStep(3, timedelta(1))))


# -- attempts that arrive out of event-time order --------------------------------------------


def attempt(account: AccountSecurity, at: datetime, *, success: bool = False):
    return record_attempt(account, LockScope.LOGIN, success=success, at=at, settings=S)


def test_a_success_older_than_the_last_failure_does_not_reset_the_count() -> None:
    """Failures at :01–:04, then a success dated :00 arrives late: the four failures came
    after it, so they are still in a row and the fifth at :05 locks."""
    account = AccountSecurity("a")
    for minute in range(1, 5):
        account = attempt(account, T0 + timedelta(minutes=minute)).account
    late = attempt(account, T0, success=True)
    assert late.account.login_failures == 4
    assert late.account.login_failed_at == T0 + timedelta(minutes=4)
    fifth = attempt(late.account, T0 + timedelta(minutes=5))
    assert fifth.locked
    assert fifth.account.state is AccountState.LOCKED


def test_a_success_at_or_after_the_last_failure_still_resets_the_count() -> None:
    failed, at = fail(AccountSecurity("a"), 4)
    assert attempt(failed.account, at, success=True).account.login_failures == 0
    later = attempt(failed.account, at + timedelta(seconds=1), success=True)
    assert later.account.login_failures == 0
    assert later.account.login_failed_at is None


def test_a_late_failure_does_not_move_the_last_failure_back() -> None:
    """Three failures, then one dated 12 h earlier arrives: it joins the run (it is within
    the memory of the others) but the run's last failure stays the latest one, so a
    failure 12 h after that continues the count instead of starting again."""
    three, at = fail(AccountSecurity("a"), 3)
    late = attempt(three.account, at - timedelta(hours=12))
    assert late.account.login_failures == 4
    assert late.account.login_failed_at == at
    next_day = attempt(late.account, at + timedelta(hours=12))
    assert next_day.account.login_failures == 5
    assert next_day.locked


def test_a_late_failure_from_before_a_gap_is_not_part_of_the_run() -> None:
    """A failure dated more than `failure_memory` before the run's last failure would have
    been followed by a fresh start: it does not add to the run."""
    three, at = fail(AccountSecurity("a"), 3)
    stale = attempt(three.account, at - S.failure_memory - timedelta(minutes=1))
    assert stale.account == three.account
    assert not stale.locked


def test_a_late_failure_that_completes_a_run_locks_from_the_runs_last_failure() -> None:
    """Failures at :01–:04, then one dated :00: in event time the run's fifth failure is
    the one at :04, so the lock lasts until :19."""
    account = AccountSecurity("a")
    for minute in range(1, 5):
        account = attempt(account, T0 + timedelta(minutes=minute)).account
    locked = attempt(account, T0)
    assert locked.locked
    assert locked.account.locked_until == T0 + timedelta(minutes=19)


def test_a_reset_counts_its_own_passed_step_up_by_its_method() -> None:
    def done(stepped_up: str):
        return complete_reset(
            AccountSecurity("a"), auth_method="sms_otp", auth_success=True, at=T0, settings=S,
            event_id="e", stepped_up=stepped_up,
        )  # fmt: skip

    face = done("face")
    assert (face.verified_by, face.strong, face.account.cool_off_until) == ("face", True, None)
    sms = done("sms_otp")
    assert (sms.verified_by, sms.strong) == ("sms_otp", False)
    assert sms.account.cool_off_until == T0 + S.reset_cool_off
    assert not done("password").strong  # a password proves nothing about who resets it


def test_a_reset_applied_after_its_step_up_judges_the_request_when_it_was_made() -> None:
    """The request's face check was still valid when the completion was made; the step-up
    that completion was challenged with passed a little after the check's 24 h ran out."""
    from walletguard.accounts.resets import note_verified

    verified = note_verified(AccountSecurity("a"), "face", T0)
    asked = T0 + S.reset_verification_valid - timedelta(minutes=1)
    done = complete_reset(
        verified, auth_method="sms_otp", auth_success=True, at=asked + timedelta(minutes=3),
        settings=S, event_id="e", stepped_up="sms_otp", asked_at=asked,
    )  # fmt: skip
    assert done.strong
    assert done.account.reset_verified_by is None
