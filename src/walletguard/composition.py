"""The composition root: the one place that wires adapters to services.

Every door (command line, HTTP, demo, back-test) builds what it needs here.
"""

from __future__ import annotations

import gc
import os
import secrets
import socket
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from walletguard.accounts.freeze_links import mint_freeze_token
from walletguard.accounts.settings import AccountSettings
from walletguard.audit.checkpoint import Checkpoint, TrustedKeys, load_public_key, sign_checkpoint
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
from walletguard.evaluate.ports import RunFacts
from walletguard.events.model import WalletEvent
from walletguard.evidence.package import Scope, build_package
from walletguard.features.memory import MemoryFeatureStore
from walletguard.features.store import FeatureStore
from walletguard.graph.live import LiveGraph, RingRefresher
from walletguard.kernel.canonical import sha256_hex
from walletguard.kernel.errors import (
    ConfigurationError,
    FieldProblem,
    InvalidInput,
    NotFound,
    Refused,
)
from walletguard.keys import KeyStore, keys_dir
from walletguard.notify.dispatcher import Dispatcher
from walletguard.notify.model import Channel, Contacts, Message, OutboxEntry
from walletguard.notify.settings import NotifySettings
from walletguard.notify.templates import render
from walletguard.rules.registry import RulesetMode, in_mode, promote, upload
from walletguard.rules.ruleset import Ruleset, load_ruleset, parse_ruleset
from walletguard.scoring.anomaly import PopulationStats
from walletguard.scoring.dataset import TrainingSet
from walletguard.scoring.serving import ModelRefresher
from walletguard.scoring.vectors import Vectorizer
from walletguard.storage.database import Database, data_dir, open_database
from walletguard.storage.feature_checkpoints import (
    CaseReportStore,
    FeatureCheckpointer,
    FraudReportFollower,
)
from walletguard.storage.repositories.audit import SqlAuditReader
from walletguard.storage.repositories.evidence import collect, require_sealed, resolve_scope
from walletguard.storage.uow import SqlUnitOfWork, StateCache

if TYPE_CHECKING:  # training loads LightGBM, which costs ~1 s at import
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from walletguard.scoring.training import TrainedModel, TrainingPlan

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


