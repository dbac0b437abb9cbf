"""The main job, `walletguard demo`: a simulated week of a wallet, decided by the full
engine on the embedded database, measured, and written up as a risk report.

Steps, in order (each reports progress through `DemoProgress`):

1. simulate a week of a few thousand customers with every attack typology (rates are
   raised so each typology is expected at least `MIN_CAMPAIGNS` times; a typology that
   still did not occur gets its rate doubled and the week is simulated again);
2. an operator allow-lists the cash agents (legit shops that look like mules);
3. evaluate: the week through the engine with every effect, challenges answered,
   frozen customers appealing to the support desk (`evaluate.service`);
4. reconcile each channel's statement, sweep overdue top-ups and expired holds, and
   pass the notification outbox once — only when no channel is configured, so the demo
   never messages anyone — all at the end of the simulated week;
5. sign an audit checkpoint, measure, write the report (HTML, PDF) and `summary.json`.

Everything lands in one directory: `walletguard.db` (explore it with `walletguard serve
--db ...`), `sim/` (the simulator's files), `report/`, `summary.json`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from walletguard.composition import (
    build_runtime,
    create_checkpoint,
    dispatcher_for,
    run_facts,
    tune_gc_for_throughput,
)
from walletguard.enrich.lists import ListEntity, ListEntry, ListKind
from walletguard.evaluate.document import evaluation_document
from walletguard.evaluate.replay import parse_lines
from walletguard.evaluate.service import Evaluation, evaluate_events
from walletguard.evaluate.truth import load_truth
from walletguard.ledger.reconcile import reconcile
from walletguard.ledger.settings import load_ledger_settings
from walletguard.ledger.sweep import sweep
from walletguard.notify.settings import NotifySettings
from walletguard.simulate import DEFAULT_RATES, TYPOLOGIES, SimConfig, write_run
from walletguard.storage.database import open_database
from walletguard.storage.ledger_session import ledger_session

MIN_CAMPAIGNS = 5
"""Campaigns each typology is expected to have in the demo week."""
OPERATOR = "operator:demo"
TRIES = 4


class DemoProgress(Protocol):
    def start(self, label: str, total: float | None) -> Callable[[float], None]:
        """Begin a step; the returned function sets how far it got (in `total`'s unit)."""

    def done(self, label: str, message: str) -> None: ...


@dataclass(frozen=True)
class DemoOptions:
    users: int = 3000
    days: int = 7
    seed: int = 7
    attack_rate: float = 1.0
    out: Path | None = None

    def directory(self) -> Path:
        if self.out is not None:
            return self.out
        return Path("out") / f"demo-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"


@dataclass
class DemoResult:
    directory: Path
    db_url: str
    evaluation: Evaluation
    document: dict[str, Any]
    report: list[Path]
    summary_path: Path
    config: SimConfig
    steps: dict[str, float] = field(default_factory=dict)
    """Wall seconds per step."""
    housekeeping: dict[str, Any] = field(default_factory=dict)
    example_accounts: dict[str, str] = field(default_factory=dict)


def demo_config(options: DemoOptions) -> SimConfig:
    """The simulation: defaults, with each typology's rate raised until it is expected
    `MIN_CAMPAIGNS` times in the window (then scaled by `attack_rate`)."""
    exposure = options.users / 10_000 * options.days
    floor = MIN_CAMPAIGNS / exposure
    rates = {t: max(DEFAULT_RATES[t], floor) * options.attack_rate for t in TYPOLOGIES}
    return SimConfig(
        seed=options.seed, users=options.users, days=options.days, rates=rates, attack_rate=1.0
    )


def run_demo(options: DemoOptions, progress: DemoProgress) -> DemoResult:
    """Run every step of the demo (module doc) and return what it measured and wrote."""
    directory = options.directory()
    if directory.exists() and any(directory.iterdir()):
        from walletguard.kernel.errors import Conflict

        raise Conflict(f"{directory} is not empty: the demo writes into a fresh directory")
    directory.mkdir(parents=True, exist_ok=True)
    steps: dict[str, float] = {}
    sim_dir = directory / "sim"

    started = time.perf_counter()
    config = _simulate(demo_config(options), sim_dir, progress)
    steps["simulate"] = time.perf_counter() - started

    truth = load_truth(sim_dir / "labels.jsonl")
    db_path = (directory / "walletguard.db").resolve()
    db_url = f"sqlite:///{db_path}"
    runtime = build_runtime(db_url)
    window_start, window_end = truth.window or (
        datetime.fromtimestamp(config.start_ts, UTC),
        datetime.fromtimestamp(config.end_ts, UTC),
    )
    housekeeping: dict[str, Any] = {}
    try:
        housekeeping["allow_listed_agents"] = allow_list_agents(
            runtime, truth.agents, at=window_start - timedelta(days=1)
        )
        tune_gc_for_throughput()
        total = _count_lines(sim_dir / "events.jsonl")
        advance = progress.start("replay", total)
        seen = 0

        def tick(_: object) -> None:
            nonlocal seen
            seen += 1
            if seen % 500 == 0 or seen == total:
                advance(seen)

        def after_replay() -> None:
            steps["replay"] = time.perf_counter() - replay_started
            progress.done("replay", f"{seen:,} events decided")
            runtime.save_features()
            house_started = time.perf_counter()
            housekeeping.update(
                end_of_week(db_url, sim_dir, at=window_end + timedelta(hours=1), progress=progress)
            )
            steps["reconcile, sweep, notify"] = time.perf_counter() - house_started

        replay_started = time.perf_counter()
        with (sim_dir / "events.jsonl").open("rb") as source:
            evaluation = evaluate_events(
                parse_lines(source),
                runtime.engine,
                truth,
                lambda: run_facts(runtime.database),
                support=runtime.transaction,
                progress=tick,
                after_replay=after_replay,
            )
    finally:
        runtime.close()

    checkpoint, _ = create_checkpoint(db_url, actor=OPERATOR, at=window_end + timedelta(hours=2))
    housekeeping["audit_checkpoint"] = checkpoint.key_id
    document = evaluation_document(evaluation)
    document["demo"] = {
        "users": config.users,
        "days": config.days,
        "seed": config.seed,
        "rates": dict(config.rates),
        "housekeeping": housekeeping,
    }
    report_started = time.perf_counter()
    progress.start("report", None)
    from walletguard.reporting.report import write_report

    context = {
        "users": config.users,
        "command": f"walletguard demo --users {config.users} --days {config.days} "
        f"--seed {config.seed}",
    }
    report = write_report(
        evaluation, document, directory / "report", title="walletguard risk report", context=context
    )
    steps["report"] = time.perf_counter() - report_started
    progress.done("report", str(report[0]))
    document["demo"]["seconds"] = {k: round(v, 2) for k, v in steps.items()}
    summary_path = directory / "summary.json"
    summary_path.write_text(
        json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return DemoResult(
        directory,
        db_url,
        evaluation,
        document,
        report,
        summary_path,
        config,
        steps,
        housekeeping,
        _examples(evaluation),
    )


def _simulate(config: SimConfig, sim_dir: Path, progress: DemoProgress) -> SimConfig:
    window = config.days * 86_400
    for attempt in range(TRIES):
        advance = progress.start("simulate", window)

        def simulated(_count: int, seconds: int, step: Callable[[float], None] = advance) -> None:
            step(min(seconds, window))

        summary = write_run(config, sim_dir, progress=simulated)
        advance(window)
        missing = [t for t, n in summary.campaigns.items() if n == 0]
        if not missing or attempt == TRIES - 1:
            progress.done(
                "simulate",
                f"{summary.events:,} events, {sum(summary.campaigns.values())} campaigns "
                f"({summary.labelled:,} malicious events)",
            )
            return config
        progress.done("simulate", f"no {', '.join(missing)} this time: raising its rate")
        rates = dict(config.rates)
        for t in missing:
            rates[t] = rates[t] * 2
        config = replace(config, rates=rates)
    return config


def allow_list_agents(runtime: Any, agents: tuple[str, ...], *, at: datetime) -> int:
    """Put the cash agents' wallets on the allow list, as an operator would (audited)."""
    if not agents:
        return 0
    with runtime.transaction() as uow:
        for account_id in agents:
            uow.lists.add(
                ListEntry(
                    ListKind.ALLOW,
                    ListEntity.ACCOUNT,
                    account_id,
                    "licensed cash agent: many senders and a daily withdrawal are its trade",
                    created_by=OPERATOR,
                ),
                at=at,
            )
            uow.audit.append(
                at=at,
                actor=OPERATOR,
                action="list.added",
                subject="list:allow:account",
                payload={"value": account_id, "reason": "licensed cash agent"},
            )
    runtime.engine.refresh_soon()
    return len(agents)


def end_of_week(
    db_url: str, sim_dir: Path, *, at: datetime, progress: DemoProgress
) -> dict[str, Any]:
    """Reconcile every channel statement, sweep, and pass the outbox once (only when no
    channel is configured)."""
    settings = load_ledger_settings(None)
    statements = sorted((sim_dir / "statements").glob("*.csv"))
    advance = progress.start("reconcile", len(statements))
    found: dict[str, int] = {}
    database = open_database(db_url)
    try:
        for i, path in enumerate(statements, start=1):
            with ledger_session(database) as session:
                report = reconcile(
                    session,
                    session.queries,
                    settings,
                    channel=path.stem,
                    data=path.read_bytes(),
                    source=path.name,
                    at=at,
                    actor=OPERATOR,
                )
            for kind, n in report["counts"].items():
                found[kind] = found.get(kind, 0) + int(n)
            advance(i)
        progress.done(
            "reconcile",
            ", ".join(f"{k} {v:,}" for k, v in sorted(found.items())) or "nothing to reconcile",
        )
        with ledger_session(database) as session:
            swept = sweep(session, session.queries, settings, now=at, actor="system:sweep")
    finally:
        database.dispose()
    result: dict[str, Any] = {
        "reconciliation": found,
        "sweep": {
            "flagged_topups": len(swept.flagged_topups),
            "voided_holds": len(swept.voided_holds),
            "escalated_holds": len(swept.escalated_holds),
        },
    }
    result["notifications"] = pass_outbox(db_url, at=at, progress=progress)
    return result


def pass_outbox(db_url: str, *, at: datetime, progress: DemoProgress) -> dict[str, Any]:
    """Mark the queued notifications skipped when no channel is configured; with channels
    configured, leave them queued (the demo sends nothing to anyone)."""
    settings = NotifySettings.from_env()
    dispatcher, database = dispatcher_for(db_url, settings, clock=lambda: at)
    try:
        if dispatcher.channels:
            progress.done("notify", "channels are configured: notifications left queued")
            return {"passed": False, "queued": None}
        advance = progress.start("notify", None)
        handled = 0
        while True:
            summary = dispatcher.dispatch_once(500)
            handled += summary.claimed
            advance(handled)
            if summary.claimed < 500:
                break
        progress.done("notify", f"{handled:,} notifications (no channel configured: skipped)")
        return {"passed": True, "handled": handled}
    finally:
        database.dispose()


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def _examples(ev: Evaluation) -> dict[str, str]:
    """Accounts worth a look afterwards: a stopped takeover's victim, a mule, a customer
    who appealed."""
    wanted = {c.first_stop_event: c.typology for c in ev.campaigns if c.outcome == "stopped"}
    examples: dict[str, str] = {}
    for o in ev.observations:
        typology = wanted.get(o.event_id)
        if typology is not None:
            examples.setdefault(typology, o.account_id)
    return examples
