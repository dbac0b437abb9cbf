from datetime import UTC, datetime

from walletguard.accounts.model import (
    UNKNOWN_AUTHOR,
    AccountState,
    StateChange,
    restriction_author,
)

A, R, L, F = AccountState.ACTIVE, AccountState.RESTRICTED, AccountState.LOCKED, AccountState.FROZEN
AT = datetime(2026, 3, 1, tzinfo=UTC)


def history(*changes: tuple[AccountState, AccountState, str]) -> list[StateChange]:
    """Oldest first as written, returned newest first as the repository gives it."""
    return [StateChange("alice", f, t, "why", actor, AT) for f, t, actor in reversed(changes)]


def test_the_author_is_who_restricted_it() -> None:
    assert restriction_author(history((A, R, "rule:mule"))) == "rule:mule"
    assert restriction_author(history((A, R, "rule:mule"), (R, A, "lee"))) is None


def test_lock_outs_and_their_ends_are_looked_through() -> None:
    for ending in ("clock", "user", "analyst:joe"):  # time, a verified reset, a person
        changes = history((A, R, "analyst:kim"), (R, L, "system:lockout"), (L, R, ending))
        assert restriction_author(changes) == "analyst:kim", ending
    assert restriction_author(history((A, R, "analyst:kim"), (R, L, "system:lockout"))) == (
        "analyst:kim"
    )


def test_restricting_a_locked_out_active_account_is_a_restriction_of_its_own() -> None:
    changes = history((A, L, "system:lockout"), (L, R, "analyst:joe"))
    assert restriction_author(changes) == "analyst:joe"
    assert restriction_author(history((A, L, "system:lockout"))) is None


def test_a_history_too_short_to_tell_never_waives_maker_checker() -> None:
    assert restriction_author(history((L, R, "clock"))) == UNKNOWN_AUTHOR
    assert restriction_author(history((R, L, "system:lockout"))) == UNKNOWN_AUTHOR
    assert restriction_author([]) == UNKNOWN_AUTHOR
    assert restriction_author(history((R, F, "user"))) is None  # frozen: no restriction now