def tune_gc_for_latency() -> None:
    """Keep the cyclic garbage collector's pauses short in a long-running service.

    What exists after start-up (restored features, IP data, rules) is frozen out of
    collection, so full collections only walk what grew since; young collections stay
    small (a large first threshold, as in `tune_gc_for_throughput`, makes each one walk
    ~100,000 objects: 100-160 ms pauses, measured) and full ones rare.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(2_000, 10, 100)


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
        LabelEffects(),
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
    """Makes units of work sharing the engine's caches."""
    graph: LiveGraph | None = None
    cache: StateCache | None = None
    reports: FraudReportFollower | None = None
    """Applies fraud reports from resolved cases to the engine's features (an engine
    refresher, checked with its lists: see `FraudReportFollower`)."""

    def transaction(self) -> AbstractContextManager[SqlUnitOfWork]:
        """A unit of work sharing the engine's caches (exclusive mode), so changes made
        beside the engine (an analyst's action, registering a model) and the engine's own
        stay consistent; committed when the block ends without an error."""
        return unit_of_work(self.database, self.cache)

    def save_features(self) -> int:
        """Checkpoint in-process features to the database (a shared store keeps its own)."""
        if not isinstance(self.features, MemoryFeatureStore):
            return 0
        return self.checkpointer.save(self.features)

    def catch_up_reports(self) -> int:
        """Apply fraud reports from cases resolved since they were last applied, now;
        returns how many. The engine does it by itself at the start of a unit of work, with
        its lists (at most once per `refresh_seconds`; `FraudReportFollower`); a shared
        store counts each report once across all its workers."""
        if self.reports is None:
            return 0
        return self.reports.catch_up()

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
    models: bool = True,
    graph: bool = True,
    synchronous: str = "FULL",
) -> Runtime:
    """Open the database and build an engine with in-process features.

    `exclusive`: this process is the database's only writer (replay, demo), so state
    read from it may be cached across units of work. `follow_stored_rulesets`: decide with
    the ruleset promoted in the database (the service), not a file.
    `features`: decide on this feature store instead (e.g. a `RedisFeatureStore` shared
    with other workers); it is neither checkpointed nor restored here, and the caller
    closes it.
    `models`: score with the registry's
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
    store: FeatureStore = features if features is not None else MemoryFeatureStore()
    cache = StateCache() if exclusive else None

    currency = (settings or EngineSettings()).default_currency

    def unit_of_work() -> SqlUnitOfWork:
        return SqlUnitOfWork(database, cache, default_currency=currency)

    live_graph = LiveGraph() if graph else None
    checkpointer = FeatureCheckpointer(database)
    refreshers: list[Any] = []
    if models:
        refreshers.append(ModelRefresher(catalogue))
    if live_graph is not None:
        refreshers.append(RingRefresher())
    reports: FraudReportFollower | None = None
    if isinstance(store, MemoryFeatureStore):
        if restore_features:  # its report cursor comes with the checkpoint
            reports = FraudReportFollower(checkpointer, store)
    elif isinstance(store, CaseReportStore):
        reports = FraudReportFollower(checkpointer, store)
    if reports is not None:
        refreshers.append(reports)
    engine = Engine(
        unit_of_work=unit_of_work,
        features=store,
        ip_intel=ip_intel(),
        ruleset=ruleset,
        policy=policy,
        stages=lambda built: effect_stages(built, account_settings),
        settings=settings,
        graph=live_graph,
        population=PopulationStats(),
        refreshers=refreshers,
    )
    if follow_stored_rulesets:
        ensure_active_ruleset(database, at=datetime.now(UTC))
        engine.before_batch = StoredRulesetFollower()
    if models:
        # Load the champion and shadows now, so that the features they read are kept
        # while the checkpoint's later events are re-applied.
        first = SqlUnitOfWork(database, cache, default_currency=currency)
        try:
            refreshers[0](engine, first)
        finally:
            first.close()
    restored = (0, 0)
    if restore_features and isinstance(store, MemoryFeatureStore):
        restored = checkpointer.load(store, engine.locate)
    if restore_features and live_graph is not None:
        rebuild_graph(database, live_graph)
    return Runtime(
        database,
        engine,
        store,
        checkpointer,
        exclusive,
        restored,
        unit_of_work,
        live_graph,
        cache,
        reports,
    )


GRAPH_REBUILD_DAYS = 30


def rebuild_graph(database: Database, graph: LiveGraph, days: int = GRAPH_REBUILD_DAYS) -> int:
    """Teach a fresh live graph the stored events of the last `days` (event time) and the
    fraud they were reported for: a report in the window marks the payee of the event it
    reports, looked up by its id when that event is older than the window (a chargeback
    often comes more than 30 days after the payment). Returns how many events it read."""
    from datetime import timedelta

    from sqlalchemy import select

    from walletguard.events.decode import decode_event
    from walletguard.events.model import LABELS
    from walletguard.graph.live import counterparty_node
    from walletguard.storage import tables as t
    from walletguard.storage.history import decided_events, latest_event_time

    latest = latest_event_time(database)
    if latest is None:
        return 0
    payees: dict[str, str] = {}
    count = 0
    for event, decision in decided_events(database, since=latest - timedelta(days=days)):
        graph.observe(event, moved=decision == "allow")
        if event.type in LABELS:
            ref = event.ref_event_id
            payee = payees.get(ref or "")
            if payee is None and ref is not None:  # reported before the window
                with database.reading() as conn:
                    found = conn.execute(
                        select(t.decisions.c.payload).where(t.decisions.c.event_id == ref)
                    ).scalar()
                payee = None if found is None else counterparty_node(decode_event(found))
            if payee is not None:
                graph.mark_fraud([payee])
        else:
            node = counterparty_node(event)
            if node is not None:
                payees[event.event_id] = node
        count += 1
    return count


# -- case work, audit, evidence, notifications -------------------------------------------


@contextmanager
def unit_of_work(
    target: str | Database | None, cache: StateCache | None = None
) -> Iterator[SqlUnitOfWork]:
    """A unit of work on a database (given, or opened from a URL and closed after), committed
    when the block ends without an error, rolled back otherwise. Without `cache` it is in
    shared mode: other processes may be writing."""
    database = target if isinstance(target, Database) else open_database(target)
    uow = SqlUnitOfWork(database, cache)
    try:
        yield uow
        uow.commit()
    except BaseException:
        uow.rollback()
        raise
    finally:
        uow.close()
        if not isinstance(target, Database):
            database.dispose()


def key_store(*, create: bool = True) -> KeyStore:
    """The installation's keys: `$WALLETGUARD_KEYS_DIR`, else `keys/` in the data directory."""
    return KeyStore(keys_dir(data_dir()), create=create)


