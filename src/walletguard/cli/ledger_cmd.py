"""`walletguard reconcile` and `walletguard ledger ...`: balances, statements, holds,
withdrawal approvals, transfers by hand, the sweep and the invariant check."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from walletguard.cli.common import (
    ActorOption,
    DbOption,
    NewDbOption,
    err,
    failing_cleanly,
    markup,
    out,
    plain,
    writable_file,
)
from walletguard.events.timeparse import TimestampError, parse_rfc3339
from walletguard.kernel.clock import in_reach
from walletguard.kernel.errors import FieldProblem, InvalidInput
from walletguard.kernel.money import format_amount, from_units, units_of
from walletguard.ledger import operator, withdrawals
from walletguard.ledger.model import HoldStatus, ledger_account
from walletguard.ledger.reconcile import reconcile
from walletguard.ledger.settings import LedgerSettings, load_ledger_settings
from walletguard.ledger.statement_pdf import statement_pdf
from walletguard.ledger.statements import StatementFilter, statement_csv
from walletguard.ledger.sweep import sweep
from walletguard.ledger.transfer_file import read_transfers, transfer_request
from walletguard.storage.database import Database, open_database
from walletguard.storage.ledger_import import ImportOutcome, import_transfers
from walletguard.storage.ledger_invariants import check_ledger
from walletguard.storage.ledger_session import (
    LedgerSession,
    issue_statement,
    ledger_session,
    require_known_account,
)

app = typer.Typer(
    help="The wallet ledger: balances, statements, holds, approvals.", no_args_is_help=True
)
hold_app = typer.Typer(help="Resolve a hold by hand.", no_args_is_help=True)
withdrawal_app = typer.Typer(help="Approve or reject held withdrawals.", no_args_is_help=True)
app.add_typer(hold_app, name="hold")
app.add_typer(withdrawal_app, name="withdrawal")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--ledger-config",
        help="Ledger YAML (limits, approvals, reconciliation). Default: "
        "$WALLETGUARD_LEDGER_CONFIG or the bundled one.",
    ),
]
CurrencyOption = Annotated[str, typer.Option(help="Currency (ISO 4217).")]


def _now() -> datetime:
    return datetime.now(UTC)


def _time(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_rfc3339(text)
    except (TimestampError, ValueError):
        raise InvalidInput([FieldProblem(option, f"{text!r} is not an RFC 3339 time")]) from None


def _units(text: str | None) -> int | None:
    return None if text is None else units_of(text, "--amount")


def _money(units: int | None) -> str:
    return "" if units is None else format_amount(from_units(units))


def _open(db: str | None) -> Database:
    return open_database(db)


@contextmanager
def _ledger_session(db: str | None) -> Iterator[LedgerSession]:
    """A ledger session on the database `db` names: committed when the block succeeds,
    rolled back when it raises; the database is closed afterwards either way."""
    database = _open(db)
    try:
        with ledger_session(database) as session:
            yield session
    finally:
        database.dispose()


def _settings(path: Path | None) -> LedgerSettings:
    return load_ledger_settings(path)


# -- reconcile -------------------------------------------------------------------------------


def reconcile_command(
    channel: Annotated[str, typer.Argument(help="The payment channel, e.g. unionpay.")],
    statement: Annotated[Path, typer.Argument(help="The channel's statement CSV.")],
    actor: ActorOption,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Match a channel statement to the ledger's top-ups and act on suspected fakes.

    Importing the same statement again changes nothing and prints the first report."""
    with failing_cleanly():
        try:
            data = statement.read_bytes()
        except OSError as exc:
            err.print(markup("[bold red]error:[/] cannot read {}: {}", statement, exc.strerror))
            raise typer.Exit(2) from None
        settings = _settings(config)
        with _ledger_session(db) as session:
            report = reconcile(
                session,
                session.queries,
                settings,
                channel=channel,
                data=data,
                source=statement.name,
                at=_now(),
                actor=actor,
            )
    if as_json:
        out.print_json(json.dumps(report))
        return
    print_reconciliation(report)


