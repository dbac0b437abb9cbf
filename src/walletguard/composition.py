"""The composition root: the one place that wires adapters to services.

Every door (command line, HTTP, demo, back-test) builds what it needs here.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from walletguard.decisions.catalogue import RuleCatalogue
from walletguard.decisions.effects import Stage
from walletguard.decisions.effects.accounts import AccountEffects
from walletguard.decisions.effects.cases import CaseEffects
from walletguard.decisions.effects.challenges import ChallengeEffects
from walletguard.decisions.effects.labels import LabelEffects
from walletguard.decisions.effects.ledger import LedgerEffects
from walletguard.decisions.effects.notify import NotifyEffects
from walletguard.decisions.engine import Engine
from walletguard.decisions.policy import load_policy
from walletguard.decisions.settings import EngineSettings
from walletguard.enrich.ip_intel import GeoLiteIpIntel, IpIntel
from walletguard.events.model import WalletEvent
from walletguard.features.memory import MemoryFeatureStore
from walletguard.graph.live import LiveGraph, RingRefresher
from walletguard.kernel.errors import ConfigurationError
from walletguard.rules.ruleset import Ruleset, load_ruleset, parse_ruleset
from walletguard.scoring.anomaly import PopulationStats
from walletguard.scoring.dataset import TrainingSet
from walletguard.scoring.serving import ModelRefresher
from walletguard.scoring.training import TrainedModel, TrainingPlan
from walletguard.scoring.vectors import Vectorizer
from walletguard.storage.database import Database, open_database
from walletguard.storage.feature_checkpoints import FeatureCheckpointer
from walletguard.storage.uow import SqlUnitOfWork, StateCache

_ip_intel: IpIntel | None = None


def ip_intel() -> IpIntel:
    """The process-wide IP data (loaded once: ~0.2 s)."""
    global _ip_intel
    if _ip_intel is None:
        _ip_intel = GeoLiteIpIntel()
    return _ip_intel


def tune_gc_for_throughput() -> None:
    """Make the cyclic garbage collector cheap for long runs.

    A running engine holds millions of long-lived objects (feature windows, profiles,
    caches) that Python's collector would otherwise rescan over and over: measured, that
    was 30 % of replay time. What exists now is frozen out of collection and collections
    run less often; reference counting still frees almost everything immediately.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)


def default_ruleset_text() -> str:
    return resources.files("walletguard.rules").joinpath("default_ruleset.yaml").read_text()


def load_rules(path: Path | None, catalogue: RuleCatalogue | None = None) -> Ruleset:
    """The ruleset in `path`, or the default ruleset."""
    catalogue = catalogue or RuleCatalogue()
    if path is None:
        return parse_ruleset(default_ruleset_text(), catalogue, source="default ruleset")
    return load_ruleset(path, catalogue)


def effect_stages(engine: Engine) -> list[Stage]:
    """What a decision does, in order: guards run in this order, then effects."""
    return [
        AccountEffects(),
        LedgerEffects(),
        ChallengeEffects(engine.features, engine.locate),
        LabelEffects(engine.features),
        CaseEffects(),
        NotifyEffects(),
    ]


@dataclass
class Runtime:
    """A database and an engine deciding on it."""

    database: Database
    engine: Engine
    features: MemoryFeatureStore
    checkpointer: FeatureCheckpointer
    exclusive: bool
    restored: tuple[int, int] = field(default=(0, 0))
    graph: LiveGraph | None = None
    cache: StateCache | None = None

    def transaction(self) -> AbstractContextManager[SqlUnitOfWork]:
        """A unit of work sharing the engine's caches (exclusive mode), so changes made
        beside the engine (registering a model) and the engine's own stay consistent."""
        return unit_of_work(self.database, self.cache)

    def save_features(self) -> int:
        return self.checkpointer.save(self.features)

    def close(self) -> None:
        self.database.dispose()


