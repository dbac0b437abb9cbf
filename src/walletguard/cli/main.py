"""The `walletguard` command."""

from __future__ import annotations

import typer

from walletguard.cli import ledger_cmd, rules_cmd
from walletguard.cli.replay_cmd import replay_command

app = typer.Typer(
    name="walletguard",
    help="Real-time risk control for digital wallets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("replay")(replay_command)
app.add_typer(rules_cmd.app, name="rules")
app.command("reconcile")(ledger_cmd.reconcile_command)
app.add_typer(ledger_cmd.app, name="ledger")


if __name__ == "__main__":
    app()
