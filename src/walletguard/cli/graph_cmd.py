"""`walletguard graph`: batch mule-ring detection, and ring evidence."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from walletguard.cli.common import (
    ActorOption,
    DbOption,
    err,
    failing_cleanly,
    finite,
    markup,
    out,
    plain,
    writable_file,
)
from walletguard.composition import unit_of_work
from walletguard.decisions.settings import EngineSettings
from walletguard.graph.rings import detect_rings
from walletguard.graph.service import open_ring_cases
from walletguard.kernel.errors import NotFound
from walletguard.kernel.money import format_amount, from_units
from walletguard.storage.database import open_database
from walletguard.storage.history import decided_events, latest_event_time

app = typer.Typer(help="The money-flow and shared-device graph.", no_args_is_help=True)


@app.command("scan")
def scan(
    actor: ActorOption,
    db: DbOption = None,
    days: Annotated[
        float,
        typer.Option(
            help="Look at the events of the last DAYS (event time).",
            min=0.01,
            max=3660,
            callback=finite,
        ),
    ] = 30.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the new rings as JSON.")] = False,
) -> None:
    """Find mule rings in the stored events of the last DAYS; each new ring becomes a
    case (members, the money that flowed, an SVG picture of the ring)."""
    with failing_cleanly():
        database = open_database(db)
        try:
            latest = latest_event_time(database)
            if latest is None:
                err.print("no events stored: nothing to scan")
                return
            start = latest - timedelta(days=days)
            # attempts count, refused ones too: a ring's blocked transfers still show
            # who works with whom
            events = ((event, True) for event, _ in decided_events(database, since=start))
            rings = detect_rings(events)
            with unit_of_work(database) as uow:
                opened = open_ring_cases(
                    uow,
                    rings,
                    window=(start, latest),
                    at=datetime.now(UTC),
                    actor=actor,
                    currency=EngineSettings().default_currency,
                )
        finally:
            database.dispose()
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "case_id": r.case_id,
                        "ring_id": r.ring_id,
                        "members": list(r.members),
                        "patterns": list(r.patterns),
                        "money": format_amount(from_units(r.money_units)),
                    }
                    for r in opened
                ]
            )
        )
        return
    table = Table(title=f"mule rings, {start:%Y-%m-%d} … {latest:%Y-%m-%d}", title_justify="left")
    table.add_column("case", no_wrap=True)
    for column in ("members", "patterns", "money moved"):
        table.add_column(column)
    for r in opened:
        table.add_row(
            plain(r.case_id),
            plain(", ".join(r.members)),
            plain(", ".join(r.patterns)),
            format_amount(from_units(r.money_units)),
        )
    out.print(table)
    err.print(f"{len(rings)} rings found, {len(opened)} new (cases opened)")


@app.command("picture")
def picture(
    case_id: Annotated[str, typer.Argument(help="A ring's case id (see `graph scan`).")],
    to: Annotated[
        Path, typer.Option("--out", "-o", help="Where to write the SVG.", callback=writable_file)
    ],
    db: DbOption = None,
) -> None:
    """Write the SVG picture stored with a ring's case."""
    with failing_cleanly():
        database = open_database(db)
        try:
            with unit_of_work(database) as uow:
                ring = uow.rings.for_case(case_id)
        finally:
            database.dispose()
        if ring is None:
            raise NotFound(f"no ring case {case_id!r}")
    to.write_text(ring.svg, encoding="utf-8")
    err.print(markup("wrote {}", to))
