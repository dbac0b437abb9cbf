"""The report's charts, drawn with matplotlib's Agg backend into PNG bytes.

Each function takes the evaluation document (`evaluate.document.evaluation_document`) or
the evaluation itself and returns one PNG. Amounts are converted to floats here, for
drawing only.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from walletguard.evaluate.service import Evaluation

INK = "#1f2933"
MUTED = "#7b8794"
GRID = "#e4e7eb"
COLOURS = {
    "allow": "#9fb3c8",
    "challenge": "#f0b429",
    "review": "#de911d",
    "block": "#c63737",
    "attacks": "#3f51b5",
    "stopped": "#2f8132",
    "partly": "#f0b429",
    "missed": "#c63737",
    "no_cash_out": "#bcccdc",
    "tried": "#486581",
    "left": "#c63737",
    "at_risk": "#d9e2ec",
}
DPI = 150


def _figure(width: float, height: float) -> tuple[Figure, Any]:
    plt.rcParams.update(
        {
            "font.family": "DejaVu Sans",
            "font.size": 9,
            "axes.edgecolor": MUTED,
            "axes.labelcolor": INK,
            "xtick.color": INK,
            "ytick.color": INK,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    fig, ax = plt.subplots(figsize=(width, height), dpi=DPI)
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    return fig, ax


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=DPI)
    plt.close(fig)
    return buffer.getvalue()


def _amount(text: str) -> float:
    return float(Decimal(text))


def _money_axis(value: float, _: object) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if abs(value) >= 1_000:
        return f"{value / 1_000:.0f}k"
    return f"{value:.0f}"


def decisions_over_time(ev: Evaluation) -> bytes:
    """Interventions per 6 hours (stacked) against the attack events in the same hours."""
    fig, ax = _figure(7.5, 3.0)
    if not ev.timeline:
        ax.text(0.5, 0.5, "no events in the window", ha="center", transform=ax.transAxes)
        return _png(fig)
    starts = [start for start, _ in ev.timeline]
    bottom = [0] * len(starts)
    width = 0.22
    for verdict in ("challenge", "review", "block"):
        values = [counts.get(verdict, 0) for _, counts in ev.timeline]
        ax.bar(
            starts,
            values,
            width=width,
            bottom=bottom,
            color=COLOURS[verdict],
            label=verdict,
            align="edge",
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    attacks = [counts.get("malicious", 0) for _, counts in ev.timeline]
    ax.plot(
        list(starts),
        attacks,
        color=COLOURS["attacks"],
        linewidth=1.4,
        label="attack events",
        drawstyle="steps-post",
    )
    allowed = sum(counts.get("allow", 0) for _, counts in ev.timeline)
    ax.set_ylabel("decisions per 6 h")
    ax.set_title(
        f"Interventions over the week ({allowed:,} events allowed, not shown)",
        loc="left",
        fontsize=10,
        color=INK,
    )
    ax.legend(frameon=False, ncol=4, fontsize=8, loc="upper left")
    fig.autofmt_xdate()
    return _png(fig)


def typologies_caught(doc: dict[str, Any]) -> bytes:
    """Campaigns per typology by outcome."""
    rows = doc["typologies"]
    fig, ax = _figure(7.5, 0.42 * max(4, len(rows)) + 0.8)
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    ax.grid(axis="y", visible=False)
    names = [r["typology"].replace("_", " ") for r in rows]
    left = [0] * len(rows)
    parts = (
        ("stopped", "stopped", "nothing left"),
        ("partly_stopped", "partly", "some money left"),
        ("missed", "missed", "all money left"),
        ("no_cash_out", "no_cash_out", "no cash-out tried"),
    )
    for key, colour, label in parts:
        values = [r[key] for r in rows]
        ax.barh(names, values, left=left, color=COLOURS[colour], label=label, height=0.6)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("campaigns")
    ax.set_title(
        "Attack campaigns by typology and outcome", loc="left", fontsize=10, color=INK, pad=22
    )
    ax.legend(frameon=False, ncol=4, fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.0))
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    return _png(fig)


def money_at_risk(doc: dict[str, Any]) -> bytes:
    """Money the attackers tried to take out against money that left, per typology."""
    rows = doc["typologies"]
    fig, ax = _figure(7.5, 3.2)
    positions = list(range(len(rows)))
    tried = [_amount(r["money_tried"]) for r in rows]
    left = [_amount(r["money_left"]) for r in rows]
    ax.bar([p - 0.2 for p in positions], tried, width=0.4, color=COLOURS["tried"], label="tried")
    ax.bar([p + 0.2 for p in positions], left, width=0.4, color=COLOURS["left"], label="left")
    for p, t, lost in zip(positions, tried, left, strict=True):
        if t > 0:
            ax.annotate(
                f"{(1 - lost / t) * 100:.0f}%",
                (p, t),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                fontsize=7,
                color=INK,
            )
    ax.set_xticks(positions, [r["typology"].replace("_", "\n") for r in rows], fontsize=7)
    ax.yaxis.set_major_formatter(FuncFormatter(_money_axis))
    ax.set_ylabel("amount (CNY)")
    ax.set_title(
        "Money at risk: tried to take out vs actually left (share stopped above)",
        loc="left",
        fontsize=10,
        color=INK,
    )
    ax.legend(frameon=False, fontsize=8)
    return _png(fig)


def top_rules(doc: dict[str, Any], *, minimum_hits: int = 5, limit: int = 15) -> bytes:
    """Active rules with enough hits, by precision (how often a hit was an attack)."""
    rows = [r for r in doc["rules"] if r["mode"] == "active" and r["hits"] >= minimum_hits]
    rows.sort(key=lambda r: (-r["precision"], -r["hits"]))
    rows = rows[:limit]
    fig, ax = _figure(7.5, 0.3 * max(4, len(rows)) + 0.9)
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    ax.grid(axis="y", visible=False)
    names = [r["rule"] for r in rows]
    precision = [r["precision"] * 100 for r in rows]
    ax.barh(names, precision, color=COLOURS["tried"], height=0.6)
    for i, r in enumerate(rows):
        ax.text(
            min(precision[i] + 1, 101),
            i,
            f"{r['malicious']:,}/{r['hits']:,}",
            va="center",
            fontsize=7,
            color=MUTED,
        )
    ax.set_xlim(0, 112)
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlabel("precision: % of hits on attack events (hits on attacks / all hits)")
    ax.set_title(
        f"Top rules by precision (at least {minimum_hits} hits)",
        loc="left",
        fontsize=10,
        color=INK,
    )
    return _png(fig)


def latency_histogram(ev: Evaluation) -> bytes:
    """The engine's own time per event (durable writes excluded), log scale."""
    fig, ax = _figure(7.5, 2.8)
    lat = ev.latency
    if lat.samples == 0:
        ax.text(0.5, 0.5, "no timing", ha="center", transform=ax.transAxes)
        return _png(fig)
    edges = [edge for edge, _ in lat.histogram]
    counts = [n for _, n in lat.histogram]
    lefts = [edges[0] / 2**0.5, *edges[:-1]]
    widths = [right - left for left, right in zip(lefts, edges, strict=True)]
    ax.bar(lefts, counts, width=widths, align="edge", color=COLOURS["tried"], edgecolor="white")
    ax.set_xscale("log")
    ax.set_yscale("log")
    for value, label, style in ((lat.p50_us, "p50", "--"), (lat.p99_us, "p99", ":")):
        ax.axvline(
            value,
            color=COLOURS["block"],
            linewidth=1.2,
            linestyle=style,
            label=f"{label} {value:,.0f} µs",
        )
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    ax.set_xlabel("µs per event (engine)")
    ax.set_ylabel("events")
    ax.set_title("Decision latency", loc="left", fontsize=10, color=INK)
    return _png(fig)


