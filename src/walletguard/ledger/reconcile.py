"""Top-up reconciliation against a channel's settlement statement.

Each statement line is matched to the ledger's top-up with the same channel reference,
then classified:

- `matched`: same amount (within `amount_tolerance`), currency and merchant number, and
  settled within `time_drift` of the request;
- `amount_mismatch`: the reference is known but the amounts differ beyond the tolerance;
- `detail_mismatch`: the amount agrees but the currency, merchant number or time does not;
- `statement_only`: the channel settled money the ledger has no top-up for (a missing
  credit, for operations to book by hand);
- `ledger_only`: a top-up the ledger has, requested within the statement's period
  ([first settled_at − drift, last settled_at − drift], reaching back to where the
  channel's previous statement ended — for a channel with a statement per merchant, where
  that merchant's previous one ended — so no top-up falls between two statements), that
  neither it nor an earlier statement shows — a suspected fake top-up.

A suspected fake (and an amount mismatch) is never spendable: a pending top-up is marked
`suspected_fake`; a confirmed one is marked too and the money still in the wallet is held
(`hold-recon-…`, kept until a person decides). Money of it already set aside in the
wallet's pending outgoing holds (a withdrawal waiting for approval) is still there: the
account is restricted (by `system:reconciliation`, so lifting it needs maker-checker), and
no hold may pay out of a restricted account. A case is opened. Importing the same
statement again (the same bytes, by SHA-256) changes nothing and returns the first report.

Top-ups missing from a statement are found by a read without row locks; each is read
again through the ledger's locking read before anything is done to it, so a top-up the
engine confirmed meanwhile is acted on as confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from walletguard.accounts.model import AccountSecurity, AccountState
from walletguard.accounts.ports import AccountRepository
from walletguard.accounts.service import save_change
from walletguard.cases.model import Alert, AlertKind
from walletguard.cases.service import raise_alert
from walletguard.kernel.canonical import sha256_hex
from walletguard.kernel.errors import FieldProblem, InvalidInput
from walletguard.kernel.money import format_amount, from_units
from walletguard.ledger import service
from walletguard.ledger.channel_statement import StatementEntry, parse_statement
from walletguard.ledger.model import (
    ExpiryAction,
    Hold,
    HoldStatus,
    Platform,
    Topup,
    TopupStatus,
    wallet_account,
)
from walletguard.ledger.ports import LedgerCaseWork, LedgerQueries
from walletguard.ledger.settings import LedgerSettings, StatementFormat

RECONCILIATION_ACTOR = "system:reconciliation"
"""Who restricts an account whose fake money sits in pending holds: walletguard itself (not
the operator who imported the statement), so lifting it needs a second person."""


class ReconcileWork(LedgerCaseWork, Protocol):
    """The unit of work reconciliation changes: the ledger, cases, the audit log, and the
    accounts it restricts."""

    @property
    def accounts(self) -> AccountRepository: ...


class Classification(StrEnum):
    MATCHED = "matched"
    AMOUNT_MISMATCH = "amount_mismatch"
    DETAIL_MISMATCH = "detail_mismatch"
    STATEMENT_ONLY = "statement_only"
    LEDGER_ONLY = "ledger_only"


@dataclass(frozen=True, slots=True)
class ReconItem:
    classification: Classification
    channel_ref: str
    account_id: str | None
    currency: str
    ledger_amount: int | None
    statement_amount: int | None
    topup_status: str | None
    note: str
    line: int | None = None
    action: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "classification": self.classification.value,
            "channel_ref": self.channel_ref,
            "account_id": self.account_id,
            "currency": self.currency,
            "ledger_amount": _money(self.ledger_amount),
            "statement_amount": _money(self.statement_amount),
            "topup_status": self.topup_status,
            "note": self.note,
            "line": self.line,
            "action": self.action,
        }


def _money(units: int | None) -> str | None:
    return None if units is None else format_amount(from_units(units))


# -- matching ---------------------------------------------------------------------------------


def classify(
    entry: StatementEntry, topup: Topup | None, settings: LedgerSettings
) -> tuple[Classification, str]:
    """How one statement line relates to the ledger's top-up with its reference."""
    if topup is None:
        return Classification.STATEMENT_ONLY, "the ledger has no top-up with this reference"
    if abs(entry.amount - topup.amount) > settings.amount_tolerance:
        return Classification.AMOUNT_MISMATCH, (
            f"statement {_money(entry.amount)}, ledger {_money(topup.amount)}"
        )
    problems = []
    if entry.currency != topup.currency:
        problems.append(f"currency {entry.currency} vs {topup.currency}")
    if topup.merchant_no is not None and entry.merchant_no not in (None, topup.merchant_no):
        problems.append(f"merchant {entry.merchant_no} vs {topup.merchant_no}")
    drift = abs(entry.settled_at - topup.requested_at)
    if drift > settings.time_drift:
        problems.append(f"settled {drift} after/before the request")
    if problems:
        return Classification.DETAIL_MISMATCH, "; ".join(problems)
    return Classification.MATCHED, ""


