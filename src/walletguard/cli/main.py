"""The `walletguard` command."""

from __future__ import annotations

import typer

from walletguard.cli import audit_cmd, cases_cmd, evidence_cmd, notify_cmd, rules_cmd
from walletguard.cli.replay_cmd import replay_command

app = typer.Typer(
    name="walletguard",
    help="Real-time risk control for digital wallets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("replay")(replay_command)
app.add_typer(rules_cmd.app, name="rules")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(evidence_cmd.app, name="evidence")
app.add_typer(cases_cmd.app, name="cases")
app.add_typer(notify_cmd.app, name="notify")


if __name__ == "__main__":
    app()