def print_reconciliation(report: dict[str, Any]) -> None:
    again = " (already imported: nothing changed)" if report.get("already_imported") else ""
    out.print(
        markup(
            "[bold]reconciliation[/] {} {} — {} line(s), digest {}…{}",
            report["channel"],
            report["source"],
            report["lines"],
            report["digest"][:16],
            again,
        )
    )
    counts = report["counts"]
    out.print(plain("  " + "  ".join(f"{k}: {v}" for k, v in counts.items())))
    items = [i for i in report["items"] if i["classification"] != "matched"]
    if not report["lines"]:
        out.print(
            "[yellow]the statement holds no lines: nothing was compared[/] (a statement's "
            "lines give its period, so top-ups missing from it cannot be looked for)"
        )
        return
    if not items:
        out.print("[green]every line matched[/]")
        return
    table = Table(title_justify="left")
    for column in ("class", "reference", "account", "ledger", "statement", "note", "action"):
        table.add_column(column)
    for item in items:
        table.add_row(
            plain(item["classification"]),
            plain(item["channel_ref"]),
            plain(item["account_id"] or ""),
            plain(item["ledger_amount"] or ""),
            plain(item["statement_amount"] or ""),
            plain(item["note"]),
            plain(item["action"]),
        )
    out.print(table)


# -- ledger ------------------------------------------------------------------------------------


@app.command("balance")
def balance(
    account: Annotated[str, typer.Argument(help="Account id (or a ledger account code).")],
    currency: CurrencyOption = "CNY",
    db: DbOption = None,
) -> None:
    """An account's posted, held, pending and available balance."""
    with failing_cleanly(), _ledger_session(db) as session:
        require_known_account(session, ledger_account(account))
        b = session.ledger.balance(ledger_account(account), currency)
    table = Table(
        title=markup("{} ({})", b.account, currency), title_justify="left", show_header=False
    )
    for name, value in (
        ("posted", b.posted),
        ("held", b.held),
        ("pending in", b.pending_in),
        ("pending out", b.pending_out),
        ("available", b.available),
    ):
        table.add_row(name, _money(value))
    table.add_row("overdraft allowed", "yes" if b.overdraft_allowed else "no")
    out.print(table)