def trusted_audit_keys(
    extra: list[Path] | None = None, *, store: KeyStore | None = None
) -> TrustedKeys:
    """The public keys audit signatures are checked against: the installation's own audit key
    (in `store`, default the installation's key store) when it has one, and any PEM files
    given (e.g. keys rotated out, or an auditor's copy)."""
    keys = [load_public_key(path.read_bytes()) for path in extra or []]
    if not extra:
        own = store if store is not None else key_store(create=False)
        if (own.directory / "audit.pem").exists():
            with suppress(ConfigurationError):
                keys.append(own.signing_key("audit").public_key())
    return TrustedKeys(keys)


def create_checkpoint(
    db_url: str | None, *, actor: str, at: datetime
) -> tuple[Checkpoint, list[Path]]:
    """Sign the current heads of every audit chain with the installation's `audit` key
    (created on first use), audited as `actor`'s (see `sign_heads`). Returns the checkpoint
    and the paths of any key just created."""
    store = key_store()
    database = open_database(db_url)
    try:
        checkpoint = sign_heads(database, store, actor=actor, at=at)
    finally:
        database.dispose()
    return checkpoint, store.created


def sign_heads(database: Database, store: KeyStore, *, actor: str, at: datetime) -> Checkpoint:
    """Sign the current head of every audit chain of `database` with `store`'s `audit` key
    (created on first use) and store the checkpoint, with an `audit.checkpoint_signed`
    record by `actor` in the same transaction (the record follows the heads it signed)."""
    signing_key = store.signing_key("audit")
    reader = SqlAuditReader(database)
    _require_unrewritten(reader, signing_key)
    signed = sign_checkpoint(signing_key, reader.heads(), at=at)
    with unit_of_work(database) as uow:
        checkpoint = reader.add_checkpoint(signed, uow.conn)
        uow.audit.append(
            at=at,
            actor=actor,
            action="audit.checkpoint_signed",
            subject=f"checkpoint:{checkpoint.id}",
            payload={
                "key_id": checkpoint.key_id,
                "chains": len(checkpoint.heads),
                "records": sum(h.seq for h in checkpoint.heads),
            },
        )
    return checkpoint


def _require_unrewritten(reader: SqlAuditReader, signing_key: Ed25519PrivateKey) -> None:
    problem = reader.signed_heads_still_hold(TrustedKeys([signing_key.public_key()]))
    if problem is not None:
        raise Refused(problem, reason_code="AUDIT_LOG_REWRITTEN")


def audit_reader(db_url: str | None) -> tuple[SqlAuditReader, Database]:
    database = open_database(db_url)
    return SqlAuditReader(database), database


def freeze_url_for(key: bytes, base: str, account_id: str, dedupe_key: str, *, at: datetime) -> str:
    """The "not me? freeze now" link for a notification: one single-use token per
    notification (its id follows from the dedupe key), valid for a week from `at`."""
    token_id = sha256_hex(dedupe_key.encode())[:16]
    token = mint_freeze_token(key, account_id, at=at, token_id=token_id)
    return f"{base}{'&' if '?' in base else '?'}token={token}"


def build_dispatcher(
    database: Database,
    settings: NotifySettings,
    *,
    clock: Callable[[], datetime] | None = None,
    worker: str | None = None,
) -> Dispatcher:
    """A dispatcher over the outbox with the configured channels."""
    from walletguard.notify.channels import AppriseChannel, WebhookChannel  # HTTP, Apprise

    keys = key_store()
    now = clock or (lambda: datetime.now(UTC))
    channels: dict[str, Channel] = {}
    if settings.push_url:
        active = [(kid, keys.secret(f"webhook-{kid}")) for kid in settings.webhook_keys]
        channels["push"] = WebhookChannel(settings.push_url, active, clock=now)
    if settings.email_url:
        channels["email"] = AppriseChannel("email", settings.email_url)
    if settings.sms_url:
        channels["sms"] = AppriseChannel("sms", settings.sms_url)
    freeze_key = keys.secret("freeze_link")

    def render_entry(entry: OutboxEntry, at: datetime) -> Message:
        note = entry.notification
        url = freeze_url_for(
            freeze_key, settings.freeze_url, note.account_id, note.dedupe_key, at=at
        )
        return render(note.template, note.params, language=entry.language, freeze_url=url)

    return Dispatcher(
        lambda: SqlUnitOfWork(database),
        channels,
        render_entry,
        clock=now,
        retry=settings.retry,
        worker=worker or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}",
    )


