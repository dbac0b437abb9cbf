"""`walletguard train`: a model from labelled history, registered as a candidate."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from walletguard.cli.common import (
    ActorOption,
    NewDbOption,
    err,
    failing_cleanly,
    finite,
    markup,
    out,
)
from walletguard.cli.models_cmd import metrics_table
from walletguard.composition import train_on_history, unit_of_work
from walletguard.decisions.catalogue import RuleCatalogue
from walletguard.events.decode import EventDecoder
from walletguard.events.model import EventType
from walletguard.events.timeparse import TimestampError, parse_rfc3339
from walletguard.kernel.errors import ConfigurationError, FieldProblem, InvalidInput
from walletguard.scoring import registry
from walletguard.scoring.defaults import DEFAULT_EVENT_TYPES, DEFAULT_FEATURES, read_feature_list
from walletguard.scoring.model import ModelStatus
from walletguard.scoring.training import DAY, TrainingPlan
from walletguard.scoring.vectors import Vectorizer
from walletguard.storage.database import open_database


def _time(text: str | None, option: str) -> float | None:
    if text is None:
        return None
    try:
        return parse_rfc3339(text if "T" in text else text + "T00:00:00Z").timestamp()
    except TimestampError:
        raise ConfigurationError(f"{option}: {text!r} is not an RFC 3339 time or a date") from None


def train_command(
    actor: ActorOption,
    db: NewDbOption = None,
    events: Annotated[
        Path | None,
        typer.Option(help="Train on these events (JSONL) instead of the database's history."),
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(help="A labels file (JSONL, one malicious event_id a line)."),
    ] = None,
    labels_delay_days: Annotated[
        float,
        typer.Option(
            help="When a labels-file line without known_at became known.", min=0, callback=finite
        ),
    ] = 7.0,
    as_of: Annotated[
        str | None, typer.Option(help="Train as of this time (default: the newest event).")
    ] = None,
    maturity_days: Annotated[
        float,
        typer.Option(
            help="Leave out events newer than as-of minus this many days.", min=0, callback=finite
        ),
    ] = 7.0,
    train_from: Annotated[str | None, typer.Option("--from", help="Oldest event to use.")] = None,
    train_to: Annotated[str | None, typer.Option("--to", help="Use events before this.")] = None,
    features: Annotated[
        Path | None, typer.Option(help="Feature names, one a line (default: the built-in list).")
    ] = None,
    types: Annotated[
        str, typer.Option(help="Event types the model scores, comma-separated.")
    ] = ",".join(DEFAULT_EVENT_TYPES),
    ruleset: Annotated[
        Path | None, typer.Option(help="Ruleset the history is replayed with.")
    ] = None,
    policy: Annotated[
        Path | None, typer.Option(help="Policy the history is replayed with.")
    ] = None,
    shadow: Annotated[
        bool, typer.Option("--shadow", help="Put the new model in shadow at once.")
    ] = False,
) -> None:
    """Train a LightGBM model on the engine's own point-in-time features.

    The history (the database's stored events, or --events) is replayed through a scratch
    engine that records each event's feature vector; labels come from chargebacks and
    fraud reports in the history, case outcomes in the database and --labels, each only
    from when it was known. The split is by time. The model is registered as a candidate
    in the database's registry (`walletguard models promote VERSION` makes it champion).
    """
    with failing_cleanly():
        names = read_feature_list(features) if features else DEFAULT_FEATURES
        kinds = tuple(t.strip() for t in types.split(",") if t.strip())
        unknown = sorted(set(kinds) - {t.value for t in EventType})
        if unknown or not kinds:
            known = ", ".join(t.value for t in EventType)
            raise InvalidInput(
                [
                    FieldProblem(
                        "--types", f"{', '.join(unknown) or 'none'}: event types are {known}"
                    )
                ]
            )
        catalogue = RuleCatalogue()
        vectorizer = Vectorizer(names, catalogue)
        plan = TrainingPlan(
            as_of=_time(as_of, "--as-of"),
            maturity_seconds=maturity_days * DAY,
            train_from=_time(train_from, "--from"),
            train_to=_time(train_to, "--to"),
        )
        start, end = plan.train_from, plan.train_to
        if start is not None and end is not None and start >= end:  # before a long replay
            raise InvalidInput([FieldProblem("--from", f"{train_from} is not before --to")])
        database = open_database(db)
        try:
            progress = Progress(
                TextColumn("[bold]replaying history"),
                BarColumn(),
                MofNCompleteColumn(),
                console=err,
                transient=True,
            )
            with progress:
                task = progress.add_task("events", total=None)
                trained, data = train_on_history(
                    database,
                    vectorizer,
                    kinds,
                    plan,
                    events=_history(database, events) if events is not None else None,
                    labels_file=labels,
                    labels_delay_seconds=labels_delay_days * DAY,
                    ruleset_path=ruleset,
                    policy_path=policy,
                    actor=actor,
                    progress=lambda n: progress.advance(task, n),
                )
            now = datetime.now(UTC)
            with unit_of_work(database) as uow:
                new = registry.register(uow, trained.record, actor=actor, at=now)
                if shadow:
                    registry.shadow(uow, trained.record.version, actor=actor, at=now)
                stored = uow.models.get(trained.record.version)
                assert stored is not None
        finally:
            database.dispose()
    record = trained.record
    out.print(metrics_table(record))
    state = stored.status
    promote = (
        markup(" Promote with: walletguard models promote {}", record.version)
        if state in (ModelStatus.CANDIDATE, ModelStatus.SHADOW)
        else ""
    )
    err.print(
        markup(
            "[green]{}[/] {}, {} ({:,} events of its types recorded, {:,} trained on).",
            "registered" if new else "already registered",
            record.version,
            state.value,
            len(data),
            record.metrics["training_rows"],
        )
        + promote
    )


def _history(database: Any, events: Path) -> Iterator[Any]:
    decoder = EventDecoder()
    try:
        handle = events.open("rb")
    except OSError as exc:
        raise ConfigurationError(f"{events}: cannot read: {exc.strerror}") from None

    def read() -> Iterator[Any]:
        with handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        yield decoder.decode(line)
                    except Exception as exc:
                        message = getattr(exc, "message", str(exc))
                        raise ConfigurationError(f"{events}: line {number}: {message}") from None

    return read()
