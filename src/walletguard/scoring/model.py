"""The model registry's values and ports.

Invariants:
- a registered model is immutable except for its status (and who changed it, when);
- at most one model is the champion; its version is what decisions record;
- shadow models are scored and recorded in the decision trace, never acted on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class ModelStatus(StrEnum):
    CANDIDATE = "candidate"
    """Trained and registered; not scored by the engine."""
    SHADOW = "shadow"
    CHAMPION = "champion"
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """One trained model as the registry keeps it."""

    version: str
    features: tuple[str, ...]
    event_types: tuple[str, ...]
    fingerprint: str
    """SHA-256 over the training rows (event ids, labels, feature values) and the plan."""
    metrics: dict[str, Any]
    params: dict[str, Any]
    model_text: str
    """LightGBM's own model text: everything needed to score and explain."""
    created_at: datetime
    created_by: str
    status: ModelStatus = ModelStatus.CANDIDATE
    status_changed_at: datetime | None = None
    status_changed_by: str | None = None
    promoted_at: datetime | None = None
    promoted_by: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)


class ModelRegistry(Protocol):
    """Port: where models are kept (SQL in `storage/repositories/models.py`)."""

    def get(self, version: str) -> ModelRecord | None: ...

    def save(self, record: ModelRecord) -> None: ...

    def all(self) -> list[ModelRecord]:
        """Every model, newest first."""

    def with_status(self, *statuses: ModelStatus) -> list[ModelRecord]: ...
