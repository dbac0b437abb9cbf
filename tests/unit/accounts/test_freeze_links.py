from datetime import UTC, datetime, timedelta

import pytest

from walletguard.accounts.freeze_links import mint_freeze_token, verify_freeze_token
from walletguard.kernel.errors import Refused

KEY = b"k" * 32
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_a_minted_token_verifies_until_it_expires() -> None:
    token = mint_freeze_token(KEY, "alice", at=NOW, ttl=timedelta(hours=1))
    claim = verify_freeze_token(KEY, token, at=NOW + timedelta(minutes=59))
    assert claim.account_id == "alice"
    assert claim.token_id
    with pytest.raises(Refused, match="expired"):
        verify_freeze_token(KEY, token, at=NOW + timedelta(hours=1))


def test_forged_or_damaged_tokens_are_refused() -> None:
    token = mint_freeze_token(KEY, "alice", at=NOW)
    with pytest.raises(Refused, match="not issued"):
        verify_freeze_token(b"x" * 32, token, at=NOW)
    body, signature = token.split(".")
    other = mint_freeze_token(KEY, "mallory", at=NOW).split(".")[0]
    with pytest.raises(Refused, match="not issued"):
        verify_freeze_token(KEY, f"{other}.{signature}", at=NOW)
    for garbage in ("", "abc", "a.b", f"{body}.!!"):
        with pytest.raises(Refused):
            verify_freeze_token(KEY, garbage, at=NOW)


def test_every_token_is_unique() -> None:
    assert mint_freeze_token(KEY, "alice", at=NOW) != mint_freeze_token(KEY, "alice", at=NOW)
