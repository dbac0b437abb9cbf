"""`walletguard cases`: the review queue and working a case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from walletguard.cases import service
from walletguard.cases.model import CaseOutcome, CaseStatus, QueueSettings
from walletguard.cases.queue import order_queue, priority
from walletguard.cli import appeals_cmd, case_actions_cmd
from walletguard.cli.common import (
    ActorOption,
    DbOption,
    err,
    failing_cleanly,
    markup,
    out,
    plain,
)
from walletguard.composition import unit_of_work
from walletguard.kernel.money import format_amount, from_units

app = typer.Typer(help="Alerts, cases and the review queue.", no_args_is_help=True)
case_actions_cmd.register(app)
app.add_typer(appeals_cmd.app, name="appeal")
appeals_cmd.register_labels(app)

CaseArg = Annotated[str, typer.Argument(help="The case id (see `cases list`).")]


def _now() -> datetime:
    return datetime.now(UTC)


def money(units: int) -> str:
    return format_amount(from_units(units))


def age(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f}d" if hours >= 48 else f"{hours:.1f}h"


@app.command("list")
def list_cases(
    db: DbOption = None,
    all_cases: Annotated[bool, typer.Option("--all", help="Include resolved cases.")] = False,
    assignee: Annotated[
        str | None, typer.Option(help="Only cases assigned to this person.")
    ] = None,
    account: Annotated[str | None, typer.Option(help="Only this account's cases.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many lines.", min=1)] = 50,
) -> None:
    """The review queue: open cases by priority (risk, money at stake, age against the SLA)."""
    now = _now()
    settings = QueueSettings()
    with failing_cleanly(), unit_of_work(db) as uow:
        cases = uow.cases.list_cases(open_only=not all_cases, assignee=assignee, account_id=account)
    entries = order_queue(cases, now, settings)
    resolved = [c for c in cases if not c.is_open]
    table = Table(title=f"review queue — {len(entries)} open", title_justify="left")
    widest = max((len(c.id) for c in cases), default=4)
    for column in (
        "prio",
        "case",
        "account",
        "status",
        "risk",
        "score",
        "at stake",
        "alerts",
        "age",
        "SLA",
        "assignee",
    ):
        table.add_column(
            column,
            justify="right" if column in ("prio", "score", "alerts") else "left",
            # ids are what people copy into the next command: never cut them short
            no_wrap=column in ("case", "account"),
            min_width=widest if column == "case" else None,
        )
    for entry in entries[:limit]:
        c = entry.case
        due = entry.due_at - now
        sla = f"[red]overdue {age(-due)}[/]" if due.total_seconds() < 0 else f"{age(due)} left"
        table.add_row(
            str(entry.priority),
            plain(c.id),
            plain(c.account_id),
            c.status.value,
            plain(c.risk_level),
            str(c.max_score),
            money(c.amount_at_stake_units),
            str(c.alert_count),
            age(now - c.opened_at),
            sla,
            plain(c.assignee or "—"),
        )
    for c in resolved[: max(0, limit - len(entries))]:
        table.add_row(
            "",
            plain(c.id),
            plain(c.account_id),
            markup("resolved: {}", c.outcome),
            plain(c.risk_level),
            str(c.max_score),
            money(c.amount_at_stake_units),
            str(c.alert_count),
            age(now - c.opened_at),
            "",
            plain(c.assignee or "—"),
            style="dim",
        )
    out.print(table)


@app.command("show")
def show(case_id: CaseArg, db: DbOption = None) -> None:
    """A case: its alerts, notes, labels and the account's holds."""
    now = _now()
    with failing_cleanly(), unit_of_work(db) as uow:
        case = service.get_case(uow, case_id)
        alerts = uow.cases.alerts_of(case.id)
        notes = uow.cases.notes_of(case.id)
        labels = uow.cases.labels(case_id=case.id)
        account = uow.accounts.get(case.account_id)
        holds = uow.cases.holds_of(case.account_id)
    head = Table(show_header=False, title=markup("case {}", case.id), title_justify="left")
    head.add_row(
        "account",
        markup("{} ({})", case.account_id, account.state.value if account else "unknown"),
    )
    head.add_row("status", plain(case.status.value + (f": {case.outcome}" if case.outcome else "")))
    head.add_row("risk", markup("{} (highest score {})", case.risk_level, case.max_score))
    head.add_row("at stake", money(case.amount_at_stake_units))
    head.add_row("opened", f"{case.opened_at:%Y-%m-%d %H:%M} UTC ({age(now - case.opened_at)} ago)")
    if case.is_open:
        entry = priority(case, now, QueueSettings())
        head.add_row("priority", f"{entry.priority} (SLA due {entry.due_at:%Y-%m-%d %H:%M} UTC)")
    head.add_row("assignee", plain(case.assignee or "—"))
    out.print(head)
    table = Table(title="alerts", title_justify="left")
    for column in ("when", "kind", "event", "risk", "score", "amount", "summary"):
        table.add_column(column)
    for a in alerts:
        table.add_row(
            f"{a.created_at:%m-%d %H:%M}",
            a.kind.value,
            plain(a.event_id or "—"),
            plain(a.risk_level),
            str(a.score),
            money(a.amount_units) if a.amount_units else "",
            plain(a.summary),
        )
    out.print(table)
    if holds:
        table = Table(title="holds on the account", title_justify="left")
        for column in ("hold", "amount", "purpose", "status", "created"):
            table.add_column(column)
        for h in holds:
            table.add_row(
                plain(h.id),
                markup("{} {}", money(h.amount), h.currency),
                plain(h.purpose),
                h.status.value,
                f"{h.created_at:%m-%d %H:%M}",
            )
        out.print(table)
    table = Table(title="notes", title_justify="left")
    for column in ("when", "who", "kind", "text"):
        table.add_column(column)
    for n in notes:
        table.add_row(f"{n.at:%m-%d %H:%M}", plain(n.author), plain(n.kind), plain(n.text))
    out.print(table)
    if labels:
        out.print(markup("labels: {} event(s) labelled {}", len(labels), labels[0].label))


