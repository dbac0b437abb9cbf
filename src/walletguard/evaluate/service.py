"""Evaluate: replay events through the engine with challenges answered, then measure.

`evaluate_events` is what `walletguard evaluate`, `backtest` and `demo` call; the result
(`Evaluation`) holds every figure docs/evaluation.md defines, and `evaluation_document`
turns it into plain JSON data.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from walletguard.decisions.engine import Engine, Failure
from walletguard.decisions.model import Decision
from walletguard.evaluate.detection import Detection, detection_table
from walletguard.evaluate.friction import Friction, friction
from walletguard.evaluate.observe import STOPPED, Observation, Observer
from walletguard.evaluate.operating import Operating, operating_metrics
from walletguard.evaluate.ports import RunFacts
from walletguard.evaluate.rule_stats import RuleStat, rule_stats
from walletguard.evaluate.run import Follower, decide_following
from walletguard.evaluate.stepups import Answer, StepUpResponder
from walletguard.evaluate.support import CustomerSupport, SupportLog, Transaction
from walletguard.evaluate.truth import GroundTruth
from walletguard.evaluate.typologies import (
    CampaignOutcome,
    TypologyResult,
    by_typology,
    campaign_outcomes,
)
from walletguard.events.model import WalletEvent

TARGET_STOPPED = 0.95
TARGET_CHALLENGED_OR_HELD = 0.01
TARGET_MONEY_BLOCKED = 0.001

Progress = Callable[[WalletEvent | Failure], None]


@dataclass
class Latency:
    samples: int
    p50_us: float
    p99_us: float
    mean_us: float
    histogram: list[tuple[float, int]]
    """(bucket's upper edge in µs, events), on a log scale."""


@dataclass
class Target:
    name: str
    goal: str
    measured: float | None
    met: bool | None
    """None when there was nothing to measure (e.g. no cash-out in a typology)."""


@dataclass
class Evaluation:
    events: int
    errors: int
    decisions: dict[str, int]
    seconds: float
    cpu_seconds: float
    window: tuple[datetime, datetime] | None
    observations: list[Observation]
    detection: list[Detection]
    campaigns: list[CampaignOutcome]
    typologies: list[TypologyResult]
    friction: Friction
    latency: Latency
    rules: list[RuleStat]
    operating: Operating
    step_ups: list[Answer]
    cases: dict[str, int]
    ruleset_version: str
    timeline: list[tuple[datetime, dict[str, int]]] = field(default_factory=list)
    support: SupportLog | None = None

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def targets(self) -> list[Target]:
        rows = []
        for t in self.typologies:
            share = t.share_stopped
            rows.append(
                Target(
                    f"money stopped: {t.typology}",
                    f"≥ {TARGET_STOPPED:.0%}",
                    share,
                    None if share is None else share >= TARGET_STOPPED,
                )
            )
        f = self.friction
        rows.append(
            Target(
                "legitimate users challenged or held",
                f"≤ {TARGET_CHALLENGED_OR_HELD:.0%}",
                f.share_challenged_or_held,
                f.share_challenged_or_held <= TARGET_CHALLENGED_OR_HELD,
            )
        )
        rows.append(
            Target(
                "legitimate money movements blocked (by risk control)",
                f"≤ {TARGET_MONEY_BLOCKED:.1%}",
                f.share_money_blocked_by_risk,
                f.share_money_blocked_by_risk <= TARGET_MONEY_BLOCKED,
            )
        )
        return rows


def evaluate_events(
    items: Iterable[WalletEvent | Failure],
    engine: Engine,
    truth: GroundTruth,
    facts: Callable[[], RunFacts],
    *,
    support: Transaction | None = None,
    batch_size: int = 5000,
    progress: Progress | None = None,
    after_replay: Callable[[], None] | None = None,
) -> Evaluation:
    """Decide every item (answering challenges and, given a `support` transaction, with
    customers' appeals handled by the desk), then measure against `truth`.

    `facts` is called once the replay is committed (and `after_replay` has run, e.g. a
    reconciliation) to read what the run left in the store."""
    observer = Observer(truth)
    responder = StepUpResponder(truth)
    followers: list[Follower] = [responder]
    desk = CustomerSupport(truth, support) if support is not None else None
    if desk is not None:
        followers.append(desk)
    engine.timing = True
    engine.engine_seconds = []

    def sink(item: WalletEvent | Failure, result: Decision | Failure, injected: bool) -> None:
        observer.record(item, result, injected)
        if progress is not None and not injected:
            progress(item)

    wall, cpu = time.perf_counter(), time.process_time()
    decide_following(items, engine, followers, sink, batch_size=batch_size)
    seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
    engine.timing = False
    if after_replay is not None:
        after_replay()
    return measure(
        observer,
        responder.answers,
        truth,
        facts(),
        engine_seconds=engine.engine_seconds,
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        ruleset_version=engine.ruleset.version,
        support=desk.log if desk is not None else None,
    )


def measure(
    observer: Observer,
    answers: list[Answer],
    truth: GroundTruth,
    facts: RunFacts,
    *,
    engine_seconds: list[float],
    seconds: float,
    cpu_seconds: float,
    ruleset_version: str,
    support: SupportLog | None = None,
) -> Evaluation:
    observations = observer.observations
    outcomes = campaign_outcomes(observations, truth)
    typologies = truth.typologies or sorted({c.typology for c in outcomes})
    last = max((o.at for o in observations), default=None)
    ended = truth.window[1] if truth.window else last
    return Evaluation(
        events=len(observations) + len(observer.failures),
        errors=len(observer.failures),
        decisions=dict(observer.decisions),
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        window=truth.window,
        observations=observations,
        detection=detection_table(observations),
        campaigns=outcomes,
        typologies=by_typology(outcomes, typologies),
        friction=friction(observations, truth),
        latency=latency(engine_seconds),
        rules=rule_stats(facts.rule_hits(), observations, truth),
        operating=operating_metrics(
            observations,
            state_changes=facts.state_changes(),
            appeals=facts.appeals(),
            suspected_topups=facts.suspected_topups(),
            lockouts=observer.lockouts,
            window=truth.window,
            ended_at=ended,
        ),
        step_ups=answers,
        cases=facts.case_counts(),
        ruleset_version=ruleset_version,
        timeline=timeline(observations, truth.window),
        support=support,
    )


def latency(engine_seconds: list[float]) -> Latency:
    """p50 / p99 / mean of the engine's own time per event, and a log-scale histogram."""
    if not engine_seconds:
        return Latency(0, 0.0, 0.0, 0.0, [])
    values = sorted(s * 1e6 for s in engine_seconds)
    n = len(values)
    edges = [10.0 * 2 ** (i / 2) for i in range(25)]  # 10 µs … ~41 ms
    counts = Counter(next((e for e in edges if v <= e), edges[-1]) for v in values)
    return Latency(
        samples=n,
        p50_us=values[n // 2],
        p99_us=values[min(n - 1, int(n * 0.99))],
        mean_us=sum(values) / n,
        histogram=[(edge, counts.get(edge, 0)) for edge in edges],
    )


def timeline(
    observations: list[Observation], window: tuple[datetime, datetime] | None
) -> list[tuple[datetime, dict[str, int]]]:
    """Decisions per 6 hours of event time over the window: by verdict, and `malicious`."""
    scope = [o for o in observations if o.in_window]
    if not scope:
        return []
    start = window[0] if window else min(o.at for o in scope)
    step = timedelta(hours=6)
    buckets: dict[int, Counter[str]] = {}
    for o in scope:
        slot = int((o.at - start) / step)
        bucket = buckets.setdefault(slot, Counter())
        bucket[o.decision] += 1
        if o.label is not None:
            bucket["malicious"] += 1
            if o.outcome in STOPPED:
                bucket["malicious_stopped"] += 1
    last = max(buckets)
    return [(start + i * step, dict(buckets.get(i, Counter()))) for i in range(last + 1)]
