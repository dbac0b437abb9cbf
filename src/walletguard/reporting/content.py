"""What the risk report says, as a small document model both renderers (HTML, PDF) draw.

The first page is for a head of risk: headline figures, each target with its measured
value, and a plain note for every target that was missed. The pages after it carry the
detail, each table next to the chart it explains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from walletguard.evaluate.friction import refused_by_ledger
from walletguard.evaluate.service import Evaluation
from walletguard.reporting.notes import target_notes


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str
    tone: str = ""
    """"" (plain), "note" (muted), "warn" (a missed target)."""


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    detail: str = ""
    tone: str = ""
    """"good", "bad" or ""."""


@dataclass(frozen=True)
class Cards:
    cards: list[Card]


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    numeric: set[int] = field(default_factory=set)
    """Columns aligned right."""
    tones: dict[tuple[int, int], str] = field(default_factory=dict)
    """(row, column) → "good" / "bad", for met and missed targets."""


@dataclass(frozen=True)
class Image:
    name: str
    caption: str = ""


@dataclass(frozen=True)
class PageBreak:
    pass


Block = Heading | Paragraph | Cards | Table | Image | PageBreak


def pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f} %"


def amount(text: str) -> str:
    whole, _, cents = text.partition(".")
    return f"{int(whole):,}.{cents[:2] or '00'}"


def build_content(
    ev: Evaluation, doc: dict[str, Any], *, title: str, context: dict[str, Any] | None = None
) -> tuple[str, list[Block]]:
    """The report's title and blocks."""
    context = context or {}
    window = doc["window"]
    period = f"{window['start'][:10]} to {window['end'][:10]}" if window else "the replayed events"
    blocks: list[Block] = [Heading(title, 1)]
    facts = [f"Simulated week {period}" if window else f"Events: {period}"]
    if context.get("users"):
        facts.append(f"{context['users']:,} customers")
    facts.append(f"{doc['events']:,} events")
    facts.append(f"{sum(t['campaigns'] for t in doc['typologies'])} attack campaigns")
    facts.append(f"ruleset {doc['ruleset_version'][:12]}")
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    blocks.append(Paragraph(" · ".join(facts) + f" · generated {generated}", "note"))
    blocks += _headline(doc)
    blocks.append(Heading("The week in brief", 3))
    blocks += [Paragraph(text) for text in _brief(doc)]
    blocks += _targets(doc)
    notes = target_notes(ev, doc)
    if notes:
        blocks.append(Heading("Where a target was missed", 3))
        blocks += [Paragraph(n, "warn") for n in notes]
    else:
        blocks.append(Paragraph("Every target was met on this run.", "note"))
    if context.get("command"):
        blocks.append(Paragraph(f"Reproduce: {context['command']}", "note"))
    blocks.append(PageBreak())
    blocks += _attacks(doc)
    blocks += _friction(doc)
    blocks += _detection(doc)
    blocks += _rules(doc)
    blocks += _operations(doc)
    blocks += _method()
    return title, blocks


def _headline(doc: dict[str, Any]) -> list[Block]:
    typ = doc["typologies"]
    campaigns = sum(t["cash_out_attempted"] for t in typ)
    stopped = sum(t["stopped"] for t in typ)
    tried = sum((Decimal(t["money_tried"]) for t in typ), Decimal(0))
    left = sum((Decimal(t["money_left"]) for t in typ), Decimal(0))
    f = doc["friction"]
    lat = doc["latency"]
    share = None if tried == 0 else float(1 - left / tried)
    return [
        Cards(
            [
                Card(
                    "attacks stopped",
                    f"{stopped} of {campaigns}",
                    "campaigns that tried to cash out and got nothing out",
                ),
                Card(
                    "money protected",
                    pct(share),
                    f"{tried - left:,.0f} of {tried:,.0f} CNY the attackers tried to take out",
                    "good" if share is not None and share >= 0.95 else "bad",
                ),
                Card(
                    "legit users challenged or held",
                    pct(f["share_challenged_or_held"], 2),
                    f"{f['users_challenged_or_held']:,} of {f['legitimate_users']:,} customers",
                    "good" if f["share_challenged_or_held"] <= 0.01 else "bad",
                ),
                Card(
                    "legit money movements blocked",
                    pct(f["share_money_movements_blocked_by_risk"], 3),
                    f"{f['money_movements_blocked_by_risk']:,} of {f['money_movements']:,} "
                    "by risk control",
                    "good" if f["share_money_movements_blocked_by_risk"] <= 0.001 else "bad",
                ),
                Card(
                    "decision latency",
                    f"{lat['p50_us']:,.0f} µs",
                    f"p50; p99 {lat['p99_us']:,.0f} µs (engine, per event)",
                ),
                Card(
                    "throughput",
                    f"{doc['events_per_second']:,.0f} /s",
                    f"events decided with every effect, durable (CPU {doc['cpu_seconds']:,.0f} s)",
                ),
            ]
        )
    ]


