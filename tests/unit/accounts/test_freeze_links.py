from datetime import UTC, datetime, timedelta

import pytest

from walletguard.accounts.freeze_links import mint_freeze_token, token_of_link, verify_freeze_token
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


def test_the_token_is_found_in_whatever_form_it_was_pasted() -> None:
    """Notifications carry `…?token=<t>`; minted links end in `/<t>`; people paste either,
    or the token alone, with stray spaces."""
    token = mint_freeze_token(KEY, "alice", at=NOW)
    for pasted in (
        token,
        f"  {token}\n",
        f"https://wallet.example/freeze/{token}",
        f"https://wallet.example/security?token={token}",
        f"https://wallet.example/security?lang=en&token={token}#top",
    ):
        assert token_of_link(pasted) == token, pasted
        assert verify_freeze_token(KEY, token_of_link(pasted), at=NOW).account_id == "alice"
