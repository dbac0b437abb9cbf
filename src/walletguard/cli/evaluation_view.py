"""Rich tables for an evaluation (`evaluate`, `backtest`, `demo`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from walletguard.cli.common import plain
from walletguard.decisions.engine import Failure
from walletguard.events.model import WalletEvent


def _pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f} %"


def _amount(text: str) -> str:
    whole, _, cents = text.partition(".")
    return f"{int(whole):,}.{cents}"


def _met(met: bool | None) -> str:
    if met is None:
        return "[dim]n/a[/]"
    return "[green]met[/]" if met else "[bold red]missed[/]"


def count_lines(path: Path) -> int:
    """Non-blank lines in a file (for a progress bar's total)."""
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


@contextmanager
def event_progress(
    console: Console, label: str, total: int | None
) -> Iterator[tuple[Progress, TaskID]]:
    progress = Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    with progress:
        yield progress, progress.add_task(label, total=total)


def advance_on_input(progress: Progress, task: TaskID) -> Any:
    def advance(item: WalletEvent | Failure) -> None:
        progress.advance(task)

    return advance


def print_evaluation(console: Console, doc: dict[str, Any], *, rules: int = 12) -> None:
    """The summary tables of an evaluation document (`evaluation_document`)."""
    t = Table(title="targets", title_justify="left")
    for column in ("target", "goal", "measured", ""):
        t.add_column(column)
    for row in doc["targets"]:
        digits = 3 if "0.1" in row["goal"] else 2
        t.add_row(
            plain(row["name"]), plain(row["goal"]), _pct(row["measured"], digits), _met(row["met"])
        )
    console.print(t)

    t = Table(title="attacks by typology", title_justify="left")
    for column in (
        "typology",
        "campaigns",
        "stopped",
        "money tried",
        "left",
        "stopped %",
        "first stop",
    ):
        t.add_column(column, justify="left" if column == "typology" else "right")
    for row in doc["typologies"]:
        median = row["median_minutes_to_first_stop"]
        tried = row["cash_out_attempted"]
        t.add_row(
            plain(row["typology"].replace("_", " ")),
            str(row["campaigns"]),
            f"{row['stopped']} of {tried}",
            _amount(row["money_tried"]),
            _amount(row["money_left"]),
            _pct(row["share_stopped"]),
            "–" if median is None else f"{median:,.0f} min",
        )
    console.print(t)
    console.print(
        "[dim]stopped: campaigns that tried to cash out and got nothing out; first stop: "
        "median minutes from a campaign's first event to its first stopped step[/]"
    )

    f = doc["friction"]
    t = Table(title="friction on legitimate users", title_justify="left", show_header=False)
    t.add_row("legitimate users", f"{f['legitimate_users']:,}")
    t.add_row(
        "challenged or held",
        f"{f['users_challenged_or_held']:,} ({_pct(f['share_challenged_or_held'], 2)})",
    )
    t.add_row(
        "  challenged / held / blocked",
        f"{f['users_challenged']} / {f['users_held']} / {f['users_blocked']}",
    )
    t.add_row(
        "money movements blocked by risk control",
        f"{f['money_movements_blocked_by_risk']:,} of {f['money_movements']:,} "
        f"({_pct(f['share_money_movements_blocked_by_risk'], 3)})",
    )
    t.add_row(
        "  refused by the ledger (limits, funds)",
        f"{f['money_movements_refused_by_ledger']:,}",
    )
    reasons = ", ".join(f"{k} {v}" for k, v in list(f["block_reasons"].items())[:6])
    t.add_row("why blocked", plain(reasons or "–"))
    console.print(t)

    t = Table(title="detection (events in the window)", title_justify="left")
    for column in ("flagged when", "flagged", "precision", "recall", "false-positive rate"):
        t.add_column(column, justify="left" if column == "flagged when" else "right")
    for row in doc["detection"]:
        t.add_row(
            plain(row["flagged_when"]),
            f"{row['flagged']:,}",
            _pct(row["precision"]),
            _pct(row["recall"]),
            _pct(row["false_positive_rate"], 3),
        )
    console.print(t)

    op = doc["operating"]
    lat = doc["latency"]
    t = Table(title="wallet operating metrics", title_justify="left", show_header=False)
    t.add_row(
        "new-account anomaly rate",
        f"{_pct(op['new_account_anomaly_rate'])} of {op['new_accounts']:,}",
    )
    t.add_row("top-up anomaly ratio", f"{_pct(op['topup_anomaly_ratio'], 2)} of {op['topups']:,}")
    t.add_row(
        "withdrawal anomaly ratio",
        f"{_pct(op['withdrawal_anomaly_ratio'], 2)} of {op['withdrawals']:,}",
    )
    t.add_row("chargeback rate", f"{_pct(op['chargeback_rate'], 2)} ({op['chargebacks']:,})")
    t.add_row("appeal rate", f"{_pct(op['appeal_rate'])} ({op['appeals']:,} appeals)")
    hours = op["mean_hours_to_unlock"]
    t.add_row("mean time to unlock", "–" if hours is None else f"{hours:.1f} h")
    t.add_row("decision latency p50 / p99", f"{lat['p50_us']:.0f} µs / {lat['p99_us']:.0f} µs")
    console.print(t)

    t = Table(title=f"top rules by hits (of {len(doc['rules'])})", title_justify="left")
    for column in ("rule", "hits", "on attacks", "precision", "legit users"):
        t.add_column(column, justify="left" if column == "rule" else "right")
    for row in doc["rules"][:rules]:
        name = row["rule"] if row["mode"] == "active" else f"{row['rule']} (shadow)"
        t.add_row(
            plain(name),
            f"{row['hits']:,}",
            f"{row['malicious']:,}",
            _pct(row["precision"]),
            f"{row['legit_users']:,}",
        )
    console.print(t)