def _brief(doc: dict[str, Any]) -> list[str]:
    typ = doc["typologies"]
    campaigns = sum(t["campaigns"] for t in typ)
    tried_campaigns = sum(t["cash_out_attempted"] for t in typ)
    stopped = sum(t["stopped"] for t in typ)
    tried = sum((Decimal(t["money_tried"]) for t in typ), Decimal(0))
    left = sum((Decimal(t["money_left"]) for t in typ), Decimal(0))
    users = doc["friction"]["legitimate_users"]
    lines = [
        f"{campaigns} attack campaigns of {sum(1 for t in typ if t['campaigns'])} typologies "
        f"ran among {users:,} customers. {tried_campaigns} of them tried to cash out and "
        f"{stopped} got nothing out. The attackers tried to take out {tried:,.0f} CNY; "
        f"{left:,.0f} CNY left the wallet."
    ]
    timed = [
        (t["median_minutes_to_first_stop"], t["typology"].replace("_", " "))
        for t in typ
        if t["median_minutes_to_first_stop"] is not None
    ]
    if timed:
        fastest, slowest = min(timed), max(timed)
        lines.append(
            f"The first intervention in a campaign came a median {_minutes(fastest[0])} after "
            f"it began for {fastest[1]} and {_minutes(slowest[0])} for {slowest[1]} — the "
            "early steps of slow campaigns (opening wallets, failed password resets) look "
            "like ordinary life; they are stopped where money moves."
        )
    f = doc["friction"]
    op = doc["operating"]
    risk = [c for c in f["block_reasons"] if not refused_by_ledger(c)][:2]
    ledger = [c for c in f["block_reasons"] if refused_by_ledger(c)][:2]
    lines.append(
        f"{f['users_challenged_or_held']:,} legitimate customers "
        f"({pct(f['share_challenged_or_held'], 2)}) were challenged or held. Risk control "
        f"blocked {f['money_movements_blocked_by_risk']:,} of their "
        f"{f['money_movements']:,} money movements "
        f"({pct(f['share_money_movements_blocked_by_risk'], 3)})"
        + (f", most often {' and '.join(risk)}" if risk else "")
        + f"; the wallet's limits and balances refused {f['money_movements_refused_by_ledger']:,} "
        "more" + (f" ({', '.join(ledger)})" if ledger else "") + "."
    )
    hours = op["mean_hours_to_unlock"]
    if op["appeals"]:
        lines.append(
            f"The support desk took {op['appeals']:,} appeals from customers whose account "
            f"was frozen or restricted; accounts were unlocked after "
            f"{'–' if hours is None else f'{hours:.1f} h'} on average."
        )
    lines.append(
        "Caveat: a simulated wallet. Its fraudsters follow scripts and do not react to "
        "decisions; every figure comes from replaying the week through the production engine."
    )
    return lines


def _minutes(value: float) -> str:
    if value >= 120:
        return f"{value / 60:,.1f} hours"
    return "1 minute" if round(value) == 1 else f"{value:,.0f} minutes"


def _targets(doc: dict[str, Any]) -> list[Block]:
    rows = []
    tones: dict[tuple[int, int], str] = {}
    for i, t in enumerate(doc["targets"]):
        met = t["met"]
        verdict = "n/a (nothing tried)" if met is None else ("met" if met else "MISSED")
        digits = 3 if "0.1" in t["goal"] else 2
        rows.append([t["name"], t["goal"], pct(t["measured"], digits), verdict])
        if met is not None:
            tones[(i, 3)] = "good" if met else "bad"
    return [
        Heading("Targets (issue 7)", 3),
        Table(["target", "goal", "measured", ""], rows, numeric={2}, tones=tones),
    ]