def reconcile(
    uow: ReconcileWork,
    queries: LedgerQueries,
    settings: LedgerSettings,
    *,
    channel: str,
    data: bytes,
    source: str,
    at: datetime,
    actor: str,
) -> dict[str, Any]:
    """Import a channel statement, classify every line and top-up, act on suspected fakes,
    and return the report (the stored one, unchanged, if these bytes were imported before)."""
    digest = sha256_hex(channel.encode() + b"\0" + data)
    stored = queries.statement_import(digest)
    if stored is not None:
        return {**stored, "already_imported": True}
    named = settings.names_channel(channel)
    if not named and not queries.channel_seen(channel):
        # A misspelt channel would make every line "statement only" and raise false alarms.
        raise InvalidInput(
            [FieldProblem("channel", f"{channel!r}: no top-up came through it, no format names it")]
        )
    fmt = settings.statement_format(channel)
    entries = parse_statement(data, fmt)
    acting = _Acting(uow, queries, at, actor, digest)
    items: list[ReconItem] = []
    seen: set[str] = set()
    for entry in entries:
        if entry.channel_ref in seen:
            items.append(
                ReconItem(
                    Classification.STATEMENT_ONLY,
                    entry.channel_ref,
                    None,
                    entry.currency,
                    None,
                    entry.amount,
                    None,
                    "the reference appears twice in the statement",
                    entry.line,
                )
            )
            continue
        seen.add(entry.channel_ref)
        topup = uow.ledger.topup(channel, entry.channel_ref)
        kind, note = classify(entry, topup, settings)
        if kind is Classification.MATCHED and topup is not None and topup.problem:
            note = f"listed now, but held back before ({topup.problem}): see its case"
        item = ReconItem(
            kind, entry.channel_ref, topup.account_id if topup else None, entry.currency,
            topup.amount if topup else None, entry.amount,
            topup.status.value if topup else None, note, entry.line,
        )  # fmt: skip
        if topup is not None and kind is not Classification.MATCHED:
            item = replace(item, action=_act(acting, topup, kind, note, entry))
        items.append(item)
    start = end = None
    window: _Window | None = None
    listed = {i.channel_ref for i in items if i.ledger_amount is not None}
    if entries:
        first = min(e.settled_at for e in entries) - settings.time_drift
        end = max(e.settled_at for e in entries) - settings.time_drift
        window = _window(queries, channel, fmt, entries, first)
        start = window.start
        candidates = [
            topup
            for topup in queries.topups_between(channel, start, end)
            if topup.channel_ref not in seen and window.covers(topup)
        ]
        earlier = queries.listed_before(channel, [c.channel_ref for c in candidates])
        missing = [c for c in candidates if c.channel_ref not in earlier]
        # The candidates were read without row locks: the engine may have confirmed one
        # since. Claim their wallets (all at once, in the one order every writer uses), then
        # read each again through the locking read and act on what it is now.
        uow.ledger.claim(sorted({wallet_account(c.account_id) for c in missing}))
        for candidate in missing:
            topup = uow.ledger.topup(channel, candidate.channel_ref)
            if topup is None:  # top-ups are never deleted; nothing to act on
                continue
            note = "the channel's statement does not show this top-up"
            item = ReconItem(
                Classification.LEDGER_ONLY, topup.channel_ref, topup.account_id, topup.currency,
                topup.amount, None, topup.status.value, note,
            )  # fmt: skip
            action = _act(acting, topup, Classification.LEDGER_ONLY, note, None)
            items.append(replace(item, action=action))
    counts = {c.value: 0 for c in Classification}
    for item in items:
        counts[item.classification.value] += 1
    report: dict[str, Any] = {
        "channel": channel,
        "source": source,
        "digest": digest,
        "imported_at": at.isoformat(),
        "lines": len(entries),
        "period": {
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
        },
        "counts": counts,
        "items": [item.as_dict() for item in items],
    }
    queries.save_statement_import(
        digest, channel=channel, source=source, at=at, lines=len(entries), report=report,
        period_end=end, merchants=window.merchants if window is not None else None,
    )  # fmt: skip
    new_listings = listed - queries.listed_before(channel, listed)
    queries.record_listed(channel, sorted(new_listings), digest=digest, at=at)
    uow.audit.append(
        at=at, actor=actor, action="ledger.statement_reconciled", subject=f"channel:{channel}",
        payload={"digest": digest, "source": source, "counts": counts},
    )  # fmt: skip
    return {**report, "already_imported": False}


