"""Scoring events with the champion (acted on) and shadow models (only recorded).

The champion's probability becomes score points through the policy's mapping; its
explanation (tree SHAP through LightGBM's `pred_contrib`, ~2 ms) is computed only
when the model added points, so the common case stays a compiled-tree walk.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from walletguard.decisions.model import Reason
from walletguard.rules.types import Catalogue
from walletguard.scoring.explain import explain
from walletguard.scoring.model import ModelRecord, ModelStatus
from walletguard.scoring.trees import compile_trees, split_features
from walletguard.scoring.vectors import Vectorizer

if TYPE_CHECKING:
    import lightgbm as lgb


def _sigmoid(raw: float) -> float:
    if raw >= 0:
        return 1.0 / (1.0 + math.exp(-raw))
    e = math.exp(raw)
    return e / (1.0 + e)


class LoadedModel:
    """A registered model ready to score: compiled trees plus a booster for explanations."""

    def __init__(self, record: ModelRecord, catalogue: Catalogue) -> None:
        self.record = record
        self.version = record.version
        self.event_types = frozenset(record.event_types)
        import lightgbm  # only where a model is loaded: it costs ~1 s at import

        self._booster: lgb.Booster = lightgbm.Booster(model_str=record.model_text)
        dump = self._booster.dump_model()
        self._raw = compile_trees(dump)
        self.vectorizer = Vectorizer(record.features, catalogue, used=split_features(dump))
        self.descriptions = {s.name: s.description for s in self.vectorizer.specs}

    def probability(self, vector: Sequence[float]) -> float:
        return _sigmoid(self._raw(vector))

    def contributions(self, vector: Sequence[float]) -> list[float]:
        """Per-feature contributions to the raw score (log-odds); the bias is left out."""
        row = np.asarray([vector], dtype=np.float64)
        out = self._booster.predict(row, pred_contrib=True, num_threads=1)
        return [float(v) for v in out[0][:-1]]

    def predict_many(self, rows: Sequence[Sequence[float]]) -> list[float]:
        """Probabilities for many vectors at once (batch evaluation)."""
        if not rows:
            return []
        return [float(p) for p in self._booster.predict(np.asarray(rows, dtype=np.float64))]


@dataclass(slots=True)
class ModelOutcome:
    """What the models said about one event."""

    version: str | None
    probability: float | None
    points: int
    reasons: list[Reason]
    shadow: dict[str, float] = field(default_factory=dict)


class ModelRunner:
    """The champion and the shadows the engine scores with."""

    def __init__(
        self,
        champion: LoadedModel | None,
        shadows: Sequence[LoadedModel] = (),
    ) -> None:
        self.champion = champion
        self.shadows = tuple(shadows)
        types: set[Any] = set()
        for model in self.models:
            types |= model.event_types
        self.event_types = frozenset(types)

    @classmethod
    def from_records(cls, records: Sequence[ModelRecord], catalogue: Catalogue) -> ModelRunner:
        champion = None
        shadows = []
        for record in records:
            if record.status is ModelStatus.CHAMPION:
                champion = LoadedModel(record, catalogue)
            elif record.status is ModelStatus.SHADOW:
                shadows.append(LoadedModel(record, catalogue))
        return cls(champion, shadows)

    @property
    def models(self) -> list[LoadedModel]:
        return ([self.champion] if self.champion else []) + list(self.shadows)

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(m.version for m in self.models)

    def window_features(self) -> list[Any]:
        found: dict[str, Any] = {}
        for model in self.models:
            for feature in model.vectorizer.window_features():
                found[feature.name] = feature
        return list(found.values())

    def window_features_for(self, event_type: str) -> list[Any]:
        found: dict[str, Any] = {}
        for model in self.models:
            if event_type in model.event_types:
                for feature in model.vectorizer.window_features():
                    found[feature.name] = feature
        return list(found.values())

    def score(self, ctx: Any, to_points: Callable[[float], int]) -> ModelOutcome:
        """Score one event: points and reasons from the champion, probabilities of the
        shadows for the trace."""
        kind = ctx.event.type.value
        outcome = ModelOutcome(None, None, 0, [])
        champion = self.champion
        if champion is not None and kind in champion.event_types:
            vector = champion.vectorizer(ctx)
            p = champion.probability(vector)
            points = to_points(p)
            outcome.version = champion.version
            outcome.probability = p
            outcome.points = points
            if points > 0:
                outcome.reasons = explain(
                    champion.vectorizer.names,
                    champion.contributions(vector),
                    champion.vectorizer.raw_values(ctx),
                    ctx.event,
                    points,
                    champion.descriptions,
                    p,
                )
        for shadow in self.shadows:
            if kind in shadow.event_types:
                outcome.shadow[shadow.version] = round(
                    shadow.probability(shadow.vectorizer(ctx)), 6
                )
        return outcome


class ModelRefresher:
    """Engine refresher: reloads the champion and shadows when the registry changes.

    Checks at most once per `interval` seconds (one small query), so a promotion made by
    another process takes effect within that time."""

    def __init__(self, catalogue: Catalogue, interval: float = 1.0) -> None:
        self._catalogue = catalogue
        self._interval = interval
        self._state: tuple[tuple[str, str], ...] | None = None
        self._checked = -math.inf

    def __call__(self, engine: Any, uow: Any) -> None:
        now = time.monotonic()
        if now - self._checked < self._interval:
            return
        self._checked = now
        state = uow.models.live_state()
        if state == self._state:
            return
        records = uow.models.with_status(ModelStatus.CHAMPION, ModelStatus.SHADOW)
        engine.use_models(ModelRunner.from_records(records, self._catalogue))
        self._state = state