def _attacks(doc: dict[str, Any]) -> list[Block]:
    rows = []
    for t in doc["typologies"]:
        median = t["median_minutes_to_first_stop"]
        p90 = t["p90_minutes_to_first_stop"]
        rows.append(
            [
                t["typology"].replace("_", " "),
                str(t["campaigns"]),
                f"{t['stopped']} / {t['partly_stopped']} / {t['missed']} / {t['no_cash_out']}",
                amount(t["money_at_risk"]),
                amount(t["money_tried"]),
                amount(t["money_left"]),
                pct(t["share_stopped"]),
                "–" if median is None else f"{median:,.0f} / {p90:,.0f}",
            ]
        )
    return [
        Heading("Attacks by typology"),
        Paragraph(
            "A campaign is stopped when nothing it tried to cash out left the wallet "
            "(withdrawals to bank accounts, payments to merchants); money held for review "
            "or refused counts as stopped. Money at risk is what each campaign set out to "
            "take; campaigns cut off by the end of the week never tried all of it.",
            "note",
        ),
        Table(
            [
                "typology",
                "campaigns",
                "stopped / partly / missed / no cash-out",
                "at risk",
                "tried",
                "left",
                "stopped",
                "first stop, min (median / p90)",
            ],
            rows,
            numeric={1, 3, 4, 5, 6, 7},
        ),
        Image("typologies.png"),
        Image("money.png"),
        Image("decisions_over_time.png"),
    ]


def _friction(doc: dict[str, Any]) -> list[Block]:
    f = doc["friction"]
    rows = [
        ["legitimate users (customers active in the week)", f"{f['legitimate_users']:,}"],
        ["  of them untouched by any campaign", f"{f['bystanders']:,}"],
        [
            "challenged (risk medium or above)",
            f"{f['users_challenged']:,} ({pct(f['share_challenged'], 2)})",
        ],
        ["held for review", f"{f['users_held']:,} ({pct(f['share_held'], 2)})"],
        ["blocked at least once", f"{f['users_blocked']:,} ({pct(f['share_blocked'], 2)})"],
        [
            "challenged or held (target ≤ 1 %)",
            f"{f['users_challenged_or_held']:,} ({pct(f['share_challenged_or_held'], 2)})",
        ],
        [
            "  bystanders challenged or held",
            f"{f['bystanders_challenged_or_held']:,}",
        ],
        ["legitimate money movements", f"{f['money_movements']:,}"],
        [
            "  blocked by risk control (target ≤ 0.1 %)",
            f"{f['money_movements_blocked_by_risk']:,} "
            f"({pct(f['share_money_movements_blocked_by_risk'], 3)})",
        ],
        [
            "  refused by the wallet's limits or for lack of funds",
            f"{f['money_movements_refused_by_ledger']:,}",
        ],
        ["  held for review", f"{f['money_movements_held']:,}"],
    ]
    reasons = [[code, f"{n:,}"] for code, n in list(f["block_reasons"].items())[:10]]
    blocks: list[Block] = [
        Heading("Friction on legitimate users"),
        Paragraph(
            "Only customers' own events count (an attacker's sign-in refused on a victim's "
            "account is not friction); a victim's own payment refused while their account "
            "was frozen is. Customers whose account was frozen or restricted appealed and "
            "were unfrozen by the support desk after verification.",
            "note",
        ),
        Table(["", "users / events"], rows, numeric={1}),
    ]
    if reasons:
        blocks += [
            Heading("Why legitimate events were blocked", 3),
            Table(["decisive reason", "events"], reasons, numeric={1}),
        ]
    return blocks


def _detection(doc: dict[str, Any]) -> list[Block]:
    rows = [
        [
            d["flagged_when"],
            f"{d['flagged']:,}",
            f"{d['true_positives']:,}",
            f"{d['false_positives']:,}",
            pct(d["precision"]),
            pct(d["recall"]),
            pct(d["false_positive_rate"], 3),
        ]
        for d in doc["detection"]
    ]
    return [
        Heading("Detection, event by event"),
        Paragraph(
            "Every event of the week against its label. Recall is modest by design: many "
            "labelled events are a deceived customer acting normally (signing in, topping "
            "up) — campaigns are stopped where the money moves.",
            "note",
        ),
        Table(
            ["flagged when", "flagged", "attacks", "legit", "precision", "recall", "FP rate"],
            rows,
            numeric={1, 2, 3, 4, 5, 6},
        ),
    ]


