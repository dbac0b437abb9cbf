"""`walletguard replay`: the contract's batch door."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from walletguard.cli.common import NewDbOption, err, failing_cleanly, markup, writable_file
from walletguard.composition import build_runtime, tune_gc_for_throughput
from walletguard.evaluate.replay import ReplaySummary, parse_lines, replay
from walletguard.storage.database import data_dir

RulesetOption = Annotated[
    Path | None, typer.Option(help="Ruleset YAML (default: the bundled default ruleset).")
]
PolicyOption = Annotated[
    Path | None, typer.Option(help="Policy YAML (default: the bundled policy).")
]
BatchOption = Annotated[int, typer.Option(help="Events per database transaction.", min=1)]


def fresh_database_url() -> str:
    """A new embedded database file under the data directory."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    path = data_dir() / "runs" / f"replay-{stamp}.db"
    return f"sqlite:///{path}"


def replay_command(
    events: Annotated[
        Path,
        typer.Argument(
            help="Events, one JSON document a line, in occurred_at order ('-' for stdin).",
            allow_dash=True,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Where to write one decision a line ('-' for stdout).",
            allow_dash=True,
            callback=writable_file,
        ),
    ],
    db: NewDbOption = None,
    ruleset: RulesetOption = None,
    policy: PolicyOption = None,
    batch: BatchOption = 5000,
) -> None:
    """Decide every event in EVENTS with all its effects, writing one decision a line.

    Without --db the events are decided on a fresh embedded database (its path is printed).
    """
    with failing_cleanly():
        url = fresh_database_url() if db is None else db
        try:
            source = sys.stdin.buffer if str(events) == "-" else events.open("rb")
        except OSError as exc:
            err.print(markup("[bold red]error:[/] cannot read {}: {}", events, exc.strerror))
            raise typer.Exit(2) from None
        total = None if str(events) == "-" else events.stat().st_size
        runtime = build_runtime(url, ruleset_path=ruleset, policy_path=policy)
        tune_gc_for_throughput()
        summary = ReplaySummary()
        sink = sys.stdout.buffer if str(out) == "-" else out.open("wb")
        progress = Progress(
            TextColumn("[bold]replay"),
            BarColumn(),
            TextColumn(
                "{task.completed:,.0f}/{task.total:,.0f} bytes"
                if total
                else "{task.completed:,.0f} bytes"
            ),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        )

        def lines() -> Iterator[bytes]:
            for line in source:
                progress.advance(task, len(line))
                yield line

        try:
            with progress:
                task = progress.add_task("replay", total=total)
                for line in replay(
                    parse_lines(lines()), runtime.engine, batch_size=batch, summary=summary
                ):
                    sink.write(line)
                    sink.write(b"\n")
            runtime.save_features()
        finally:
            if sink is not sys.stdout.buffer:
                sink.close()
            if source is not sys.stdin.buffer:
                source.close()
            runtime.close()
        print_summary(summary, url if db is None else None)


def print_summary(summary: ReplaySummary, fresh_url: str | None) -> None:
    table = Table(title="replay summary", show_header=False, title_justify="left")
    table.add_row("events", f"{summary.events:,}")
    for verdict in ("allow", "challenge", "review", "block"):
        table.add_row(f"  {verdict}", f"{summary.decisions.get(verdict, 0):,}")
    table.add_row("invalid lines", f"{summary.errors:,}")
    table.add_row("seconds", f"{summary.seconds:,.2f}")
    table.add_row("events/s", f"{summary.events_per_second:,.0f}")
    err.print(table)
    if fresh_url:
        err.print(
            markup("decided on a fresh database: [bold]{}[/] (pass --db to reuse it)", fresh_url)
        )