def wallet_metrics(doc: dict[str, Any]) -> bytes:
    """The operating ratios side by side."""
    op = doc["operating"]
    f = doc["friction"]
    items = [
        ("new-account\nanomaly rate", op["new_account_anomaly_rate"]),
        ("top-up\nanomaly ratio", op["topup_anomaly_ratio"]),
        ("withdrawal\nanomaly ratio", op["withdrawal_anomaly_ratio"]),
        ("chargeback\nrate", op["chargeback_rate"]),
        ("appeal\nrate", op["appeal_rate"]),
        ("legit users\nchallenged/held", f["share_challenged_or_held"]),
    ]
    fig, ax = _figure(7.5, 2.8)
    values = [(v or 0.0) * 100 for _, v in items]
    ax.bar(range(len(items)), values, color=COLOURS["tried"], width=0.6)
    for i, v in enumerate(values):
        ax.annotate(
            f"{v:.2f}%", (i, v), xytext=(0, 3), textcoords="offset points", ha="center", fontsize=7
        )
    ax.set_xticks(range(len(items)), [name for name, _ in items], fontsize=7)
    ax.set_ylabel("%")
    hours = op["mean_hours_to_unlock"]
    unlock = "–" if hours is None else f"{hours:.1f} h"
    ax.set_title(
        f"Wallet operating metrics (mean time to unlock: {unlock})",
        loc="left",
        fontsize=10,
        color=INK,
    )
    return _png(fig)


def all_charts(ev: Evaluation, doc: dict[str, Any]) -> dict[str, bytes]:
    """Every chart of the report by file name."""
    return {
        "decisions_over_time.png": decisions_over_time(ev),
        "typologies.png": typologies_caught(doc),
        "money.png": money_at_risk(doc),
        "rules.png": top_rules(doc),
        "latency.png": latency_histogram(ev),
        "wallet_metrics.png": wallet_metrics(doc),
    }
