"""Account statements: an account's postings over a period with running balances,
filtered by type, channel and counterparty, stamped with the head of the audit chain.

The running balance is the account's *posted* balance after each line, computed over all
of its postings (filters choose which lines are shown, not what the balance counts), so a
filtered statement's balances still agree with the unfiltered one.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import datetime

from walletguard.kernel.canonical import digest
from walletguard.kernel.errors import FieldProblem, InvalidInput
from walletguard.kernel.money import format_amount, from_units

CHANNEL_PREFIX = "platform:channel_clearing:"


@dataclass(frozen=True, slots=True)
class StatementPosting:
    """One posting on the account, with what storage knows about its transaction."""

    posting_id: int
    transaction_id: str
    at: datetime
    kind: str
    amount: int
    event_id: str | None
    memo: str
    counterparties: tuple[str, ...]

    def with_counterparty(self, account: str) -> StatementPosting:
        return replace(self, counterparties=(*self.counterparties, account))

    @property
    def channel(self) -> str | None:
        """The payment channel a top-up came through, if this is one."""
        for account in self.counterparties:
            if account.startswith(CHANNEL_PREFIX):
                return account.removeprefix(CHANNEL_PREFIX)
        return None


@dataclass(frozen=True, slots=True)
class StatementFilter:
    start: datetime | None = None
    end: datetime | None = None
    kinds: frozenset[str] = frozenset()
    channel: str | None = None
    counterparty: str | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise InvalidInput([FieldProblem("$.from", "is after to: the period is empty")])

    def shows(self, posting: StatementPosting) -> bool:
        if self.kinds and posting.kind not in self.kinds:
            return False
        if self.channel is not None and posting.channel != self.channel:
            return False
        return self.counterparty is None or any(
            c == self.counterparty or c.endswith(":" + self.counterparty)
            for c in posting.counterparties
        )


@dataclass(frozen=True, slots=True)
class StatementLine:
    at: datetime
    transaction_id: str
    kind: str
    counterparty: str
    channel: str
    amount: int
    balance: int
    event_id: str
    memo: str


@dataclass(frozen=True, slots=True)
class AuditStamp:
    """The head of the audit chain holding the account's records when the statement was
    made: in chain `chain`, record `seq` had `hash`."""

    chain: int
    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class Statement:
    account: str
    currency: str
    filters: StatementFilter
    opening: int
    closing: int
    lines: tuple[StatementLine, ...]
    stamp: AuditStamp | None
    made_at: datetime

    @property
    def digest(self) -> str:
        """SHA-256 of the statement's content (recorded in the audit log when issued)."""
        return digest(
            {
                "account": self.account,
                "currency": self.currency,
                "opening": self.opening,
                "closing": self.closing,
                "lines": [
                    [
                        ln.at.isoformat(),
                        ln.transaction_id,
                        ln.kind,
                        ln.counterparty,
                        ln.amount,
                        ln.balance,
                    ]
                    for ln in self.lines
                ],
                "stamp": None
                if self.stamp is None
                else [self.stamp.chain, self.stamp.seq, self.stamp.hash],
            }
        )


def build_statement(
    account: str,
    currency: str,
    filters: StatementFilter,
    *,
    opening: int,
    postings: list[StatementPosting],
    stamp: AuditStamp | None,
    made_at: datetime,
) -> Statement:
    """Lines with running balances from `opening` (the posted balance before the period)."""
    balance = opening
    lines = []
    for posting in postings:
        balance += posting.amount
        if filters.shows(posting):
            lines.append(
                StatementLine(
                    at=posting.at,
                    transaction_id=posting.transaction_id,
                    kind=posting.kind,
                    counterparty=", ".join(posting.counterparties),
                    channel=posting.channel or "",
                    amount=posting.amount,
                    balance=balance,
                    event_id=posting.event_id or "",
                    memo=posting.memo,
                )
            )
    return Statement(account, currency, filters, opening, balance, tuple(lines), stamp, made_at)


def money(units: int) -> str:
    return format_amount(from_units(units))


def statement_csv(statement: Statement) -> str:
    """CSV with a commented header naming the account, period, filters and audit stamp."""
    out = io.StringIO()
    f = statement.filters
    stamp = statement.stamp
    header = [
        f"# walletguard statement for {statement.account} in {statement.currency}",
        f"# period: {f.start.isoformat() if f.start else 'beginning'} to "
        f"{f.end.isoformat() if f.end else statement.made_at.isoformat()}",
        f"# filters: type={','.join(sorted(f.kinds)) or 'any'} channel={f.channel or 'any'} "
        f"counterparty={f.counterparty or 'any'}",
        f"# opening balance: {money(statement.opening)}; closing: {money(statement.closing)}",
        f"# audit chain head: chain={stamp.chain} seq={stamp.seq} hash={stamp.hash}"
        if stamp
        else "# audit chain head: (empty chain)",
        f"# statement digest: {statement.digest}",
    ]
    out.write("\n".join(header) + "\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["at", "transaction_id", "type", "counterparty", "channel", "amount", "balance",
         "event_id", "memo"]
    )  # fmt: skip
    for ln in statement.lines:
        writer.writerow(
            [ln.at.isoformat(), ln.transaction_id, ln.kind, ln.counterparty, ln.channel,
             money(ln.amount), money(ln.balance), ln.event_id, ln.memo]
        )  # fmt: skip
    return out.getvalue()
