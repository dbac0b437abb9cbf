"""`walletguard simulate`: write a synthetic wallet population with attacks to a directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from walletguard.cli.common import err, failing_cleanly, finite, markup
from walletguard.simulate import TYPOLOGIES, RunSummary, SimConfig, write_run
from walletguard.simulate.config import SimConfigError


def simulate_command(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory to write the run to (created).")
    ],
    seed: Annotated[
        int | None, typer.Option(help="Random seed: same seed and options, same bytes. [1]")
    ] = None,
    users: Annotated[int | None, typer.Option(help="Number of wallet customers. [1000]")] = None,
    days: Annotated[
        int | None, typer.Option(help="Simulated days of normal life and attacks. [7]")
    ] = None,
    attack_rate: Annotated[
        float | None,
        typer.Option(
            help="Multiplies every typology's campaign rate; 0: no attacks. [1.0]",
            callback=finite,
        ),
    ] = None,
    rate: Annotated[
        list[str] | None,
        typer.Option(
            help="TYPOLOGY=N campaigns per day per 10,000 users (before --attack-rate); "
            "repeatable. Typologies: " + ", ".join(TYPOLOGIES) + ".",
        ),
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="Start of the simulated window, RFC 3339.")
    ] = None,
    noise: Annotated[
        float | None,
        typer.Option(
            help="Multiplies rare legit behaviours (new phone, travel...); 0: none.",
            callback=finite,
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="YAML or JSON file of SimConfig settings; options given here override it."
        ),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr.")] = True,
) -> None:
    """Simulate wallet customers, merchants and agents with attack campaigns mixed in.

    Writes events.jsonl, labels.jsonl, campaigns.jsonl, statements/ and population.json
    to OUT (see docs/simulator.md).
    """
    with failing_cleanly():
        settings: dict[str, Any] = _load_config(config) if config is not None else {}
        given = {
            "seed": seed,
            "users": users,
            "days": days,
            "attack_rate": attack_rate,
            "start": start,
            "noise": noise,
        }
        settings.update({k: v for k, v in given.items() if v is not None})
        if rate:
            settings["rates"] = {**settings.get("rates", {}), **_parse_rates(rate)}
        sim_config = SimConfig.from_mapping(settings)
        if out.exists() and not out.is_dir():
            raise SimConfigError(f"{out} exists and is not a directory")
        summary = _run(sim_config, out, progress)
        _print_summary(summary, out)


def _run(config: SimConfig, out: Path, show: bool) -> RunSummary:
    if not show:
        return write_run(config, out)
    total = config.days * 86400
    bar = Progress(
        TextColumn("[bold]simulate"),
        BarColumn(),
        TextColumn("day {task.fields[day]:.1f}/{task.fields[days]}"),
        TextColumn("{task.fields[events]:,} events"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with bar:
        task = bar.add_task("simulate", total=total, day=0.0, days=config.days, events=0)

        def update(events: int, elapsed: int) -> None:
            bar.update(task, completed=elapsed, day=elapsed / 86400, events=events)

        return write_run(config, out, progress=update)


def _load_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SimConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise SimConfigError(f"{path} is not valid YAML / JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SimConfigError(f"{path} must hold a mapping of settings")
    return data


def _parse_rates(items: list[str]) -> dict[str, float]:
    rates: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise SimConfigError(f"--rate wants TYPOLOGY=N, got {item!r}")
        try:
            rates[name.strip()] = float(value)
        except ValueError:
            raise SimConfigError(f"--rate {item!r}: {value!r} is not a number") from None
    return rates


def _print_summary(summary: RunSummary, out: Path) -> None:
    table = Table(title="simulation summary", show_header=False, title_justify="left")
    table.add_row("events", f"{summary.events:,}")
    table.add_row("  malicious", f"{summary.labelled:,}")
    for typology, count in summary.campaigns.items():
        if count:
            table.add_row(markup("  {} campaigns", typology), f"{count:,}")
    table.add_row("statement lines", f"{summary.statement_lines:,}")
    table.add_row("seconds", f"{summary.seconds:,.2f}")
    table.add_row("events/s", f"{summary.events_per_second:,.0f}")
    err.print(table)
    err.print(markup("written to [bold]{}[/]", out))