def _rules(doc: dict[str, Any]) -> list[Block]:
    rows = [
        [
            r["rule"] + ("" if r["mode"] == "active" else " (shadow)"),
            f"{r['hits']:,}",
            f"{r['malicious']:,}",
            pct(r["precision"]),
            f"{r['legit_users']:,}",
            ", ".join(k.replace("_", " ") for k in list(r["typologies"])[:3]),
        ]
        for r in doc["rules"][:20]
    ]
    noisy = sorted(
        (r for r in doc["rules"] if r["mode"] == "active" and r["legit"]),
        key=lambda r: (-r["legit_users"], -r["legit"]),
    )[:8]
    noisy_rows = [
        [r["rule"], f"{r['legit']:,}", f"{r['legit_users']:,}", pct(r["precision"])] for r in noisy
    ]
    blocks: list[Block] = [
        Heading("Rules"),
        Image("rules.png"),
        Heading("Most frequent rules", 3),
        Table(
            ["rule", "hits", "on attacks", "precision", "legit users", "typologies"],
            rows,
            numeric={1, 2, 3, 4},
        ),
    ]
    if noisy_rows:
        blocks += [
            Heading("Rules that touch legitimate customers most", 3),
            Paragraph(
                "A rule adding a little score to ordinary events is not wrong by itself (it "
                "only decides together with others); these are the first to look at when "
                "friction rises.",
                "note",
            ),
            Table(
                ["rule", "hits on legit events", "legit users", "precision"],
                noisy_rows,
                numeric={1, 2, 3},
            ),
        ]
    return blocks


def _operations(doc: dict[str, Any]) -> list[Block]:
    op = doc["operating"]
    hours = op["mean_hours_to_unlock"]
    rows = [
        [
            "new-account anomaly rate",
            pct(op["new_account_anomaly_rate"]),
            f"{op['new_accounts']:,} new accounts",
        ],
        ["top-up anomaly ratio", pct(op["topup_anomaly_ratio"], 2), f"{op['topups']:,} top-ups"],
        [
            "withdrawal anomaly ratio",
            pct(op["withdrawal_anomaly_ratio"], 2),
            f"{op['withdrawals']:,} withdrawals",
        ],
        [
            "chargeback rate",
            pct(op["chargeback_rate"], 2),
            f"{op['chargebacks']:,} of {op['confirmed_topups']:,} confirmed top-ups",
        ],
        [
            "appeal rate",
            pct(op["appeal_rate"]),
            f"{op['appeals']:,} appeals, {op['restricted_accounts']:,} accounts restricted",
        ],
        [
            "mean time to unlock",
            "–" if hours is None else f"{hours:.1f} h",
            f"{op['unlocked_by_people']:,} lifted by people, {op['lockouts_ended']:,} lock-outs "
            f"ended, {op['still_restricted']:,} still restricted",
        ],
    ]
    steps = [
        [
            s["who"],
            (s["typology"] or "").replace("_", " "),
            s["method"],
            f"{s['answers']:,}",
            f"{s['passed']:,}",
        ]
        for s in doc["step_ups"]
    ]
    lat = doc["latency"]
    blocks: list[Block] = [
        Heading("Wallet operating metrics"),
        Table(["metric", "value", "basis"], rows, numeric={1}),
        Image("wallet_metrics.png"),
        Heading("Step-up challenges and who answered", 3),
        Paragraph(
            "Customers pass; a deceived victim or a fraudster on their own wallet passes too "
            "(a step-up cannot stop them: those rules hold money for review instead); an "
            "intruder passes only a method they control (SMS codes after a SIM swap).",
            "note",
        ),
        Table(["who answered", "typology", "method", "answers", "passed"], steps, numeric={3, 4})
        if steps
        else Paragraph("No challenge was answered in this run.", "note"),
        Heading("Decision latency", 3),
        Paragraph(
            f"{lat['samples']:,} decisions: p50 {lat['p50_us']:,.0f} µs, p99 "
            f"{lat['p99_us']:,.0f} µs, mean {lat['mean_us']:,.0f} µs — the engine's own time "
            "per event, durable writes (batched per 5,000 events) excluded.",
            "note",
        ),
        Image("latency.png"),
    ]
    return blocks


def _method() -> list[Block]:
    return [
        Heading("How these figures are made", 3),
        Paragraph(
            "The week is replayed through the same engine the API runs, with every effect "
            "(account states, ledger holds and postings, cases, notifications, audit). "
            "Challenges are answered 30–90 s later in event time; held withdrawals stay "
            "held unless a person releases them. Definitions: docs/evaluation.md.",
            "note",
        ),
    ]
