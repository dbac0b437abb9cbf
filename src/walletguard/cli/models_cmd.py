"""`walletguard models`: the registry — list, show, promote, shadow, retire."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from walletguard.cli.common import ActorOption, DbOption, err, failing_cleanly, markup, out, plain
from walletguard.composition import unit_of_work
from walletguard.kernel.errors import NotFound
from walletguard.scoring import registry
from walletguard.scoring.model import ModelRecord
from walletguard.storage.database import open_database

app = typer.Typer(help="The model registry: champion, shadows, candidates.", no_args_is_help=True)

VersionArg = Annotated[str, typer.Argument(help="Model version (see `walletguard models list`).")]


def _fmt(value: Any) -> Text:
    if isinstance(value, float):
        return plain(f"{value:.3f}")
    return plain(value)


def metrics_table(record: ModelRecord) -> Table:
    """A model's validation metrics as a table."""
    table = Table(title=markup("model {}", record.version), title_justify="left", show_header=False)
    for key, value in record.metrics.get("validation", {}).items():
        table.add_row(plain(key), _fmt(value))
    table.add_row("training rows", _fmt(record.metrics.get("training_rows")))
    table.add_row("training positives", _fmt(record.metrics.get("training_positives")))
    return table


def _with_uow(db: str | None, work: Callable[[Any], Any]) -> Any:
    database = open_database(db)
    try:
        with unit_of_work(database) as uow:
            return work(uow)
    finally:
        database.dispose()


@app.command("list")
def list_models(db: DbOption = None) -> None:
    """Every registered model, newest first."""
    with failing_cleanly():
        records: list[ModelRecord] = _with_uow(db, lambda uow: uow.models.all())
    table = Table(title="models", title_justify="left")
    table.add_column("version", no_wrap=True)
    for column in ("status", "created", "AUC", "AP", "P@100", "ECE", "promoted by"):
        table.add_column(column)
    for r in records:
        v = r.metrics.get("validation", {})
        table.add_row(
            plain(r.version),
            r.status.value,
            r.created_at.strftime("%Y-%m-%d %H:%M"),
            _fmt(v.get("auc_roc", "")),
            _fmt(v.get("average_precision", "")),
            _fmt(v.get("precision_at_100", "")),
            _fmt(v.get("ece", "")),
            plain(r.promoted_by or ""),
        )
    out.print(table)


@app.command("show")
def show(version: VersionArg, db: DbOption = None) -> None:
    """One model: features, fingerprint, metrics, training plan, who promoted it."""
    with failing_cleanly():
        record: ModelRecord | None = _with_uow(db, lambda uow: uow.models.get(version))
        if record is None:
            raise NotFound(f"no model {version!r}")
    table = Table(title=markup("model {}", record.version), title_justify="left", show_header=False)
    table.add_row("status", record.status.value)
    table.add_row("event types", plain(", ".join(record.event_types)))
    table.add_row("fingerprint", plain(record.fingerprint))
    table.add_row("created", markup("{} by {}", record.created_at.isoformat(), record.created_by))
    if record.promoted_at:
        table.add_row(
            "promoted", markup("{} by {}", record.promoted_at.isoformat(), record.promoted_by)
        )
    for key in ("as_of", "train_from", "train_to", "valid_from", "trees"):
        if key in record.params:
            table.add_row(key.replace("_", " "), _fmt(record.params[key]))
    for key, value in record.metrics.get("validation", {}).items():
        table.add_row(markup("validation {}", key), _fmt(value))
    importance = record.notes.get("importance_gain", {})
    for name in record.features:
        table.add_row("feature", markup("{}  (gain {:,.1f})", name, importance.get(name, 0)))
    out.print(table)


def _change(
    action: Callable[..., ModelRecord], version: str, db: str | None, actor: str, verb: str
) -> None:
    with failing_cleanly():
        record: ModelRecord = _with_uow(
            db, lambda uow: action(uow, version, actor=actor, at=datetime.now(UTC))
        )
    err.print(markup("[green]{}[/] {}: now {}", verb, record.version, record.status.value))


@app.command("promote")
def promote(version: VersionArg, actor: ActorOption, db: DbOption = None) -> None:
    """Make VERSION the champion: its score joins the rules (the old champion retires)."""
    _change(registry.promote, version, db, actor, "promoted")


@app.command("shadow")
def shadow(version: VersionArg, actor: ActorOption, db: DbOption = None) -> None:
    """Score VERSION next to the champion, recorded in each trace, never acted on."""
    _change(registry.shadow, version, db, actor, "shadowing")


@app.command("retire")
def retire(version: VersionArg, actor: ActorOption, db: DbOption = None) -> None:
    """Stop scoring with VERSION."""
    _change(registry.retire, version, db, actor, "retired")