@dataclass(frozen=True)
class EvidenceExport:
    data: bytes
    scope: Scope
    counts: dict[str, int]
    records: int
    key_id: str
    created_keys: list[Path]


def export_evidence(
    db_url: str | None,
    *,
    account_id: str | None,
    case_id: str | None,
    actor: str,
    at: datetime,
) -> EvidenceExport:
    """Build the evidence package of an account or a case (see `export_evidence_from`)
    with the installation's audit key."""
    database = open_database(db_url)
    try:
        return export_evidence_from(
            database, key_store(), account_id=account_id, case_id=case_id, actor=actor, at=at
        )
    finally:
        database.dispose()


def export_evidence_from(
    database: Database,
    store: KeyStore,
    *,
    account_id: str | None,
    case_id: str | None,
    actor: str,
    at: datetime,
) -> EvidenceExport:
    """Build the evidence package of an account or a case. The export is itself audited;
    the package carries a checkpoint signed (with `store`'s `audit` key) after its records
    were read."""
    signing_key = store.signing_key("audit")
    _require_unrewritten(SqlAuditReader(database), signing_key)  # before the export is recorded
    scope = resolve_scope(database, account_id=account_id, case_id=case_id)
    require_sealed(database, scope)  # a refused export is not recorded as made
    with unit_of_work(database) as uow:
        uow.audit.append(
            at=at,
            actor=actor,
            action="evidence.exported",
            subject=f"{scope.kind}:{scope.id}",
            payload={"account_id": scope.account_id},
        )
    sections, records = collect(database, scope)
    # audited like any checkpoint, so that deleting its row is seen
    checkpoint = sign_heads(database, store, actor=actor, at=at)
    data = build_package(scope, sections, records, checkpoint, signing_key, at=at)
    return EvidenceExport(
        data,
        scope,
        {name: len(rows) for name, rows in sections.items()},
        len(records),
        checkpoint.key_id,
        store.created,
    )


def dispatcher_for(
    db_url: str | None, settings: NotifySettings, *, clock: Callable[[], datetime] | None = None
) -> tuple[Dispatcher, Database]:
    """A dispatcher on the database at `db_url` (the caller disposes of the database)."""
    database = open_database(db_url)
    return build_dispatcher(database, settings, clock=clock), database


def set_contacts(
    db_url: str | None,
    account_id: str,
    *,
    email: str | None,
    phone: str | None,
    actor: str,
    at: datetime,
) -> Contacts:
    """Change where the user gets e-mail and SMS: a channel not given stays as it was, an
    empty one is removed (audited without the addresses). The account must be one
    walletguard has seen; an e-mail address is `name@domain.tld` without spaces, a phone
    number E.164 (`+` and 8-15 ASCII digits). Returns the contacts now."""
    if email is None and phone is None:
        raise InvalidInput(
            [FieldProblem("email", "give an e-mail address, a phone number or both ('' removes)")]
        )
    if problems := Contacts(email or None, phone or None).problems():
        raise InvalidInput(problems)
    with unit_of_work(db_url) as uow:
        if uow.accounts.get(account_id) is None:
            raise NotFound(f"no account {account_id}: walletguard has never seen an event for it")
        current = uow.outbox.contacts(account_id)
        now_set = Contacts(
            current.email if email is None else email or None,
            current.phone if phone is None else phone or None,
        )
        uow.outbox.set_contacts(account_id, now_set, at=at)
        uow.audit.append(
            at=at,
            actor=actor,
            action="notify.contacts_set",
            subject=f"account:{account_id}",
            payload={"email": now_set.email is not None, "phone": now_set.phone is not None},
        )
    return now_set


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
    # Chargebacks and fraud reports come from the replayed history (found above): the
    # database adds only its reviewers' verdicts, which no event carries.
    found += [label for label in stored_labels(database) if label.source is LabelSource.CASE]
    if labels_file is not None:
        times = dict(zip(data.event_ids, data.times, strict=True))
        try:
            with labels_file.open("rb") as lines:
                found += read_labels_file(lines, times, labels_delay_seconds)
        except OSError as exc:
            raise ConfigurationError(f"{labels_file}: cannot read: {exc.strerror}") from None
    return train_model(data, LabelBook(found), plan, created_by=actor), data


# -- evaluation ------------------------------------------------------------------------------


def run_facts(database: Database) -> RunFacts:
    """What an evaluation reads from the store once its replay is committed."""
    from walletguard.storage.repositories.evaluation import SqlRunFacts

    return SqlRunFacts(database)