_INSTANT = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class _Window:
    """Which top-ups a statement answers for: any of the channel's requested from `start`
    to the end of its period; or, for a channel that sends a statement per merchant, those
    of the merchants its lines name, each requested from that merchant's own start
    (`starts`). Never narrower by default: a fake top-up at a merchant (or in a currency)
    no statement shows must still be found missing."""

    start: datetime
    starts: dict[str | None, datetime] | None = None

    @property
    def merchants(self) -> list[str | None] | None:
        """The merchants the statement answers for (None: the whole channel)."""
        return None if self.starts is None else list(self.starts)

    def covers(self, topup: Topup) -> bool:
        if self.starts is None:
            return True
        begins = self.starts.get(topup.merchant_no)
        return begins is not None and topup.requested_at >= begins


def _window(
    queries: LedgerQueries,
    channel: str,
    fmt: StatementFormat,
    entries: list[StatementEntry],
    first: datetime,
) -> _Window:
    """Where the statement's period starts: at its first line less the drift, or, when the
    statement before it ended earlier, just after that one, so no top-up falls between the
    two. The statement before is the channel's latest; for a channel with a statement per
    merchant it is, merchant by merchant, the latest that answered for that merchant —
    another merchant's statement imported in between says nothing about this one's
    top-ups, and reaching back only to it would leave a gap nobody judges."""
    if not fmt.per_merchant:
        return _Window(_reach_back(first, queries.last_period_end(channel)))
    starts = {
        merchant: _reach_back(first, queries.last_merchant_period_end(channel, merchant))
        for merchant in {e.merchant_no for e in entries}
    }
    return _Window(min(starts.values()), starts)


def _reach_back(first: datetime, previous: datetime | None) -> datetime:
    if previous is not None and previous < first:
        return previous + _INSTANT  # the gap since then is this statement's to judge
    return first


@dataclass(frozen=True, slots=True)
class _Acting:
    """What acting on a doubtful top-up needs besides the top-up."""

    uow: ReconcileWork
    queries: LedgerQueries
    at: datetime
    actor: str
    digest: str


def _act(
    acting: _Acting,
    topup: Topup,
    kind: Classification,
    note: str,
    entry: StatementEntry | None,
) -> str:
    """Keep a doubtful top-up's money unspendable and open a case; say what was done.
    `topup` is as the ledger's locking read found it in this unit of work."""
    uow, at = acting.uow, acting.at
    if topup.status is TopupStatus.SUSPECTED_FAKE:
        return "already suspected"
    if kind is Classification.DETAIL_MISMATCH and topup.status is TopupStatus.CONFIRMED:
        _alert(acting, topup, kind, note, 0)
        return "case opened"
    problem = f"reconciliation: {kind.value} ({note})"
    if topup.status is TopupStatus.PENDING:
        service.suspect_topup(uow.ledger, topup, at=at, event_id=None, problem=problem)
        _alert(acting, topup, kind, note, topup.amount)
        _audit(acting, topup, problem, 0)
        return "marked suspected fake; credit stays pending; case opened"
    # Confirmed (money already spendable): hold what was not backed by the channel.
    unbacked = topup.amount
    if kind is Classification.AMOUNT_MISMATCH and entry is not None:
        unbacked = max(0, topup.amount - entry.amount)
    uow.ledger.save_topup(replace(topup, status=TopupStatus.SUSPECTED_FAKE, problem=problem))
    account = wallet_account(topup.account_id)
    available = uow.ledger.balance(account, topup.currency).available
    held = min(unbacked, max(0, available))
    if held > 0:
        service.place_hold(
            uow.ledger,
            Hold(
                id=f"hold-recon-{topup.channel}-{topup.channel_ref}",
                account=account,
                currency=topup.currency,
                amount=held,
                purpose="reconciliation",
                destination=Platform.SUSPENSE,
                created_at=at,
                expires_at=None,
                on_expiry=ExpiryAction.KEEP,
                resolution="",
            ),
        )
    # What is not available may still be in the wallet, set aside for a withdrawal or a
    # payment that has not left yet: not spent, and it must not leave either.
    short = unbacked - held
    waiting = _outgoing_holds(acting.queries, account, topup.currency) if short else []
    in_holds = min(short, sum(h.amount for h in waiting))
    ids = ", ".join(h.id for h in waiting)
    stopped = _stop_holds(acting, topup, ids) if in_holds else ""
    spent = short - in_holds
    pending = f"{_money(in_holds)} of it in pending holds {ids} ({stopped})" if in_holds else ""
    _alert(acting, topup, kind, note, unbacked, pending)
    _audit(acting, topup, problem, held, in_holds, [h.id for h in waiting] if in_holds else [])
    done = ["marked suspected fake", f"{_money(held)} held"]
    if in_holds:
        done.append(f"{_money(in_holds)} in pending holds ({ids}), {stopped}")
    if spent:
        done.append(f"{_money(spent)} already spent")
    return "; ".join([*done, "case opened"])