def build_runtime(
    db_url: str | None,
    *,
    ruleset_path: Path | None = None,
    policy_path: Path | None = None,
    exclusive: bool = True,
    settings: EngineSettings | None = None,
    restore_features: bool = True,
    models: bool = True,
    graph: bool = True,
    synchronous: str = "FULL",
) -> Runtime:
    """Open the database and build an engine with in-process features.

    `exclusive`: this process is the database's only writer (replay, demo), so state
    read from it may be cached across units of work. `models`: score with the registry's
    champion and shadows (reloaded when the registry changes). `graph`: keep the live
    money-flow / shared-attribute graph (rebuilt from recent stored events on start).
    `synchronous`: SQLite's durability (`OFF` only for throw-away scratch databases).
    """
    database = open_database(db_url, synchronous=synchronous)
    catalogue = RuleCatalogue()
    try:
        ruleset = load_rules(ruleset_path, catalogue)
        policy = load_policy(policy_path, catalogue)
    except ConfigurationError:
        database.dispose()
        raise
    features = MemoryFeatureStore()
    cache = StateCache() if exclusive else None

    currency = (settings or EngineSettings()).default_currency

    def unit_of_work() -> SqlUnitOfWork:
        return SqlUnitOfWork(database, cache, default_currency=currency)

    live_graph = LiveGraph() if graph else None
    refreshers: list[Any] = []
    if models:
        refreshers.append(ModelRefresher(catalogue))
    if live_graph is not None:
        refreshers.append(RingRefresher())
    engine = Engine(
        unit_of_work=unit_of_work,
        features=features,
        ip_intel=ip_intel(),
        ruleset=ruleset,
        policy=policy,
        stages=effect_stages,
        settings=settings,
        graph=live_graph,
        population=PopulationStats(),
        refreshers=refreshers,
    )
    if models:
        # Load the champion and shadows now, so that the features they read are kept
        # while the checkpoint's later events are re-applied.
        first = SqlUnitOfWork(database, cache, default_currency=currency)
        try:
            refreshers[0](engine, first)
        finally:
            first.close()
    checkpointer = FeatureCheckpointer(database)
    restored = (0, 0)
    if restore_features:
        restored = checkpointer.load(features, engine.locate)
        if live_graph is not None:
            rebuild_graph(database, live_graph)
    return Runtime(database, engine, features, checkpointer, exclusive, restored, live_graph, cache)


GRAPH_REBUILD_DAYS = 30


def rebuild_graph(database: Database, graph: LiveGraph, days: int = GRAPH_REBUILD_DAYS) -> int:
    """Teach a fresh live graph the stored events of the last `days` (event time) and the
    fraud they were reported for. Returns how many events it read."""
    from datetime import timedelta

    from walletguard.events.model import LABELS
    from walletguard.graph.live import counterparty_node
    from walletguard.storage.history import decided_events, latest_event_time

    latest = latest_event_time(database)
    if latest is None:
        return 0
    payees: dict[str, str] = {}
    count = 0
    for event, decision in decided_events(database, since=latest - timedelta(days=days)):
        graph.observe(event, moved=decision == "allow")
        if event.type in LABELS:
            payee = payees.get(event.ref_event_id or "")
            if payee is not None:
                graph.mark_fraud([payee])
        else:
            node = counterparty_node(event)
            if node is not None:
                payees[event.event_id] = node
        count += 1
    return count


@contextmanager
def unit_of_work(database: Database, cache: StateCache | None = None) -> Iterator[SqlUnitOfWork]:
    """A unit of work for a command: committed if the block succeeds, else rolled back."""
    uow = SqlUnitOfWork(database, cache)
    try:
        yield uow
        uow.commit()
    except BaseException:
        uow.rollback()
        raise
    finally:
        uow.close()


def train_on_history(
    database: Database,
    vectorizer: Vectorizer,
    event_types: Sequence[str],
    plan: TrainingPlan,
    *,
    events: Iterable[WalletEvent] | None = None,
    labels_file: Path | None = None,
    labels_delay_seconds: float = 7 * 86400.0,
    ruleset_path: Path | None = None,
    policy_path: Path | None = None,
    actor: str,
    progress: Callable[[int], None] | None = None,
) -> tuple[TrainedModel, TrainingSet]:
    """`walletguard train`: replay history (the database's stored events, or `events`)
    through a scratch engine on a scratch database, recording each event's vector, then
    train on the labels known: chargebacks and fraud reports in the history, case
    outcomes in `database`, and `labels_file`."""
    import tempfile

    from walletguard.scoring.dataset import VectorRecorder, record_history
    from walletguard.scoring.labels import LabelBook, LabelSource, read_labels_file
    from walletguard.scoring.training import train_model
    from walletguard.storage.history import decided_events, stored_labels

    history = events if events is not None else (e for e, _ in decided_events(database))
    with tempfile.TemporaryDirectory(prefix="wg-train-") as scratch:
        runtime = build_runtime(
            f"sqlite:///{Path(scratch) / 'train.db'}",
            ruleset_path=ruleset_path,
            policy_path=policy_path,
            restore_features=False,
            models=False,
            synchronous="OFF",
        )
        try:
            recorder = VectorRecorder(vectorizer, event_types)
            data = record_history(runtime.engine, history, recorder, progress=progress)
            found = stored_labels(runtime.database)
        finally:
            runtime.close()
    stored = stored_labels(database)
    if events is not None:  # the events are not the database's: only its reviewers' verdicts
        stored = [label for label in stored if label.source is LabelSource.CASE]
    found += stored
    if labels_file is not None:
        times = dict(zip(data.event_ids, data.times, strict=True))
        try:
            with labels_file.open("rb") as lines:
                found += read_labels_file(lines, times, labels_delay_seconds)
        except OSError as exc:
            raise ConfigurationError(f"{labels_file}: cannot read: {exc.strerror}") from None
    return train_model(data, LabelBook(found), plan, created_by=actor), data
