"""`walletguard demo`: the main job — a simulated week, decided, measured, reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from walletguard.cli.common import err, failing_cleanly, finite, markup, out, plain
from walletguard.cli.evaluation_view import print_evaluation
from walletguard.demo import DemoOptions, DemoResult, run_demo
from walletguard.kernel.money import format_amount, from_units


class RichSteps:
    """`demo.DemoProgress` as rich progress bars, one per step."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def start(self, label: str, total: float | None) -> Callable[[float], None]:
        task = self._tasks.get(label)
        if task is None:
            task = self._tasks[label] = self._progress.add_task(label, total=total)
        else:
            self._progress.reset(task, total=total)

        def advance(value: float) -> None:
            self._progress.update(task, completed=value)

        return advance

    def done(self, label: str, message: str) -> None:
        task = self._tasks.get(label)
        if task is not None:
            total = self._progress.tasks[task].total
            self._progress.update(task, completed=total if total else 1, total=total or 1)
        self._progress.console.print(markup("[green]✓[/] [bold]{}[/]: {}", label, message))


def demo_command(
    users: Annotated[int, typer.Option(help="Customers in the simulated wallet.", min=10)] = 3000,
    days: Annotated[int, typer.Option(help="Days simulated.", min=1, max=60)] = 7,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same week).", min=0)] = 7,
    attack_rate: Annotated[
        float,
        typer.Option(
            help="Multiply every typology's (already raised) campaign rate.", min=0, callback=finite
        ),
    ] = 1.0,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="A new directory for everything (default out/demo-<time>)."),
    ] = None,
) -> None:
    """Simulate a week of a wallet with every attack typology, decide it with the full
    engine on the embedded database, reconcile, measure it and write the risk report."""
    options = DemoOptions(users=users, days=days, seed=seed, attack_rate=attack_rate, out=out_dir)
    progress = Progress(
        TextColumn("[bold]{task.description:<10}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err,
    )
    with failing_cleanly(), progress:
        result = run_demo(options, RichSteps(progress))
    print_summary(result)


def _money(units: int) -> str:
    whole, _, cents = format_amount(from_units(units)).partition(".")
    return f"{int(whole):,}.{cents}"


def print_summary(result: DemoResult) -> None:
    doc = result.document
    ev = result.evaluation
    print_evaluation(out, doc, rules=8)
    tried = sum(t.tried for t in ev.typologies)
    left = sum(t.left for t in ev.typologies)
    table = Table(title="the demo week", title_justify="left", show_header=False)
    table.add_row(
        "customers, days, seed",
        f"{result.config.users:,}, {result.config.days}, {result.config.seed}",
    )
    table.add_row(
        "events decided",
        f"{ev.events:,} at {ev.events_per_second:,.0f} events/s (CPU {ev.cpu_seconds:,.0f} s)",
    )
    table.add_row(
        "decisions", plain(", ".join(f"{k} {v:,}" for k, v in sorted(ev.decisions.items())))
    )
    table.add_row(
        "money protected",
        f"{_money(tried - left)} of {_money(tried)} CNY the attackers tried to take out",
    )
    support = ev.support
    if support is not None:
        table.add_row(
            "appeals handled by the desk", f"{support.appeals:,} ({support.lifted:,} lifted)"
        )
    recon = result.housekeeping.get("reconciliation", {})
    table.add_row(
        "reconciliation", plain(", ".join(f"{k} {v:,}" for k, v in sorted(recon.items())))
    )
    table.add_row(
        "time per step", plain(", ".join(f"{k} {v:,.0f} s" for k, v in result.steps.items()))
    )
    out.print(table)
    db = result.db_url
    say = out.print
    say(markup("\n[bold]Everything is in {}[/]", result.directory), soft_wrap=True)
    say(markup("  report:   {}", result.report[0]), soft_wrap=True)
    say(markup("            {}", result.report[1]), soft_wrap=True)
    say(markup("  figures:  {}", result.summary_path), soft_wrap=True)
    say(markup("  database: {}", db), soft_wrap=True)
    say("\n[bold]Explore it[/]")
    say(markup("  walletguard cases list --db {}", db), soft_wrap=True)
    for typology, account in list(result.example_accounts.items())[:2]:
        say(
            markup("  walletguard account show {} --db {}   # {}", account, db, typology),
            soft_wrap=True,
        )
    say(markup("  walletguard cases appeal list --db {}", db), soft_wrap=True)
    say(markup("  walletguard audit verify --db {}", db), soft_wrap=True)
    say("  # the HTTP API (GET /v1/decisions/EVENT, /v1/lists, ...) takes a key:", soft_wrap=True)
    say(markup("  walletguard keys create --role analyst --db {}", db), soft_wrap=True)
    say(markup("  walletguard serve --db {}", db), soft_wrap=True)
