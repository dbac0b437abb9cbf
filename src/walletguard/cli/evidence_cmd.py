"""`walletguard evidence`: export a signed evidence package, verify one offline."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from walletguard.cli.audit_cmd import PublicKeyOption
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
from walletguard.composition import export_evidence, trusted_audit_keys
from walletguard.evidence.package import verify_package

app = typer.Typer(help="Evidence packages for auditors and investigators.", no_args_is_help=True)


@app.command("export")
def export(
    output: Annotated[
        Path, typer.Option("-o", "--out", help="The zip file to write.", callback=writable_file)
    ],
    account: Annotated[str | None, typer.Option("--account", help="An account's evidence.")] = None,
    case: Annotated[str | None, typer.Option("--case", help="One case's evidence.")] = None,
    db: DbOption = None,
    *,
    actor: ActorOption,
) -> None:
    """Write the timeline, the audit records covering it and a signed manifest to a zip."""
    if (account is None) == (case is None):
        err.print("[bold red]error:[/] name exactly one of --account and --case")
        raise typer.Exit(2)
    with failing_cleanly():
        result = export_evidence(
            db, account_id=account, case_id=case, actor=actor, at=datetime.now(UTC)
        )
    output.write_bytes(result.data)
    for path in result.created_keys:
        err.print(markup("created the audit signing key at [bold]{}[/]", path))
    table = Table(
        title=plain(f"evidence for {result.scope.kind} {result.scope.id}"), title_justify="left"
    )
    table.add_column("section")
    table.add_column("rows", justify="right")
    for name, count in result.counts.items():
        table.add_row(name, f"{count:,}")
    table.add_row("audit records", f"{result.records:,}")
    out.print(table)
    size = len(result.data)
    err.print(
        markup("wrote [bold]{}[/] ({:,} bytes), signed by key {}", output, size, result.key_id)
    )


@app.command("verify")
def verify(
    package: Annotated[Path, typer.Argument(help="The evidence zip.", exists=True, dir_okay=False)],
    public_key: PublicKeyOption = None,
) -> None:
    """Check a package offline: signature, every file's hash, every audit record.
    Exit status 1 if anything does not match."""
    with failing_cleanly():
        trusted = trusted_audit_keys(public_key)
    report = verify_package(package.read_bytes(), trusted)
    for problem in report.problems:
        err.print(markup("[bold red]mismatch:[/] {}", problem))
    if not report.ok:
        raise typer.Exit(1)
    scope = report.scope
    out.print(
        markup(
            "[green]ok[/]: {} {}: {} files and {} audit records match the manifest signed by "
            "key {}",
            scope.get("kind"),
            scope.get("id"),
            report.files,
            report.audit_records,
            report.key_id,
        )
    )
