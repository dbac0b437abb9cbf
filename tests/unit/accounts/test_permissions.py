from dataclasses import replace
from datetime import UTC, datetime, timedelta

from walletguard.accounts.bindings import Binding, Target
from walletguard.accounts.model import AccountSecurity, AccountState, LockScope
from walletguard.accounts.permissions import destination_refusal, refusal
from walletguard.events.model import EventType

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


def locked_out(over: AccountState, until: datetime) -> AccountSecurity:
    return AccountSecurity(
        "alice",
        state=AccountState.LOCKED,
        locked_until=until,
        lock_scope=LockScope.LOGIN,
        resume_state=over,
    )


def test_a_lock_out_in_force_stops_money_out() -> None:
    found = refusal(EventType.WITHDRAWAL, locked_out(AccountState.ACTIVE, AT + timedelta(1)), AT)
    assert found is not None
    assert found.code == "ACCOUNT_LOCKED"


def test_a_lock_out_past_its_time_gives_back_the_state_it_was_put_over() -> None:
    """Before an event records the lock's end, the account still reads `locked`: what it
    allows is what the state under the lock allows, not everything."""
    ended = AT - timedelta(minutes=1)
    over_restriction = refusal(EventType.WITHDRAWAL, locked_out(AccountState.RESTRICTED, ended), AT)
    assert over_restriction is not None
    assert over_restriction.code == "ACCOUNT_RESTRICTED"
    assert refusal(EventType.WITHDRAWAL, locked_out(AccountState.ACTIVE, ended), AT) is None
    assert refusal(EventType.TOPUP, locked_out(AccountState.RESTRICTED, ended), AT) is None


def test_money_may_not_go_to_a_destination_unbound_or_marked_suspicious() -> None:
    card = Binding(
        id="b-1", account_id="alice", target=Target.ACCOUNT, kind="bank_card", token="card-1",
        bound_at=AT,
    )  # fmt: skip
    assert destination_refusal(card) is None
    flagged = destination_refusal(replace(card, suspicious=True, suspicious_reason="mule"))
    assert flagged is not None
    assert flagged.code == "BINDING_SUSPICIOUS"
    assert "mule" in flagged.message
    gone = destination_refusal(card.unbind(by="user", at=AT, reason="lost"))
    assert gone is not None
    assert gone.code == "BINDING_REMOVED"