@app.command("assign")
def assign(
    case_id: CaseArg,
    assignee: Annotated[str, typer.Argument(help="Who takes it.")],
    db: DbOption = None,
    *,
    actor: ActorOption,
) -> None:
    """Give a case to a reviewer (an open case moves to investigating)."""
    with failing_cleanly(), unit_of_work(db) as uow:
        case = service.assign(uow, case_id, assignee, actor=actor, at=_now())
    out.print(markup("{}: assigned to {} ({})", case.id, case.assignee, case.status.value))


@app.command("note")
def note(
    case_id: CaseArg,
    text: Annotated[str, typer.Argument(help="The note.")],
    db: DbOption = None,
    *,
    actor: ActorOption,
) -> None:
    """Add a note to a case."""
    with failing_cleanly(), unit_of_work(db) as uow:
        service.add_note(uow, case_id, text, actor=actor, at=_now())
    out.print(markup("{}: note added", case_id))


@app.command("status")
def status(
    case_id: CaseArg,
    to: Annotated[CaseStatus, typer.Argument(help="investigating or waiting_customer.")],
    note_text: Annotated[str, typer.Option("--note", help="Why.")] = "",
    db: DbOption = None,
    *,
    actor: ActorOption,
) -> None:
    """Move a case along open → investigating ⇄ waiting_customer (resolve with `resolve`)."""
    with failing_cleanly(), unit_of_work(db) as uow:
        case = service.move(uow, case_id, to, actor=actor, at=_now(), note=note_text)
    out.print(markup("{}: {}", case.id, case.status.value))


@app.command("resolve")
def resolve(
    case_id: CaseArg,
    outcome: Annotated[CaseOutcome, typer.Option(help="What the case turned out to be.")],
    note_text: Annotated[str, typer.Option("--note", help="Why (required).")],
    db: DbOption = None,
    *,
    actor: ActorOption,
) -> None:
    """Close a case with an outcome; its events become labels (features, rule precision,
    training data)."""
    with failing_cleanly(), unit_of_work(db) as uow:
        case, labels = service.resolve(
            uow,
            case_id,
            outcome,
            actor=actor,
            at=_now(),
            note=note_text,
            source=uow.cases,
            reports=uow.cases,
        )
    out.print(
        markup("{}: resolved as {}; {} label(s) recorded", case.id, case.outcome, len(labels))
    )
    if outcome is CaseOutcome.FRAUD_CONFIRMED:
        err.print("the account, its counterparties and devices now count as named in fraud")
