"""`walletguard bench handbook`: the outside yardstick, next to its published table."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from walletguard.cli.common import err, failing_cleanly, markup, out
from walletguard.composition import build_runtime, tune_gc_for_throughput
from walletguard.decisions.catalogue import RuleCatalogue
from walletguard.evaluate import handbook
from walletguard.scoring import registry
from walletguard.scoring.labels import LabelBook
from walletguard.scoring.serving import ModelRunner
from walletguard.scoring.training import TrainedModel
from walletguard.storage.history import model_scores, stored_labels

app = typer.Typer(help="Benchmarks against outside data sets.", no_args_is_help=True)


@app.command("handbook")
def handbook_command(
    path: Annotated[
        Path,
        typer.Argument(help="The handbook's transactions.parquet (or the folder holding it)."),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print only the three figures as JSON.")
    ] = False,
    since: Annotated[
        str,
        typer.Option(help="Stream transactions from this date (the data set starts 2018-04-01)."),
    ] = "2018-04-01",
    db: Annotated[
        str | None,
        typer.Option("--db", help="Scratch database URL (default: a temporary SQLite file)."),
    ] = None,
) -> None:
    """Stream the Fraud Detection Handbook's transactions through the engine, train on its
    training week, score its test week, and print AUC, average precision and Card
    Precision@100 next to the published results."""
    with failing_cleanly():
        source = path / "transactions.parquet" if path.is_dir() else path
        try:
            start = datetime.fromisoformat(since).replace(tzinfo=UTC)
        except ValueError:
            raise typer.BadParameter(f"--since: {since!r} is not a date") from None
        protocol = handbook.Protocol(since=start)
        data = handbook.load_transactions(source, protocol.test_end)
        with tempfile.TemporaryDirectory(prefix="wg-handbook-") as scratch:
            url = f"sqlite:///{Path(scratch) / 'handbook.db'}" if db is None else db
            result = _run(data, protocol, url, quiet=as_json)
    figures = result.figures()
    if as_json:
        print(json.dumps(figures))
        return
    _print_table(result)


def _run(
    data: handbook.Transactions, protocol: handbook.Protocol, url: str, *, quiet: bool
) -> handbook.BenchResult:
    runtime = build_runtime(
        url,
        policy_path=handbook.policy_path(),
        restore_features=False,
        models=False,
        graph=False,
        synchronous="OFF",
    )
    tune_gc_for_throughput()
    catalogue = RuleCatalogue()
    database = runtime.database

    def deploy(trained: TrainedModel) -> None:
        now = datetime.now(UTC)
        with runtime.transaction() as uow:
            registry.register(uow, trained.record, actor="bench:handbook", at=now)
        with runtime.transaction() as uow:
            champion = registry.promote(uow, trained.record.version, actor="bench:handbook", at=now)
        runtime.engine.use_models(ModelRunner.from_records([champion], catalogue))

    progress = Progress(
        TextColumn("[bold]handbook"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=quiet,
    )
    total = sum(1 for t in data.times if t >= protocol.since)
    try:
        with progress:
            task = progress.add_task("events", total=total)
            result = handbook.run_bench(
                data,
                runtime.engine,
                protocol=protocol,
                catalogue=catalogue,
                labels_known=lambda: LabelBook(stored_labels(database)),
                deploy=deploy,
                served_scores=lambda ids: model_scores(database, ids),
                progress=lambda n: progress.advance(task, n),
            )
    finally:
        runtime.close()
    return result


def _print_table(result: handbook.BenchResult) -> None:
    table = Table(
        title="Fraud Detection Handbook — test week 2018-08-08 … 08-14", title_justify="left"
    )
    for column in ("model", "AUC ROC", "Average precision", "Card Precision@100"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for name, auc, ap, cp in handbook.PUBLISHED:
        table.add_row(name, f"{auc:.3f}", f"{ap:.3f}", f"{cp:.3f}")
    f = result.figures()
    table.add_row(
        markup("[bold]walletguard {}[/]", result.model.record.version),
        f"[bold]{f['auc_roc']:.3f}[/]",
        f"[bold]{f['average_precision']:.3f}[/]",
        f"[bold]{f['card_precision_at_100']:.3f}[/]",
    )
    out.print(table)
    validation = result.model.record.metrics.get("validation", {})
    err.print(
        f"{result.events:,} events in {result.seconds:,.0f} s; test set {result.test_rows:,} "
        f"payments, {result.test_frauds:,} fraudulent; model trained on "
        f"{result.model.record.metrics.get('training_rows', 0):,} payments "
        f"(validation AP {validation.get('average_precision', 0):.3f}); engine median per "
        f"event {result.timings.get('engine_median_us_without_model')} µs without the model, "
        f"{result.timings.get('engine_median_us_with_model')} µs with it (the scoring call "
        f"{result.timings.get('model_score_median_us')} µs)"
    )
