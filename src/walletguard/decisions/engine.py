"""The decision engine: one pipeline behind every door.

    validate → idempotency → enrich → features (as of before the event) → rules + model
    → policy → guards → effects (one unit of work) → decision record
    → features, live graph (add event)

The model (`scoring/`) scores events of its types with the same context the rules
read; its points join the rules' score, shadow models are only recorded. The live
graph (`graph/`) learns each event after its decision, like the feature store.

`decide` runs one event in its own unit of work and only teaches the feature
store once that unit of work has committed. `decide_batch` runs many events in
one unit of work (replay, back-tests, the API's group commits), each inside a savepoint:
an event that fails — refused, or meeting a defect (`EVENT_FAULTS`) — is undone alone and
reported, the others stand.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from walletguard.accounts.model import AccountSecurity
from walletguard.decisions.context import DecisionContext
from walletguard.decisions.effects import Stage
from walletguard.decisions.model import Decision, RuleHit, Trace
from walletguard.decisions.outcome import Outcome
from walletguard.decisions.policy import Policy
from walletguard.decisions.ports import UnitOfWork
from walletguard.decisions.settings import EngineSettings
from walletguard.enrich.ip_intel import IpFacts, IpIntel
from walletguard.enrich.lists import ListMatcher
from walletguard.enrich.location import NOWHERE, Located, locate
from walletguard.events.model import LABELS, EventType, WalletEvent
from walletguard.features.learning import learns
from walletguard.features.names import WindowFeature
from walletguard.features.store import EventKeys, FeatureStore
from walletguard.graph.live import LiveGraph, counterparty_node
from walletguard.kernel.errors import Conflict, WalletguardError
from walletguard.rules.ruleset import Rule, RuleMode, Ruleset

if TYPE_CHECKING:
    from walletguard.scoring.anomaly import PopulationStats
    from walletguard.scoring.serving import ModelOutcome, ModelRunner

_UNKNOWN_IP = IpFacts.unknown()
log = logging.getLogger(__name__)

EVENT_FAULTS: tuple[type[BaseException], ...] = (
    ArithmeticError,
    AssertionError,
    AttributeError,
    LookupError,
    RecursionError,
    TypeError,
    ValueError,
)
"""What a defect meeting one event's data raises. In a batch, that event fails alone (undone,
logged, reported as `internal_error`) and the others stand. An outage (the database, Redis)
raises none of these: it fails the whole batch, which is then sent again."""


INTERNAL_ERROR = "internal_error"
"""The `Failure` code of an event that met a defect (see `EVENT_FAULTS`)."""


@dataclass(frozen=True, slots=True)
class Failure:
    """An event the engine could not decide, and why."""

    event_id: str
    code: str
    message: str


class Engine:
    """Decides events. Build it with `walletguard.composition` rather than by hand."""

    def __init__(
        self,
        *,
        unit_of_work: Callable[[], UnitOfWork],
        features: FeatureStore,
        ip_intel: IpIntel,
        ruleset: Ruleset,
        policy: Policy,
        stages: Callable[[Engine], list[Stage]],
        settings: EngineSettings | None = None,
        model_version: str | None = None,
        models: ModelRunner | None = None,
        graph: LiveGraph | None = None,
        population: PopulationStats | None = None,
        refreshers: Sequence[Callable[[Engine, UnitOfWork], None]] = (),
    ) -> None:
        self._uow_factory = unit_of_work
        self.features = features
        self._ip = ip_intel
        self.policy = policy
        self.settings = settings or EngineSettings()
        self.model_version = model_version
        self._lists = ListMatcher([])
        self._lists_version = -1
        self.ruleset = ruleset
        self.shadow: Ruleset | None = None
        self.models = models if models is not None and models.models else None
        self.graph = graph
        self.population = population
        self._refreshers = tuple(refreshers)
        self.observers: list[Callable[[DecisionContext], None]] = []
        """Called with each event's context after its rules ran (training recorders)."""
        self._wanted: dict[EventType, tuple[WindowFeature, ...]] = {}
        self._extra_wanted: dict[EventType, dict[str, WindowFeature]] = {}
        self.use_ruleset(ruleset)
        self.before_batch: Callable[[Engine, UnitOfWork], None] | None = None
        """Called at the start of a unit of work (e.g. to pick up a promoted ruleset)."""
        self.refresh_seconds = 0.0
        """How often lists and `before_batch` are checked: every unit of work (0), or at most
        once in this many seconds (a busy service)."""
        self._refreshed_at = float("-inf")
        self.stages = stages(self)
        self.engine_seconds: list[float] = []
        """Time spent deciding each event (excluding durable writes), when `timing` is on."""
        self.timing = False

    def use_ruleset(self, ruleset: Ruleset, shadow: Ruleset | None = None) -> None:
        """Decide with `ruleset` from now on, evaluating `shadow` beside it without acting on
        it (both rulesets' features start being kept)."""
        self.ruleset = ruleset
        self.shadow = shadow
        self._plan_features()

    def use_models(self, models: ModelRunner | None) -> None:
        """Score with these models from now on (their features start being kept)."""
        self.models = models if models is not None and models.models else None
        self._plan_features()

    def want_features(self, features: Iterable[WindowFeature], types: Iterable[EventType]) -> None:
        """Keep and read these windowed features for events of `types` too (recorders)."""
        features = list(features)
        for t in types:
            self._extra_wanted.setdefault(t, {}).update((f.name, f) for f in features)
        self._plan_features()

    def _plan_features(self) -> None:
        ruleset, models, shadow = self.ruleset, self.models, self.shadow
        self.features.maintain(ruleset.window_features())
        if shadow is not None:
            self.features.maintain(shadow.window_features())
        if models is not None:
            self.features.maintain(models.window_features())
        for extra in self._extra_wanted.values():
            self.features.maintain(extra.values())
        wanted = {}
        for t in EventType:
            found = {f.name: f for f in ruleset.window_features(t)}
            if shadow is not None:
                found.update((f.name, f) for f in shadow.window_features(t))
            if models is not None:
                found.update((f.name, f) for f in models.window_features_for(t.value))
            found.update(self._extra_wanted.get(t, {}))
            wanted[t] = tuple(found.values())
        self._wanted = wanted

    # -- doors -------------------------------------------------------------------------

    def decide(self, event: WalletEvent) -> Decision:
        """Decide one event durably. The same `event_id` gets the same decision; the same id
        with a different body raises `Conflict`."""
        uow = self._uow_factory()
        try:
            self._refresh(uow)
            decision, learn = self._decide(event, uow)
            uow.commit()
        except BaseException:
            uow.rollback()
            raise
        finally:
            uow.close()
        if learn is not None:
            learn()
            self.features.flush()
        return decision

    def decide_batch(self, events: Iterable[WalletEvent | Failure]) -> Iterator[Decision | Failure]:
        """Decide many events in one unit of work, committed when the input ends.

        Yields one result per input, in order. Features are updated as each event is decided,
        so later events see earlier ones, and are all sent to a shared store before the
        commit; if the final commit fails the exception propagates.
        """
        items = list(events)
        with self.batch(items) as decide:
            results = [decide(item) for item in items]
        yield from results

    @contextmanager
    def batch(
        self, expected: Sequence[WalletEvent | Failure]
    ) -> Iterator[Callable[[WalletEvent | Failure], Decision | Failure]]:
        """One unit of work, committed when the block ends without an error, in which the
        caller decides events one at a time with the function it yields.

        `expected` are the events the caller means to decide (their state is loaded in bulk
        first); events not in it may be decided too (e.g. answers to challenges raised in
        the batch, interleaved in event time), at the cost of a look-up or two. Each event
        runs in a savepoint: one that fails is undone alone and returned as a `Failure`.
        """
        uow = self._uow_factory()
        try:
            self._refresh(uow)
            uow.prefetch([i for i in expected if not isinstance(i, Failure)])

            def decide(item: WalletEvent | Failure) -> Decision | Failure:
                if isinstance(item, Failure):
                    return item
                try:
                    with uow.savepoint():
                        decision, learn = self._decide(item, uow)
                except WalletguardError as exc:
                    return Failure(item.event_id, exc.code, exc.message)
                except EVENT_FAULTS:
                    log.exception("deciding event %s failed; it was undone", item.event_id)
                    return Failure(
                        item.event_id,
                        INTERNAL_ERROR,
                        "the event could not be decided (an internal error, logged); "
                        "nothing of it was stored",
                    )
                if learn is not None:
                    learn()
                return decision

            yield decide
            self.features.flush()  # a shared store sends the last event's update with it
            uow.commit()
        except BaseException:
            uow.rollback()
            raise
        finally:
            uow.close()

    # -- the pipeline ---------------------------------------------------------------------

    def refresh_soon(self) -> None:
        """Check lists and rulesets at the next unit of work (this process just changed them)."""
        self._refreshed_at = float("-inf")

    def _refresh(self, uow: UnitOfWork) -> None:
        self._refresh_lists(uow)
        for refresh in self._refreshers:
            refresh(self, uow)

    def _refresh_lists(self, uow: UnitOfWork) -> None:
        now = time.monotonic()
        if now - self._refreshed_at < self.refresh_seconds:
            return
        self._refreshed_at = now
        if self.before_batch is not None:
            self.before_batch(self, uow)
        version = uow.lists.version()
        if version != self._lists_version:
            self._lists = ListMatcher(uow.lists.all())
            self._lists_version = version

    def locate(self, event: WalletEvent) -> Located:
        """Where an event happened (GPS, else the IP country's reference point)."""
        return locate(event, self._ip.lookup(event.ip) if event.ip is not None else _UNKNOWN_IP)

    def _decide(
        self, event: WalletEvent, uow: UnitOfWork
    ) -> tuple[Decision, Callable[[], None] | None]:
        started = time.perf_counter()
        stored = uow.decisions.get(event.event_id)
        if stored is not None:
            if stored.payload_hash != event.payload_hash:
                raise Conflict(f"event {event.event_id} was already decided with a different body")
            return stored.decision, None
        keys = EventKeys(event)
        ip = self._ip.lookup(event.ip) if event.ip is not None else _UNKNOWN_IP
        snapshot = self.features.read(event, keys, self._wanted[event.type])
        ctx = DecisionContext(
            event,
            keys,
            ip,
            snapshot,
            self._lists.matches(event),
            uow,
            self.settings,
            self.graph,
            self.population,
        )
        reported = ctx.reported_event if event.type in LABELS else None
        if reported is not None:
            keys.reported = EventKeys(reported)
        active = []
        hits = []
        for rule in self.ruleset.by_type[event.type]:
            if rule.when.fn(ctx):
                if rule.mode is RuleMode.ACTIVE:
                    active.append(rule)
                hits.append(rule)
        shadow_hits = []
        if self.shadow is not None:
            shadow_hits = [r for r in self.shadow.by_type[event.type] if r.when.fn(ctx)]
        for observe in self.observers:
            observe(ctx)
        models = self.models
        scored: ModelOutcome | None = None
        if models is not None and event.type in models.event_types:
            scored = models.score(ctx, self.policy.model.points)
            assessment = self.policy.assess(event.type, ctx, active, scored.points, scored.reasons)
        else:
            assessment = self.policy.assess(event.type, ctx, active)
        account = ctx.account or AccountSecurity(event.account_id, created_at=event.occurred_at)
        out = Outcome(assessment, account)
        for stage in self.stages:
            stage.guard(ctx, out)
        for stage in self.stages:
            stage.apply(ctx, out)
        decision = Decision(
            event_id=event.event_id,
            decision=out.verdict.value,
            risk_level=out.level.value,
            score=out.score,
            reasons=out.reasons,
            actions=out.actions,
            account_state=out.account.state.value,
            ruleset_version=self.ruleset.version,
            model_version=scored.version
            if scored is not None and scored.version
            else self.model_version,
            challenge_id=out.challenge_id,
            locked_until=out.locked_until.isoformat() if out.locked_until else None,
            hold_id=out.hold_id,
            case_id=out.case_id,
        )
        trace = Trace(
            hits=[_hit(r, r.mode.value, ctx) for r in hits],
            raw_score=out.raw_score,
            guards=out.guards,
        )
        if shadow_hits:
            assert self.shadow is not None
            trace.hits += [_hit(r, f"shadow:{self.shadow.version}", ctx) for r in shadow_hits]
        if scored is not None:
            trace.model_score = scored.probability
            trace.model_points = scored.points
            trace.shadow_scores = scored.shadow or None
        uow.decisions.add(event, decision, trace)
        # What the feature store learns: the rule the restart's catch-up replay applies too.
        learn_allowed = learns(event, decision.decision)
        where = ctx.located if learn_allowed else None
        named = ctx.fraud_named if reported is not None else ()
        features = self.features
        graph = self.graph
        population = self.population

        def learn() -> None:
            features.update(event, keys, learn=learn_allowed, where=where or NOWHERE, reports=named)
            if graph is not None:
                graph.observe(event, moved=learn_allowed)
                if reported is not None:
                    payee = counterparty_node(reported)
                    if payee is not None:
                        graph.mark_fraud([payee])
            if population is not None and learn_allowed:
                population.observe(event.type, keys.units)

        if self.timing:
            self.engine_seconds.append(time.perf_counter() - started)
        return decision, learn


def _hit(rule: Rule, mode: str, ctx: DecisionContext) -> RuleHit:
    return RuleHit(
        rule.id, rule.code, rule.score, mode, {s.name: _plain(s.getter(ctx)) for s in rule.names}
    )


def _plain(value: object) -> object:
    """A trace value as JSON can hold it (amounts as exact strings)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
