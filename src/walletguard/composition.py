"""The composition root: the one place that wires adapters to services.

Every door (command line, HTTP, demo, back-test) builds what it needs here.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from walletguard.accounts.settings import AccountSettings
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
from walletguard.decisions.ports import UnitOfWork
from walletguard.decisions.settings import EngineSettings
from walletguard.enrich.ip_intel import GeoLiteIpIntel, IpIntel
from walletguard.features.memory import MemoryFeatureStore
from walletguard.features.store import FeatureStore
from walletguard.kernel.errors import ConfigurationError
from walletguard.keys import KeyStore, keys_dir
from walletguard.rules.registry import RulesetMode, in_mode, promote, upload
from walletguard.rules.ruleset import Ruleset, load_ruleset, parse_ruleset
from walletguard.storage.database import Database, data_dir, open_database
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


def effect_stages(engine: Engine, accounts: AccountSettings | None = None) -> list[Stage]:
    """What a decision does, in order: guards run in this order, then effects."""
    accounts = accounts or AccountSettings()
    return [
        AccountEffects(accounts),
        LedgerEffects(),
        ChallengeEffects(engine.features, engine.locate, accounts),
        LabelEffects(engine.features),
        CaseEffects(),
        NotifyEffects(),
    ]


class StoredRulesetFollower:
    """Keeps an engine on the active (and shadow) ruleset stored in the database, picking up
    a promotion at the next unit of work."""

    def __init__(self) -> None:
        self._stamp: str | None = None

    def __call__(self, engine: Engine, uow: UnitOfWork) -> None:
        repo = uow.rulesets  # type: ignore[attr-defined]
        stamp = repo.stamp()
        if stamp == self._stamp:
            return
        catalogue = RuleCatalogue()
        active = in_mode(repo, RulesetMode.ACTIVE)
        shadow = in_mode(repo, RulesetMode.SHADOW)
        if active is not None:
            engine.use_ruleset(
                parse_ruleset(active.content, catalogue, source=f"ruleset {active.version}"),
                parse_ruleset(shadow.content, catalogue, source=f"ruleset {shadow.version}")
                if shadow is not None
                else None,
            )
        self._stamp = stamp


def ensure_active_ruleset(database: Database, *, at: datetime) -> None:
    """On a database that has no active ruleset yet, store the default one as active."""
    uow = SqlUnitOfWork(database)
    try:
        if in_mode(uow.rulesets, RulesetMode.ACTIVE) is None:
            stored, _ = upload(
                uow.rulesets,
                default_ruleset_text(),
                RuleCatalogue(),
                by="system",
                at=at,
                source="default ruleset",
            )
            promote(uow.rulesets, stored.version, at=at)
            uow.commit()
    finally:
        uow.close()


@dataclass
class Runtime:
    """A database and an engine deciding on it."""

    database: Database
    engine: Engine
    features: FeatureStore
    checkpointer: FeatureCheckpointer
    exclusive: bool
    restored: tuple[int, int] = field(default=(0, 0))
    unit_of_work: Callable[[], SqlUnitOfWork] | None = None
    """A unit of work sharing the engine's caches (use it, not a new one, next to a running
    exclusive engine)."""

    @contextmanager
    def transaction(self) -> Iterator[SqlUnitOfWork]:
        """A unit of work committed when the block ends without an error."""
        uow = self.unit_of_work() if self.unit_of_work else SqlUnitOfWork(self.database)
        try:
            yield uow
            uow.commit()
        except BaseException:
            uow.rollback()
            raise
        finally:
            uow.close()

    def save_features(self) -> int:
        """Checkpoint in-process features to the database (a shared store keeps its own)."""
        if not isinstance(self.features, MemoryFeatureStore):
            return 0
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
    follow_stored_rulesets: bool = False,
    features: FeatureStore | None = None,
    account_settings: AccountSettings | None = None,
) -> Runtime:
    """Open the database and build an engine with in-process features.

    `exclusive`: this process is the database's only writer (replay, demo), so state
    read from it may be cached across units of work. `follow_stored_rulesets`: decide with
    the ruleset promoted in the database (the service), not a file.
    `features`: decide on this feature store instead (e.g. a `RedisFeatureStore` shared
    with other workers); it is neither checkpointed nor restored here, and the caller
    closes it.
    """
    database = open_database(db_url)
    catalogue = RuleCatalogue()
    try:
        ruleset = load_rules(ruleset_path, catalogue)
        policy = load_policy(policy_path, catalogue)
    except ConfigurationError:
        database.dispose()
        raise
    store: FeatureStore = features if features is not None else MemoryFeatureStore()
    cache = StateCache() if exclusive else None

    currency = (settings or EngineSettings()).default_currency

    def unit_of_work() -> SqlUnitOfWork:
        return SqlUnitOfWork(database, cache, default_currency=currency)

    engine = Engine(
        unit_of_work=unit_of_work,
        features=store,
        ip_intel=ip_intel(),
        ruleset=ruleset,
        policy=policy,
        stages=lambda built: effect_stages(built, account_settings),
        settings=settings,
    )
    if follow_stored_rulesets:
        ensure_active_ruleset(database, at=datetime.now(UTC))
        engine.before_batch = StoredRulesetFollower()
    checkpointer = FeatureCheckpointer(database)
    restored = (0, 0)
    if restore_features and isinstance(store, MemoryFeatureStore):
        restored = checkpointer.load(store, engine.locate)
    return Runtime(database, engine, store, checkpointer, exclusive, restored, unit_of_work)


def key_store() -> KeyStore:
    """The installation's keys (`$WALLETGUARD_KEYS_DIR`, else `keys/` in the data directory)."""
    return KeyStore(keys_dir(data_dir()))
