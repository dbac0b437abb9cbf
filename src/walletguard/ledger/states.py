"""Whether wallets' account states let money move between them (money moved by a person
or released from a hold; the engine's own decisions check the same through
`accounts.permissions`)."""

from __future__ import annotations

from walletguard.accounts.ports import AccountRepository
from walletguard.kernel.errors import Refused
from walletguard.ledger.model import is_wallet, wallet_owner


def require_states_allow(accounts: AccountRepository, source: str, destination: str) -> None:
    """`Refused` (reason `ACCOUNT_<STATE>`) if `source` is a wallet that may not send money
    now (frozen, restricted, closed) or `destination` one that may not receive it (frozen,
    closed). Platform accounts, and wallets walletguard has no account for, pass."""
    for code, sending in ((source, True), (destination, False)):
        if not is_wallet(code):
            continue
        account = accounts.get(wallet_owner(code))
        if account is None or (account.can_send_money if sending else account.can_receive_money):
            continue
        side = "send" if sending else "receive"
        raise Refused(
            f"account {account.account_id} is {account.state.value}: it may not {side} money",
            reason_code=f"ACCOUNT_{account.state.value.upper()}",
        )