def _outgoing_holds(queries: LedgerQueries, account: str, currency: str) -> list[Hold]:
    """The wallet's pending holds in `currency` for money on its way out (withdrawals,
    payments, transfers), oldest first: not reconciliation's own, which already keep
    another doubtful top-up's money. Read after the wallet's balance was locked, so no
    hold on it is placed or resolved meanwhile."""
    found = queries.holds(account=account, status=HoldStatus.PENDING)
    return sorted(
        (h for h in found if h.currency == currency and h.purpose != "reconciliation"),
        key=lambda h: (h.created_at, h.id),
    )


def _stop_holds(acting: _Acting, topup: Topup, ids: str) -> str:
    """Stop the wallet's pending holds from paying fake money out until a person decides:
    restrict the account, as `RECONCILIATION_ACTOR`, so lifting it needs maker-checker. No
    hold of a restricted account is posted (a withdrawal's approval, a case's release, an
    operator's post and a passed step-up all check the account's state first). An account
    its holder froze is taken over (its holder alone could unfreeze it); one held back
    further (frozen by someone else, closed) or already restricted stays as it is. Says
    what was done."""
    uow = acting.uow
    account = uow.accounts.get(topup.account_id) or AccountSecurity(topup.account_id)
    frozen = account.state is AccountState.FROZEN
    changed, change = account.escalate(
        AccountState.FROZEN if frozen else AccountState.RESTRICTED,
        reason=(
            f"reconciliation: top-up {topup.channel}/{topup.channel_ref} is a suspected fake "
            f"and its money sits in pending holds ({ids}): none may pay out until a person "
            "decides"
        ),
        actor=RECONCILIATION_ACTOR,
        at=acting.at,
        event_id=None,
    )
    if change is None:
        return f"account already {account.state.value}"
    save_change(uow, changed, change, statement=acting.digest, imported_by=acting.actor)
    if frozen:
        return "the holder's own freeze taken over until a person decides"
    return "account restricted until a person decides"


def _alert(
    acting: _Acting,
    topup: Topup,
    kind: Classification,
    note: str,
    amount: int,
    pending: str = "",
) -> None:
    summary = f"top-up {topup.channel}/{topup.channel_ref}: {kind.value} ({note})"
    raise_alert(
        acting.uow.cases,
        Alert(
            id=f"alert-recon-{acting.digest[:12]}-{topup.channel}-{topup.channel_ref}",
            account_id=topup.account_id,
            kind=AlertKind.SUSPECTED_FAKE_TOPUP,
            event_id=topup.request_event_id,
            risk_level="high",
            score=0,
            amount_units=amount,
            currency=topup.currency,
            summary=f"{summary}; {pending}" if pending else summary,
            created_at=acting.at,
        ),
    )


def _audit(
    acting: _Acting,
    topup: Topup,
    problem: str,
    held: int,
    in_holds: int = 0,
    holds: list[str] | None = None,
) -> None:
    payload: dict[str, object] = {
        "channel": topup.channel, "ref": topup.channel_ref, "problem": problem, "held": held,
    }  # fmt: skip
    if in_holds:
        payload.update(in_pending_holds=in_holds, pending_holds=holds or [])
    acting.uow.audit.append(
        at=acting.at, actor=acting.actor, action="ledger.topup_suspected",
        subject=f"account:{topup.account_id}", payload=payload,
    )  # fmt: skip
