"""The ledger's invariants checked over the whole database, after the fact: what
`walletguard ledger check`, the tests and the benchmark run.

The database refuses writes that break the per-row and per-transaction invariants as
they happen (migration 0003_ledger); this check also covers the ones that span tables
and would cost too much on every write: each balance equals the sum of its postings,
the books sum to zero per currency, held and pending amounts equal their holds and
top-ups.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from walletguard.storage import tables as t


@dataclass(frozen=True, slots=True)
class Violation:
    invariant: str
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"{self.invariant}: {self.subject}: {self.detail}"


def check_ledger(conn: Connection, *, account_prefix: str = "") -> list[Violation]:
    """Every broken invariant (empty when the ledger is sound). `account_prefix` narrows
    the per-account checks (the global sums are always checked in full)."""
    found: list[Violation] = []
    p = t.postings.c
    for tx, currency, total in conn.execute(
        select(p.transaction_id, p.currency, func.sum(p.amount))
        .group_by(p.transaction_id, p.currency)
        .having(func.sum(p.amount) != 0)
    ):
        found.append(Violation("transaction balances", tx, f"{currency} off by {total}"))
    x = t.ledger_transactions.c
    for tx, n in conn.execute(
        select(x.id, func.count(p.id))
        .select_from(t.ledger_transactions.outerjoin(t.postings, p.transaction_id == x.id))
        .group_by(x.id)
        .having(func.count(p.id) < 2)
    ):
        found.append(Violation("transaction balances", tx, f"{n} posting(s)"))
    sums: dict[tuple[str, str], int] = {
        (a, c): int(s)
        for a, c, s in conn.execute(
            select(p.account, p.currency, func.sum(p.amount)).group_by(p.account, p.currency)
        )
    }

    per_currency: dict[str, int] = defaultdict(int)
    balances: dict[tuple[str, str], Any] = {}
    for found_row in conn.execute(select(t.balances)):
        balances[(found_row.account, found_row.currency)] = found_row
        per_currency[found_row.currency] += found_row.posted
    for currency, total in per_currency.items():
        if total:
            found.append(
                Violation("books sum to zero", currency, f"posted balances sum to {total}")
            )
    held: dict[tuple[str, str], int] = defaultdict(int)
    h = t.holds.c
    for account, currency, amount in conn.execute(
        select(h.account, h.currency, func.sum(h.amount))
        .where(h.status == "pending")
        .group_by(h.account, h.currency)
    ):
        held[(account, currency)] = int(amount)
    pending: dict[tuple[str, str], int] = defaultdict(int)
    u = t.topups.c
    booked = select(x.id).where(x.id == "topup:" + u.channel + ":" + u.channel_ref)
    for account_id, currency, amount in conn.execute(
        select(u.account_id, u.currency, func.sum(u.amount))
        .where(u.status.in_(("pending", "suspected_fake")), ~booked.exists())
        .group_by(u.account_id, u.currency)
    ):
        pending[("wallet:" + account_id, currency)] = int(amount)
    keys = set(balances) | set(sums) | set(held) | set(pending)
    for key in sorted(k for k in keys if k[0].startswith(account_prefix)):
        account, currency = key
        row = balances.get(key)
        subject = f"{account} {currency}"
        posted = row.posted if row is not None else 0
        if posted != sums.get(key, 0):
            found.append(
                Violation(
                    "balance equals its postings",
                    subject,
                    f"posted {posted}, postings sum {sums.get(key, 0)}",
                )
            )
        if (row.held if row is not None else 0) != held.get(key, 0):
            found.append(
                Violation(
                    "held equals pending holds",
                    subject,
                    f"held {row.held if row else 0}, pending holds {held.get(key, 0)}",
                )
            )
        if (row.pending_in if row is not None else 0) != pending.get(key, 0):
            found.append(
                Violation(
                    "pending equals unbooked top-ups",
                    subject,
                    f"pending_in {row.pending_in if row else 0}, top-ups {pending.get(key, 0)}",
                )
            )
        if (
            row is not None
            and account.startswith("wallet:")
            and not row.overdraft_allowed
            and row.posted - row.held - row.pending_out < 0
        ):
            found.append(
                Violation(
                    "available never negative",
                    subject,
                    f"available {row.posted - row.held - row.pending_out}",
                )
            )

    found.extend(_check_holds_and_transfers(conn))
    return found


def _check_holds_and_transfers(conn: Connection) -> list[Violation]:
    found = []
    h = t.holds.c
    p = t.postings.c
    moved = {
        tx: int(amount)
        for tx, amount in conn.execute(
            select(p.transaction_id, func.sum(p.amount))
            .where(p.transaction_id.like("hold:%"), p.amount > 0)
            .group_by(p.transaction_id)
        )
    }
    for hold_id, status, posted_amount in conn.execute(select(h.id, h.status, h.posted_amount)):
        got = moved.get("hold:" + hold_id)
        if status == "posted" and got != posted_amount:
            found.append(
                Violation(
                    "posted hold moved its amount", hold_id, f"posted {posted_amount}, moved {got}"
                )
            )
        if status != "posted" and got is not None:
            found.append(Violation("unposted hold moved nothing", hold_id, f"moved {got}"))
    r = t.transfers.c
    x = t.ledger_transactions.c
    booked = select(x.id).where(x.id == r.id).exists()
    for transfer_id, status, has in conn.execute(select(r.id, r.status, booked)):
        if (status == "posted") != bool(has):
            found.append(
                Violation(
                    "transfer record matches the books",
                    transfer_id,
                    f"status {status}, transaction {'exists' if has else 'missing'}",
                )
            )
    return found
