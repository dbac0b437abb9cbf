"""The `walletguard` command."""

from __future__ import annotations

import typer

from walletguard.cli import bench_cmd, graph_cmd, models_cmd, rules_cmd
from walletguard.cli.replay_cmd import replay_command
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
app.add_typer(rules_cmd.app, name="rules")
app.add_typer(bench_cmd.app, name="bench")
app.command("train")(train_command)
app.add_typer(models_cmd.app, name="models")
app.add_typer(graph_cmd.app, name="graph")


if __name__ == "__main__":
    app()
