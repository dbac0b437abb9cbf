"""Point-in-time training rows, recorded from the engine as it decides events.

A `VectorRecorder` is an engine observer: for each event of the model's types it keeps
the vector the model would have been served at that moment (features as of just
before the event), with the event's id, time and account. Training code never
computes a feature itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from walletguard.scoring.vectors import Vectorizer


@dataclass
class TrainingSet:
    """Vectors in the order the events were decided."""

    features: tuple[str, ...]
    event_types: tuple[str, ...]
    rows: list[list[float]] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)


class VectorRecorder:
    """Records the model vector of every event of `event_types` (that `keep` accepts)."""

    def __init__(
        self,
        vectorizer: Vectorizer,
        event_types: Iterable[str],
        keep: Callable[[Any], bool] | None = None,
    ) -> None:
        self.vectorizer = vectorizer
        self.types = frozenset(event_types)
        self.keep = keep
        self.data = TrainingSet(vectorizer.names, tuple(sorted(self.types)))

    def __call__(self, ctx: Any) -> None:
        event = ctx.event
        if event.type.value not in self.types or (self.keep is not None and not self.keep(event)):
            return
        data = self.data
        data.rows.append(self.vectorizer(ctx))
        data.event_ids.append(event.event_id)
        data.times.append(event.ts)
        data.accounts.append(event.account_id)


def record_history(
    engine: Any,
    events: Iterable[Any],
    recorder: VectorRecorder,
    *,
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> TrainingSet:
    """Decide `events` (in order) with `engine` — a scratch engine, on a scratch
    database — recording the model vector of each event `recorder` wants. The engine
    keeps the recorder's features for those events while it runs."""
    from walletguard.events.model import EventType

    engine.want_features(
        recorder.vectorizer.window_features(), [EventType(t) for t in recorder.types]
    )
    engine.observers.append(recorder)
    try:
        batch: list[Any] = []
        for event in events:
            batch.append(event)
            if len(batch) >= batch_size:
                for _ in engine.decide_batch(batch):
                    pass
                if progress is not None:
                    progress(len(batch))
                batch = []
        if batch:
            for _ in engine.decide_batch(batch):
                pass
            if progress is not None:
                progress(len(batch))
    finally:
        engine.observers.remove(recorder)
    return recorder.data
