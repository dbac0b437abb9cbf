"""`walletguard cases appeal ...`, `cases labels`, `cases rule-stats`: what users contest
and what outcomes teach."""

from __future__ import annotations

import csv
import statistics
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from walletguard.cases.appeals import AppealResult, open_appeal, resolve_appeal
from walletguard.cases.stats import rule_precision
from walletguard.cli.common import (
    ActorOption,
    DbOption,
    err,
    failing_cleanly,
    markup,
    out,
    plain,
    writable_file,
)
from walletguard.composition import unit_of_work

app = typer.Typer(help="Users' appeals against restrictions.", no_args_is_help=True)


def _now() -> datetime:
    return datetime.now(UTC)


def _duration(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f}d" if hours >= 48 else f"{hours:.1f}h"


@app.command("open")
def open_command(
    account: Annotated[str, typer.Argument(help="The account whose user appeals.")],
    text: Annotated[str, typer.Option(help="What the user says.")],
    db: DbOption = None,
    *,
    actor: ActorOption,
) -> None:
    """Record a user's appeal against the restriction on their account."""
    with failing_cleanly(), unit_of_work(db) as uow:
        state = uow.accounts.get(account)
        appeal = open_appeal(
            uow,
            account,
            restriction=state.state.value if state is not None else "unknown",
            text=text,
            actor=actor,
            at=_now(),
        )
    filed = f" (filed on {appeal.case_id})" if appeal.case_id else ""
    out.print(markup("appeal {} against {} opened{}", appeal.id, appeal.restriction, filed))


@app.command("resolve")
def resolve_command(
    appeal_id: Annotated[str, typer.Argument(help="The appeal id.")],
    result: Annotated[AppealResult, typer.Option(help="lifted (user was right) or upheld.")],
    note: Annotated[str, typer.Option(help="Why (required).")],
    db: DbOption = None,
    *,
    actor: ActorOption,
) -> None:
    """Resolve an appeal (lifting a freeze itself is `cases unfreeze`, with approval)."""
    with failing_cleanly(), unit_of_work(db) as uow:
        appeal = resolve_appeal(uow, appeal_id, result, note=note, actor=actor, at=_now())
    out.print(
        markup(
            "appeal {}: {} after {}",
            appeal.id,
            result.value,
            _duration(appeal.time_to_resolution),
        )
    )


@app.command("list")
def list_command(
    db: DbOption = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only unresolved appeals.")] = False,
) -> None:
    """Appeals with their time to resolution (and the median of the resolved ones)."""
    now = _now()
    with failing_cleanly(), unit_of_work(db) as uow:
        appeals = uow.appeals.list_appeals(open_only=open_only)
    table = Table(title="appeals", title_justify="left")
    for column in ("appeal", "account", "against", "opened", "result", "time to resolution"):
        table.add_column(column)
    for a in appeals:
        took = a.time_to_resolution
        waiting = f"open for {_duration(now - a.opened_at)}" if took is None else _duration(took)
        table.add_row(
            plain(a.id),
            plain(a.account_id),
            plain(a.restriction),
            f"{a.opened_at:%Y-%m-%d %H:%M}",
            a.result.value if a.result else "open",
            waiting,
        )
    out.print(table)
    times = [a.time_to_resolution.total_seconds() for a in appeals if a.time_to_resolution]
    if times:
        median = timedelta(seconds=statistics.median(times))
        err.print(f"{len(times)} resolved, median time to resolution {_duration(median)}")


def labels_command(
    output: Annotated[
        Path,
        typer.Option(
            "-o",
            "--out",
            help="CSV file ('-' for stdout).",
            allow_dash=True,
            callback=writable_file,
        ),
    ],
    db: DbOption = None,
) -> None:
    """Export the labels resolved cases gave their events (training data for later models)."""
    with failing_cleanly(), unit_of_work(db) as uow:
        labels = uow.cases.labels()
    sink = sys.stdout if str(output) == "-" else output.open("w", newline="")
    try:
        writer = csv.writer(sink)
        writer.writerow(
            [
                "event_id",
                "account_id",
                "label",
                "outcome",
                "case_id",
                "rules",
                "labelled_at",
                "labelled_by",
            ]
        )
        for label in labels:
            writer.writerow(
                [
                    label.event_id or "",
                    label.account_id,
                    label.label,
                    label.outcome,
                    label.case_id,
                    " ".join(label.rules),
                    label.created_at.isoformat(),
                    label.created_by,
                ]
            )
    finally:
        if sink is not sys.stdout:
            sink.close()
    err.print(f"{len(labels)} label(s)")


def rule_stats_command(db: DbOption = None) -> None:
    """Per-rule precision from case outcomes: fraud confirmed vs false positives."""
    with failing_cleanly(), unit_of_work(db) as uow:
        stats = rule_precision(uow.cases.labels())
    table = Table(title="rule precision from case outcomes", title_justify="left")
    for column in ("rule", "fraud", "false positive", "inconclusive", "precision"):
        table.add_column(column, justify="left" if column == "rule" else "right")
    for s in stats:
        precision = "—" if s.precision is None else f"{s.precision:.0%}"
        table.add_row(plain(s.rule), str(s.fraud), str(s.legit), str(s.unknown), precision)
    out.print(table)


def register_labels(cases_app: typer.Typer) -> None:
    cases_app.command("labels")(labels_command)
    cases_app.command("rule-stats")(rule_stats_command)
