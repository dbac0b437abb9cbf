"""`walletguard audit`: verify the log, sign checkpoints, show the public key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from walletguard.audit.checkpoint import key_id, public_pem
from walletguard.audit.verify import verify_log
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
from walletguard.composition import audit_reader, create_checkpoint, key_store, trusted_audit_keys

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)

PublicKeyOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--public-key",
        help="Trusted Ed25519 public key (PEM); repeat for rotated keys. "
        "Default: the installation's own audit key.",
        exists=True,
        dir_okay=False,
    ),
]


@app.command("verify")
def verify(db: DbOption = None, public_key: PublicKeyOption = None) -> None:
    """Walk every chain, check every signed checkpoint and every stored decision against
    its seal; name the first record that was edited, deleted, inserted or reordered, and
    the decisions that were. Exit status 1 on any break."""
    with failing_cleanly():
        reader, database = audit_reader(db)
        trusted = trusted_audit_keys(public_key)
        try:
            progress = Progress(
                TextColumn("[bold]verifying"),
                BarColumn(),
                TextColumn("{task.completed:,.0f} records"),
                console=err,
                transient=True,
            )
            with progress:
                task = progress.add_task("verify", total=None)
                report = verify_log(reader, trusted, on_record=lambda n: progress.advance(task, n))
        finally:
            database.dispose()
    table = Table(title="audit chains", title_justify="left")
    for column in ("chain", "records", "head", "status"):
        table.add_column(column)
    for chain in report.chains:
        status = (
            markup("[green]ok[/]") if chain.broken is None else plain(chain.broken.problem, "red")
        )
        table.add_row(str(chain.chain), f"{chain.records:,}", str(chain.head.seq), status)
    out.print(table)
    for b in report.breaks:
        err.print(markup("[bold red]broken:[/] {}", b))
    for problem in report.checkpoint_problems:
        err.print(markup("[bold red]checkpoint:[/] {}", problem))
    for problem in report.decision_problems:
        err.print(markup("[bold red]decisions:[/] {}", problem))
    if report.unchecked_signatures and report.checkpoints:
        err.print(
            f"[bold red]error:[/] {report.checkpoints} checkpoint(s) but no trusted key to check "
            "them (pass --public-key)"
        )
        raise typer.Exit(1)
    if not report.ok:
        raise typer.Exit(1)
    err.print(
        f"[green]ok[/]: {report.records:,} records in {len(report.chains)} chains, "
        f"{report.checkpoints} signed checkpoint(s) verified, {report.decisions:,} decisions "
        f"match their {report.decision_seals:,} seal(s)"
    )
    if report.decisions_before_seals:
        err.print(
            f"note: {report.decisions_before_seals:,} decisions were stored before this "
            "version sealed decisions: no seal covers them"
        )


@app.command("checkpoint")
def checkpoint(db: DbOption = None, *, actor: ActorOption) -> None:
    """Sign the current head of every chain with the installation's audit key (run it
    regularly, e.g. every few minutes from cron). The signing is audited as the actor's."""
    with failing_cleanly():
        signed, created = create_checkpoint(db, actor=actor, at=datetime.now(UTC))
    for path in created:
        err.print(
            markup(
                "created the audit signing key at [bold]{}[/] (keep it secret, back it up)", path
            )
        )
    records = sum(h.seq for h in signed.heads)
    out.print(
        markup(
            "checkpoint {}: {} chains, {:,} records, signed by key {}",
            signed.id,
            len(signed.heads),
            records,
            signed.key_id,
        )
    )


@app.command("public-key")
def public_key_command(
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--out", help="Write the PEM here instead of stdout.", callback=writable_file
        ),
    ] = None,
) -> None:
    """The audit key's public half (PEM), for verifying checkpoints and evidence elsewhere."""
    with failing_cleanly():
        store = key_store()
        public = store.signing_key("audit").public_key()
    for path in store.created:
        err.print(markup("created the audit signing key at [bold]{}[/]", path))
    pem = public_pem(public)
    if output is None:
        out.print(plain(pem), end="")
    else:
        output.write_text(pem)
    err.print(markup("key id {}", key_id(public)))