@app.command("statement")
def statement(
    account: Annotated[str, typer.Argument(help="Account id (or a ledger account code).")],
    actor: ActorOption,
    start: Annotated[str | None, typer.Option("--from", help="RFC 3339 start (inclusive).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="RFC 3339 end (exclusive).")] = None,
    kinds: Annotated[
        list[str] | None, typer.Option("--type", help="Only these types (repeatable).")
    ] = None,
    channel: Annotated[str | None, typer.Option(help="Only top-ups through this channel.")] = None,
    counterparty: Annotated[
        str | None, typer.Option(help="Only lines with this counterparty (account code or id).")
    ] = None,
    currency: CurrencyOption = "CNY",
    csv_path: Annotated[
        Path | None, typer.Option("--csv", help="Write CSV here.", callback=writable_file)
    ] = None,
    pdf_path: Annotated[
        Path | None, typer.Option("--pdf", help="Write PDF here.", callback=writable_file)
    ] = None,
    db: DbOption = None,
) -> None:
    """An account statement with running balances, stamped with the audit chain's head.
    Prints it, and writes CSV and/or PDF when asked."""
    with failing_cleanly():
        filters = StatementFilter(
            start=_time(start, "--from"),
            end=_time(end, "--to"),
            kinds=frozenset(kinds or ()),
            channel=channel,
            counterparty=counterparty,
        )
        with _ledger_session(db) as session:
            made = issue_statement(
                session, ledger_account(account), currency, filters, at=_now(), actor=actor
            )
    if csv_path is not None:
        csv_path.write_text(statement_csv(made))
        err.print(markup("wrote {}", csv_path))
    if pdf_path is not None:
        pdf_path.write_bytes(statement_pdf(made))
        err.print(markup("wrote {}", pdf_path))
    table = Table(title=markup("statement {} ({})", made.account, currency), title_justify="left")
    for column in ("at", "type", "counterparty", "amount", "balance"):
        table.add_column(column, justify="right" if column in ("amount", "balance") else "left")
    for ln in made.lines:
        table.add_row(
            ln.at.isoformat(),
            plain(ln.kind),
            plain(ln.counterparty),
            _money(ln.amount),
            _money(ln.balance),
        )
    out.print(table)
    stamp = (
        f"chain {made.stamp.chain} seq {made.stamp.seq} hash {made.stamp.hash}"
        if made.stamp
        else "no audit stamp"
    )
    out.print(
        markup(
            "opening {}  closing {}  audit head: {}  digest {}",
            _money(made.opening),
            _money(made.closing),
            stamp,
            made.digest,
        )
    )


@app.command("holds")
def holds(
    account: Annotated[str | None, typer.Option(help="Only this account's holds.")] = None,
    status: Annotated[
        HoldStatus | None, typer.Option(help="Only holds in this state.")
    ] = HoldStatus.PENDING,
    db: DbOption = None,
) -> None:
    """Holds, newest first (pending ones unless --status says otherwise)."""
    with failing_cleanly(), _ledger_session(db) as session:
        wanted = ledger_account(account) if account else None
        found = session.queries.holds(account=wanted, status=status)
    table = Table(title_justify="left")
    for column in (
        "hold",
        "account",
        "amount",
        "purpose",
        "status",
        "expires",
        "on expiry",
        "approval",
    ):
        table.add_column(column)
    for h in found:
        table.add_row(
            plain(h.id),
            plain(h.account),
            markup("{} {}", _money(h.amount), h.currency),
            plain(h.purpose),
            h.status.value,
            h.expires_at.isoformat() if h.expires_at else "",
            h.on_expiry.value,
            plain(h.approval_id or ""),
        )
    out.print(table)


@hold_app.command("post")
def hold_post(
    hold_id: Annotated[str, typer.Argument(help="The hold.")],
    actor: ActorOption,
    amount: Annotated[
        str | None, typer.Option(help="Post only this much (the rest is released).")
    ] = None,
    note: Annotated[str, typer.Option(help="Why.")] = "",
    db: DbOption = None,
) -> None:
    """Move held money to its destination (not for withdrawals: approve those)."""
    with failing_cleanly(), _ledger_session(db) as session:
        hold = operator.post_hold_as(
            session, hold_id, by=actor, at=_now(), amount=_units(amount), note=note
        )
    out.print(
        markup("hold {} posted: {} of {}", hold.id, _money(hold.posted_amount), _money(hold.amount))
    )


@hold_app.command("void")
def hold_void(
    hold_id: Annotated[str, typer.Argument(help="The hold.")],
    actor: ActorOption,
    note: Annotated[str, typer.Option(help="Why.")] = "",
    db: DbOption = None,
) -> None:
    """Release held money back to the wallet."""
    with failing_cleanly(), _ledger_session(db) as session:
        hold = operator.void_hold_as(session, hold_id, by=actor, at=_now(), note=note)
    out.print(markup("hold {} voided: {} available again", hold.id, _money(hold.amount)))


@withdrawal_app.command("approve")
def withdrawal_approve(
    hold_id: Annotated[str, typer.Argument(help="The withdrawal's hold.")],
    actor: ActorOption,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Approve releasing a held withdrawal (maker-checker: never by the requester). The
    money leaves once enough different people approved."""
    with failing_cleanly():
        settings = _settings(config)
        with _ledger_session(db) as session:
            hold, request = withdrawals.approve_withdrawal(
                session, settings, hold_id, approver=actor, at=_now()
            )
    if hold.status is HoldStatus.POSTED:
        out.print(
            markup(
                "withdrawal {} released: {} {}",
                hold.id,
                _money(hold.posted_amount),
                hold.currency,
            )
        )
    else:
        out.print(
            markup(
                "approval recorded ({}); {} more approver(s) needed",
                ", ".join(request.approvers),
                request.missing,
            )
        )


@withdrawal_app.command("reject")
def withdrawal_reject(
    hold_id: Annotated[str, typer.Argument(help="The withdrawal's hold.")],
    reason: Annotated[str, typer.Option(help="Why (told to the user).")],
    actor: ActorOption,
    db: DbOption = None,
) -> None:
    """Reject a held withdrawal: the money is available again and the user is told why."""
    with failing_cleanly(), _ledger_session(db) as session:
        hold = withdrawals.reject_withdrawal(session, hold_id, by=actor, reason=reason, at=_now())
    out.print(
        markup(
            "withdrawal {} rejected; {} {} released", hold.id, _money(hold.amount), hold.currency
        )
    )


@app.command("sweep")
def sweep_command(
    actor: ActorOption,
    now: Annotated[
        str | None, typer.Option(help="Sweep as of this RFC 3339 time (default: now).")
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Flag top-ups never confirmed in time; void, escalate or keep expired holds."""
    with failing_cleanly():
        settings = _settings(config)
        at = _time(now, "--now") or _now()
        if not in_reach(at):
            raise InvalidInput([FieldProblem("--now", f"{now!r} is too near the year 1 or 9999")])
        with _ledger_session(db) as session:
            report = sweep(session, session.queries, settings, now=at, actor=actor)
    out.print(
        f"flagged top-ups: {len(report.flagged_topups)}  voided holds: "
        f"{len(report.voided_holds)}  escalated: {len(report.escalated_holds)}  "
        f"kept: {len(report.kept_holds)}"
    )
    for name in report.flagged_topups:
        out.print(markup("  suspected fake top-up {}", name))


@app.command("transfer")
def transfer_command(
    transfer_id: Annotated[
        str, typer.Argument(help="Your id for it: a retry with it posts nothing more.")
    ],
    source: Annotated[str, typer.Argument(help="From: a wallet id or a ledger account code.")],
    destination: Annotated[str, typer.Argument(help="To: a wallet id or a ledger account code.")],
    amount: Annotated[str, typer.Argument(help='Amount, a decimal string such as "1200.50".')],
    actor: ActorOption,
    kind: Annotated[
        str, typer.Option(help="transfer, payment, withdrawal, settlement or adjustment.")
    ] = "adjustment",
    currency: CurrencyOption = "CNY",
    memo: Annotated[str, typer.Option(help="Why (kept on the transaction).")] = "",
    db: NewDbOption = None,
    config: ConfigOption = None,
) -> None:
    """Move money by hand, at most once per id, limits checked; audited."""
    with failing_cleanly():
        request = transfer_request(
            transfer_id, kind, source, destination, amount, currency=currency, memo=memo
        )
        settings = _settings(config)
        with _ledger_session(db) as session:
            record = operator.transfer_as(session, request, by=actor, at=_now(), limits=settings)
    again = " (a retry: the first outcome, nothing changed)" if record.replayed else ""
    if not record.ok:
        err.print(
            markup("[bold red]refused:[/] {}: {}{}", record.reason_code, record.message, again)
        )
        raise typer.Exit(1)
    out.print(
        markup(
            "transfer {} posted: {} {} {} → {}{}",
            transfer_id,
            format_amount(from_units(request.amount)),
            currency,
            request.source,
            request.destination,
            again,
        )
    )


@app.command("transfers")
def transfers_command(
    path: Annotated[
        Path, typer.Argument(help="Transfers, one JSON object a line (see docs/ledger.md).")
    ],
    actor: ActorOption,
    chunk: Annotated[int, typer.Option(help="Transfers per database transaction.", min=1)] = 100,
    db: NewDbOption = None,
    config: ConfigOption = None,
) -> None:
    """Import a file of transfers (settlements, adjustments...), each at most once per id.

    The whole file is checked first: a bad line applies nothing. On PostgreSQL, chunks with
    no limited wallet operation take the server-side batch path. Exits 1 if any transfer
    was refused or its id conflicts with an earlier one (the others stand)."""
    with failing_cleanly():
        try:
            requests = read_transfers(path.read_bytes().splitlines())
        except OSError as exc:
            err.print(markup("[bold red]error:[/] cannot read {}: {}", path, exc.strerror))
            raise typer.Exit(2) from None
        settings = _settings(config)
        database = _open(db)
        counts: Counter[str] = Counter()
        refused: list[ImportOutcome] = []
        try:
            with Progress(console=err, transient=True) as progress:
                task = progress.add_task("transfers", total=len(requests))
                for start in range(0, len(requests), chunk):
                    part = requests[start : start + chunk]
                    with ledger_session(database) as session:
                        outcomes = import_transfers(
                            session, part, by=actor, at=_now(), limits=settings
                        )
                    for outcome in outcomes:
                        counts["replayed" if outcome.replayed else outcome.status] += 1
                        if outcome.status != "posted" and not outcome.replayed:
                            refused.append(outcome)
                    progress.advance(task, len(part))
        finally:
            database.dispose()
    out.print(
        f"{len(requests):,} transfers: posted {counts['posted']:,}, refused "
        f"{counts['failed']:,}, conflicting ids {counts['conflict']:,}, already imported "
        f"{counts['replayed']:,}"
    )
    for outcome in refused:
        detail = f": {outcome.detail}" if outcome.detail else ""
        out.print(
            markup("  {}: {} {}{}", outcome.id, outcome.status, outcome.reason_code or "", detail)
        )
    if refused:
        raise typer.Exit(1)


@app.command("check")
def check(db: DbOption = None) -> None:
    """Check every ledger invariant over the whole database; exit 1 if one is broken."""
    with failing_cleanly():
        database = _open(db)
        try:
            with database.reading() as conn:
                violations = check_ledger(conn)
        finally:
            database.dispose()
    if not violations:
        out.print("[green]ok[/]: every ledger invariant holds")
        return
    for violation in violations:
        err.print(markup("[bold red]violation[/] {}", violation))
    raise typer.Exit(1)
