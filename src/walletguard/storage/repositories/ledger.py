"""Balances, transactions and postings, holds, top-ups, transfer records, limit usage:
what the engine and the ledger services read and write in a unit of work."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql

from walletguard.events.model import MONEY_OUT, WalletEvent
from walletguard.kernel.canonical import canonical_json
from walletguard.ledger.limits import day, month
from walletguard.ledger.model import (
    Balance,
    ExpiryAction,
    Hold,
    HoldStatus,
    Posting,
    Topup,
    TopupStatus,
    Transaction,
    TransferRecord,
    TransferStatus,
    hold_id_for,
    is_wallet,
    wallet_account,
    wallet_owner,
)
from walletguard.storage import tables as t
from walletguard.storage.repositories.base import SqlRepository, among, cached_lookup, chunks

_BALANCES = select(t.balances).where(among(t.balances.c.account))
# Every writer locks balances in the same order: batches queue, never deadlock.
_BALANCES_LOCKED = _BALANCES.order_by(t.balances.c.account, t.balances.c.currency).with_for_update()
_HOLDS = select(t.holds).where(among(t.holds.c.id))
_LIMIT_USAGE = select(t.limit_usage).where(
    among(t.limit_usage.c.account), t.limit_usage.c.period.in_(bindparam("periods", expanding=True))
)
# By both parts of the key: by reference alone, no index applies and every batch with a
# top-up read the whole table.
_TOPUPS = select(t.topups).where(
    t.topups.c.channel.in_(bindparam("channels", expanding=True)), among(t.topups.c.channel_ref)
)


def _wallet_owners(codes: Iterable[str]) -> list[str]:
    """The account ids of the wallets among these ledger account codes."""
    return [wallet_owner(code) for code in codes if is_wallet(code)]


class SqlLedgerRepository(SqlRepository):
    cache_name = "balances"

    def claim(self, accounts: Iterable[str]) -> None:
        self.uow.claim_accounts(_wallet_owners(accounts))

    def balance(self, account: str, currency: str) -> Balance:
        def load() -> Balance | None:
            c = t.balances.c
            stmt = select(t.balances).where(c.account == account, c.currency == currency)
            conn = self.uow.conn
            if not self.uow.lock_rows or not is_wallet(account):
                row = conn.execute(stmt).first()
                return None if row is None else balance_from_row(row)
            self.uow.claim_accounts([wallet_owner(account)])
            stmt = stmt.with_for_update()
            row = conn.execute(stmt).first()
            if row is None:
                # A row that does not exist cannot be locked: create it (zero) and lock that,
                # so two sessions crediting a new account queue instead of both inserting.
                conn.execute(
                    postgresql.insert(t.balances)
                    .values(
                        account=account,
                        currency=currency,
                        posted=0,
                        pending_in=0,
                        pending_out=0,
                        held=0,
                        overdraft_allowed=False,
                    )
                    .on_conflict_do_nothing()
                )
                row = conn.execute(stmt).first()
            return None if row is None else balance_from_row(row)

        found = cached_lookup(self.cached, (account, currency), load)
        return found if found is not None else Balance(account, currency)

    def prefetch(self, events: list[WalletEvent], default_currency: str) -> None:
        """Load in bulk the balances and top-ups these events will look at."""
        balances = self.cached
        wanted_balances: dict[str, set[str]] = {}
        wanted_topups: set[tuple[str, str]] = set()
        topups = self.uow.cache.map("topups")
        holds = self.uow.cache.map("holds")
        wanted_holds = []
        usage = self.uow.cache.map("limit_usage")
        wanted_usage: set[str] = set()
        periods: set[str] = set()
        for event in events:
            if event.type in MONEY_OUT:
                hold_id = hold_id_for(event.event_id)
                if hold_id not in holds:
                    wanted_holds.append(hold_id)
                wanted_usage.add(wallet_account(event.account_id))
                periods.add(day(event.occurred_at))
                periods.add(month(event.occurred_at))
            currency = event.currency or default_currency
            accounts = [wallet_account(event.account_id)]
            if event.counterparty is not None and event.counterparty.type == "account":
                accounts.append(wallet_account(event.counterparty.id))
            for account in accounts:
                if (account, currency) not in balances:
                    wanted_balances.setdefault(account, set()).add(currency)
            if event.topup is not None:
                key = (event.topup.channel, event.topup.channel_ref)
                if key not in topups:
                    wanted_topups.add(key)
        conn = self.uow.conn
        lock = self.uow.lock_rows
        if lock:
            self._create_missing(wanted_balances)
        for batch in chunks(sorted(wanted_balances)):
            for account in batch:
                for currency in wanted_balances[account]:
                    balances[(account, currency)] = None
            stmt = _BALANCES_LOCKED if lock else _BALANCES
            for row in conn.execute(stmt, {"values": batch}):
                balances[(row.account, row.currency)] = balance_from_row(row)
        for hold_ids in chunks(wanted_holds):
            for hold_id in hold_ids:
                holds[hold_id] = None
            for row in conn.execute(_HOLDS, {"values": hold_ids}):
                holds[row.id] = hold_from_row(row)
        # Limit usage: every row of these accounts in these periods; what is absent is 0.
        loaded = self.uow.cache.map("limit_usage_loaded")
        wanted_pairs = [(a, p) for a in wanted_usage for p in periods if (a, p) not in loaded]
        for pairs in chunks(wanted_pairs):
            usage_accounts = sorted({a for a, _ in pairs})
            wanted_periods = sorted({p for _, p in pairs})
            params = {"values": usage_accounts, "periods": wanted_periods}
            for row in conn.execute(_LIMIT_USAGE, params):
                usage[(row.account, row.scope, row.period, row.currency)] = row.used
            for pair in pairs:
                loaded[pair] = True
        for keys in chunks(wanted_topups):
            for key in keys:
                topups[key] = None
            params = {
                "channels": sorted({channel for channel, _ in keys}),
                "values": [ref for _, ref in keys],
            }
            for row in conn.execute(_TOPUPS, params):
                if (row.channel, row.channel_ref) in topups:
                    topups[(row.channel, row.channel_ref)] = topup_from_row(row)

    def _create_missing(self, wanted: dict[str, set[str]]) -> None:
        """Zero balance rows for new accounts, so they can be locked like the others (a row
        that does not exist cannot be locked, and two writers would both insert it)."""
        rows = [
            {"account": account, "currency": currency, "posted": 0, "pending_in": 0,
             "pending_out": 0, "held": 0, "overdraft_allowed": False}
            for account in sorted(wanted) for currency in sorted(wanted[account])
        ]  # fmt: skip
        for batch in chunks(rows):
            self.uow.conn.execute(postgresql.insert(t.balances).on_conflict_do_nothing(), batch)

    def save_balance(self, balance: Balance) -> None:
        key = (balance.account, balance.currency)
        if not is_wallet(balance.account):
            # The platform's own accounts (clearing, settlement) are touched by nearly every
            # event and are never checked against a limit: write what changed as increments,
            # so concurrent writers neither lock them early nor overwrite each other.
            before = self.balance(balance.account, balance.currency)
            self.uow.staging.increment(
                t.balances,
                key,
                {"account": balance.account, "currency": balance.currency,
                 "overdraft_allowed": balance.overdraft_allowed},
                {
                    "posted": balance.posted - before.posted,
                    "pending_in": balance.pending_in - before.pending_in,
                    "pending_out": balance.pending_out - before.pending_out,
                    "held": balance.held - before.held,
                },
            )  # fmt: skip
            self.uow.staging.remember(self.cached, key, balance)
            return
        self.uow.staging.upsert(
            t.balances,
            key,
            {
                "account": balance.account,
                "currency": balance.currency,
                "posted": balance.posted,
                "pending_in": balance.pending_in,
                "pending_out": balance.pending_out,
                "held": balance.held,
                "overdraft_allowed": balance.overdraft_allowed,
            },
        )
        self.uow.staging.remember(self.cached, key, balance)

    def transaction(self, transaction_id: str) -> Transaction | None:
        staged: Transaction | None = self.uow.cache.map("uow:transactions").get(transaction_id)
        if staged is not None:
            return staged
        conn = self.uow.conn
        row = conn.execute(
            select(t.ledger_transactions).where(t.ledger_transactions.c.id == transaction_id)
        ).first()
        if row is None:
            return None
        postings = conn.execute(
            select(t.postings)
            .where(t.postings.c.transaction_id == transaction_id)
            .order_by(t.postings.c.id)
        )
        return Transaction(
            id=row.id,
            kind=row.kind,
            postings=tuple(Posting(p.account, p.currency, p.amount) for p in postings),
            at=row.at,
            event_id=row.event_id,
            memo=row.memo,
        )

    def add_transaction(self, transaction: Transaction) -> None:
        staging = self.uow.staging
        staging.insert(
            t.ledger_transactions,
            {
                "id": transaction.id,
                "kind": transaction.kind,
                "at": transaction.at,
                "event_id": transaction.event_id,
                "memo": transaction.memo,
            },
        )
        for posting in transaction.postings:
            staging.insert(
                t.postings,
                {
                    "transaction_id": transaction.id,
                    "account": posting.account,
                    "currency": posting.currency,
                    "amount": posting.amount,
                    "at": transaction.at,
                },
            )
        staging.remember(self.uow.cache.map("uow:transactions"), transaction.id, transaction)

    def hold(self, hold_id: str) -> Hold | None:
        def load() -> Hold | None:
            stmt = select(t.holds).where(t.holds.c.id == hold_id)
            if self.uow.lock_rows:
                # the wallet it is on and the one it would pay, together
                c = t.holds.c
                self.uow.claim_owners_of(
                    c.account, c.destination, where=c.id == hold_id, accounts=_wallet_owners
                )
                stmt = stmt.with_for_update()
            row = self.uow.conn.execute(stmt).first()
            return None if row is None else hold_from_row(row)

        return cached_lookup(self.uow.cache.map("holds"), hold_id, load)

    def save_hold(self, hold: Hold) -> None:
        self.uow.staging.upsert(
            t.holds,
            (hold.id,),
            {
                "id": hold.id,
                "account": hold.account,
                "currency": hold.currency,
                "amount": hold.amount,
                "purpose": hold.purpose,
                "destination": hold.destination,
                "created_at": hold.created_at,
                "expires_at": hold.expires_at,
                "on_expiry": hold.on_expiry.value,
                "status": hold.status.value,
                "decision_event_id": hold.decision_event_id,
                "case_id": hold.case_id,
                "resolved_at": hold.resolved_at,
                "posted_amount": hold.posted_amount,
                "resolution": hold.resolution,
                "counterparty": hold.counterparty,
                "approval_id": hold.approval_id,
                "escalated_at": hold.escalated_at,
            },
        )
        self.uow.staging.remember(self.uow.cache.map("holds"), hold.id, hold)

    def topup(self, channel: str, channel_ref: str) -> Topup | None:
        def load() -> Topup | None:
            c = t.topups.c
            stmt = select(t.topups).where(c.channel == channel, c.channel_ref == channel_ref)
            if self.uow.lock_rows:
                stmt = stmt.with_for_update()
            row = self.uow.conn.execute(stmt).first()
            return None if row is None else topup_from_row(row)

        return cached_lookup(self.uow.cache.map("topups"), (channel, channel_ref), load)

    def save_topup(self, topup: Topup) -> None:
        key = (topup.channel, topup.channel_ref)
        self.uow.staging.upsert(
            t.topups,
            key,
            {
                "channel": topup.channel,
                "channel_ref": topup.channel_ref,
                "account_id": topup.account_id,
                "currency": topup.currency,
                "amount": topup.amount,
                "merchant_no": topup.merchant_no,
                "requested_at": topup.requested_at,
                "request_event_id": topup.request_event_id,
                "status": topup.status.value,
                "confirmed_at": topup.confirmed_at,
                "confirm_event_id": topup.confirm_event_id,
                "problem": topup.problem,
            },
        )
        self.uow.staging.remember(self.uow.cache.map("topups"), key, topup)

    def transfer_record(self, transfer_id: str) -> TransferRecord | None:
        def load() -> TransferRecord | None:
            stmt = select(t.transfers).where(t.transfers.c.id == transfer_id)
            row = self.uow.conn.execute(stmt).first()
            return None if row is None else _transfer(row)

        return cached_lookup(self.uow.cache.map("transfers"), transfer_id, load)

    def save_transfer_record(self, record: TransferRecord) -> None:
        self.uow.staging.insert(
            t.transfers,
            {
                "id": record.id,
                "payload_hash": record.payload_hash,
                "payload": canonical_json(record.payload).decode(),
                "status": record.status.value,
                "reason_code": record.reason_code,
                "message": record.message,
                "transaction_id": record.transaction_id,
                "at": record.at,
            },
        )
        self.uow.staging.remember(self.uow.cache.map("transfers"), record.id, record)

    def limit_usage(self, account: str, scope: str, period: str, currency: str) -> int:
        key = (account, scope, period, currency)
        usage = self.uow.cache.map("limit_usage")
        found = usage.get(key)
        if found is not None:
            return int(found)
        if self.uow.cache.map("limit_usage_loaded").get((account, period)):
            return 0

        def load() -> int | None:
            u = t.limit_usage.c
            stmt = select(u.used).where(
                u.account == account, u.scope == scope, u.period == period, u.currency == currency
            )
            if self.uow.lock_rows:
                stmt = stmt.with_for_update()
            value = self.uow.conn.execute(stmt).scalar()
            return 0 if value is None else int(value)

        return cached_lookup(usage, key, load) or 0

    def add_limit_usage(
        self, account: str, scope: str, period: str, currency: str, delta: int
    ) -> None:
        used = self.limit_usage(account, scope, period, currency)
        if delta < 0 and used == 0:
            return
        key = (account, scope, period, currency)
        new = max(0, used + delta)
        self.uow.staging.upsert(
            t.limit_usage,
            key,
            {"account": account, "scope": scope, "period": period, "currency": currency,
             "used": new},
        )  # fmt: skip
        self.uow.staging.remember(self.uow.cache.map("limit_usage"), key, new)


def _transfer(row: Any) -> TransferRecord:
    return TransferRecord(
        id=row.id,
        payload_hash=row.payload_hash,
        payload=msgspec.json.decode(row.payload),
        status=TransferStatus(row.status),
        at=row.at,
        reason_code=row.reason_code,
        message=row.message,
        transaction_id=row.transaction_id,
    )


def balance_from_row(row: Any) -> Balance:
    return Balance(
        row.account, row.currency, row.posted, row.pending_in, row.pending_out, row.held,
        row.overdraft_allowed,
    )  # fmt: skip


def hold_from_row(row: Any) -> Hold:
    return Hold(
        id=row.id,
        account=row.account,
        currency=row.currency,
        amount=row.amount,
        purpose=row.purpose,
        destination=row.destination,
        created_at=row.created_at,
        expires_at=row.expires_at,
        on_expiry=ExpiryAction(row.on_expiry),
        status=HoldStatus(row.status),
        decision_event_id=row.decision_event_id,
        case_id=row.case_id,
        resolved_at=row.resolved_at,
        posted_amount=row.posted_amount,
        resolution=row.resolution,
        counterparty=row.counterparty,
        approval_id=row.approval_id,
        escalated_at=row.escalated_at,
    )


def topup_from_row(row: Any) -> Topup:
    return Topup(
        channel=row.channel,
        channel_ref=row.channel_ref,
        account_id=row.account_id,
        currency=row.currency,
        amount=row.amount,
        merchant_no=row.merchant_no,
        requested_at=row.requested_at,
        request_event_id=row.request_event_id,
        status=TopupStatus(row.status),
        confirmed_at=row.confirmed_at,
        confirm_event_id=row.confirm_event_id,
        problem=row.problem,
    )
