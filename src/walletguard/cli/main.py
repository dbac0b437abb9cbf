"""The `walletguard` command."""

from __future__ import annotations

import typer

from walletguard.cli import (
    account_cmd,
    audit_cmd,
    bench_cmd,
    cases_cmd,
    evidence_cmd,
    graph_cmd,
    keys_cmd,
    ledger_cmd,
    models_cmd,
    notify_cmd,
    rules_cmd,
)
from walletguard.cli.backtest_cmd import backtest_command
from walletguard.cli.demo_cmd import demo_command
from walletguard.cli.evaluate_cmd import evaluate_command
from walletguard.cli.replay_cmd import replay_command
from walletguard.cli.serve_cmd import serve_command
from walletguard.cli.simulate_cmd import simulate_command
from walletguard.cli.train_cmd import train_command

app = typer.Typer(
    name="walletguard",
    help="Real-time risk control for digital wallets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("replay")(replay_command)
app.command("simulate")(simulate_command)
app.command("evaluate")(evaluate_command)
app.command("backtest")(backtest_command)
app.command("demo")(demo_command)
app.add_typer(rules_cmd.app, name="rules")
app.command("serve")(serve_command)
app.add_typer(keys_cmd.app, name="keys")
app.add_typer(account_cmd.app, name="account")
app.command("reconcile")(ledger_cmd.reconcile_command)
app.add_typer(ledger_cmd.app, name="ledger")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(evidence_cmd.app, name="evidence")
app.add_typer(cases_cmd.app, name="cases")
app.add_typer(notify_cmd.app, name="notify")
app.add_typer(bench_cmd.app, name="bench")
app.command("train")(train_command)
app.add_typer(models_cmd.app, name="models")
app.add_typer(graph_cmd.app, name="graph")


if __name__ == "__main__":
    app()
