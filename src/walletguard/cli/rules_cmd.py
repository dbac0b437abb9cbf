"""`walletguard rules`: check a ruleset, list the names rules can use."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from walletguard.cli.common import err, failing_cleanly, markup, out, plain
from walletguard.composition import load_rules
from walletguard.decisions.catalogue import RuleCatalogue
from walletguard.features.names import DISTINCT_OF, WINDOWS, Entity
from walletguard.features.subjects import SUBJECTS

app = typer.Typer(help="Rulesets: check them, see what they can use.", no_args_is_help=True)


@app.command("check")
def check(path: Annotated[Path, typer.Argument(help="Ruleset YAML file.")]) -> None:
    """Parse, type-check and compile a ruleset; print its version and rules."""
    with failing_cleanly():
        ruleset = load_rules(path)
    table = Table(
        title=markup("{} — version {}", ruleset.name, ruleset.version), title_justify="left"
    )
    for column in ("rule", "code", "on", "score", "floor", "mode"):
        table.add_column(column)
    for rule in ruleset.rules:
        on = (
            ", ".join(sorted(t.value for t in rule.on))
            if len(rule.on) < 6
            else f"{len(rule.on)} types"
        )
        table.add_row(
            plain(rule.id),
            plain(rule.code),
            plain(on),
            str(rule.score),
            plain(rule.floor or ""),
            rule.mode.value,
        )
    out.print(table)
    features = len(ruleset.window_features())
    err.print(f"[green]ok[/]: {len(ruleset.rules)} rules, {features} windowed features")


@app.command("names")
def names() -> None:
    """The names a rule condition can use."""
    table = Table(title="names for rule conditions", title_justify="left")
    table.add_column("name")
    table.add_column("type")
    table.add_column("meaning")
    for spec in RuleCatalogue().static_names():
        table.add_row(spec.name, spec.type.value, spec.description)
    out.print(table)
    out.print(
        "\n[bold]windowed features[/]: {subject}_{measure}_by_{entity}_{window}\n"
        f"  subjects: {', '.join(SUBJECTS)}\n"
        f"  measures: count, amount_sum, <x>_distinct with x in {', '.join(DISTINCT_OF)}\n"
        f"  entities: {', '.join(e.value for e in Entity)}\n"
        f"  windows:  {', '.join(WINDOWS)}\n"
        "  e.g. withdrawal_amount_sum_by_account_24h, login_failed_account_distinct_by_ip_1h"
    )
