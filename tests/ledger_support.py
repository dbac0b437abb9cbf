"""Helpers for ledger tests: fund wallets and move money through the real services."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from walletguard.kernel.money import parse_amount, to_units
from walletguard.ledger import service
from walletguard.ledger.model import Topup, TransferRecord, TransferRequest, wallet_account
from walletguard.ledger.settings import LedgerSettings
from walletguard.storage.database import Database
from walletguard.storage.ledger_session import LedgerSession, ledger_session

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
_refs = itertools.count(1)


def units(amount: str) -> int:
    return to_units(parse_amount(amount))


def fund(
    session: LedgerSession,
    account: str,
    amount: str,
    *,
    at: datetime = T0,
    channel: str = "unionpay",
    ref: str | None = None,
) -> Topup:
    """A reported and confirmed top-up: `amount` becomes available to `account`."""
    topup = Topup(
        channel=channel,
        channel_ref=ref or f"fund-{next(_refs)}",
        account_id=account,
        currency="CNY",
        amount=units(amount),
        merchant_no="M-1",
        requested_at=at,
        request_event_id=f"ev-fund-{account}-{next(_refs)}",
    )
    service.request_topup(session.ledger, topup)
    return service.confirm_topup(
        session.ledger, topup, at=at + timedelta(seconds=30), event_id="ev-confirm"
    )


def funded(database: Database, **amounts: str) -> None:
    with ledger_session(database) as session:
        for account, amount in amounts.items():
            fund(session, account, amount)


def pay(
    database: Database,
    transfer_id: str,
    source: str,
    destination: str,
    amount: str,
    *,
    kind: str = "transfer",
    at: datetime = T0,
    limits: LedgerSettings | None = None,
    tier: str = "standard",
) -> TransferRecord:
    """One idempotent transfer between two wallets, in its own unit of work."""
    with ledger_session(database) as session:
        return service.transfer(
            session.ledger,
            TransferRequest(
                id=transfer_id,
                kind=kind,
                source=wallet_account(source),
                destination=destination if ":" in destination else wallet_account(destination),
                currency="CNY",
                amount=units(amount),
                tier=tier,
            ),
            at=at,
            limits=limits,
        )
