"""`walletguard evaluate EVENTS LABELS`: replay with every effect, measure against labels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from walletguard.cli.common import (
    NewDbOption,
    err,
    failing_cleanly,
    markup,
    out,
    plain,
    writable_file,
)
from walletguard.cli.evaluation_view import (
    advance_on_input,
    count_lines,
    event_progress,
    print_evaluation,
)
from walletguard.cli.replay_cmd import (
    BatchOption,
    PolicyOption,
    RulesetOption,
    fresh_database_url,
)
from walletguard.composition import build_runtime, run_facts, tune_gc_for_throughput
from walletguard.evaluate.document import evaluation_document
from walletguard.evaluate.replay import parse_lines
from walletguard.evaluate.service import Evaluation, evaluate_events
from walletguard.evaluate.truth import load_truth

EventsArg = Annotated[Path, typer.Argument(help="Events, one JSON document a line.")]
LabelsArg = Annotated[Path, typer.Argument(help="labels.jsonl: the malicious events.")]
CampaignsOption = Annotated[
    Path | None,
    typer.Option(help="campaigns.jsonl (default: the one beside LABELS, if there is one)."),
]
PopulationOption = Annotated[
    Path | None,
    typer.Option(help="population.json (default: the one beside LABELS, if there is one)."),
]
SupportOption = Annotated[
    bool,
    typer.Option(
        "--support/--no-support",
        help="Simulate the support desk: frozen customers appeal and are unfrozen.",
    ),
]


def evaluate_command(
    events: EventsArg,
    labels: LabelsArg,
    campaigns: CampaignsOption = None,
    population: PopulationOption = None,
    db: NewDbOption = None,
    ruleset: RulesetOption = None,
    policy: PolicyOption = None,
    support: SupportOption = True,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Write every figure as JSON here.", callback=writable_file),
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write the risk report (HTML and PDF) into this directory.")
    ] = None,
    batch: BatchOption = 5000,
) -> None:
    """Replay EVENTS through the engine with all effects — challenges answered, frozen
    customers appealing — and measure it against LABELS: precision and recall, attacks
    stopped and money lost by typology, friction, latency, rules, operating metrics."""
    with failing_cleanly():
        truth = load_truth(labels, campaigns, population)
        url = fresh_database_url() if db is None else db
        runtime = build_runtime(url, ruleset_path=ruleset, policy_path=policy)
        tune_gc_for_throughput()
        try:
            total = count_lines(events)
            with (
                events.open("rb") as source,
                event_progress(err, "evaluate", total) as (bar, task),
            ):
                evaluation = evaluate_events(
                    parse_lines(source),
                    runtime.engine,
                    truth,
                    lambda: run_facts(runtime.database),
                    support=runtime.transaction if support else None,
                    batch_size=batch,
                    progress=advance_on_input(bar, task),
                )
            runtime.save_features()
        except OSError as exc:
            err.print(markup("[bold red]error:[/] cannot read {}: {}", events, exc.strerror))
            raise typer.Exit(2) from None
        finally:
            runtime.close()
        finish(evaluation, json_out=json_out, report=report, title="walletguard evaluation")
    if db is None:
        err.print(markup("decided on a fresh database: [bold]{}[/]", url))


def finish(
    evaluation: Evaluation, *, json_out: Path | None, report: Path | None, title: str
) -> None:
    """Print the tables; write the JSON and the report when asked."""
    doc = evaluation_document(evaluation)
    print_evaluation(out, doc)
    out.print(
        f"{evaluation.events:,} events in {evaluation.seconds:,.1f} s "
        f"({evaluation.events_per_second:,.0f} events/s, CPU {evaluation.cpu_seconds:,.1f} s)"
    )
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        out.print(markup("figures written to [bold]{}[/]", json_out))
    if report is not None:
        from walletguard.reporting.report import write_report

        paths = write_report(evaluation, doc, report, title=title)
        written = plain(", ").join(markup("[bold]{}[/]", p) for p in paths)
        out.print(markup("report written to ") + written)
