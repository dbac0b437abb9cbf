"""Ruleset versions: uploaded in shadow mode, promoted to active by a supervisor.

Exactly one version is active at a time; a shadow version is evaluated beside it and
recorded in decision traces, never acted on. Promotion retires the previous active one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from walletguard.kernel.errors import Conflict, NotFound
from walletguard.rules.ruleset import Ruleset, parse_ruleset
from walletguard.rules.types import Catalogue


class RulesetMode(StrEnum):
    ACTIVE = "active"
    SHADOW = "shadow"
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class StoredRuleset:
    version: str
    name: str
    content: str
    mode: RulesetMode
    created_at: datetime
    created_by: str
    promoted_at: datetime | None = None


class RulesetRepository(Protocol):
    def get(self, version: str) -> StoredRuleset | None: ...

    def save(self, ruleset: StoredRuleset) -> None: ...

    def all(self) -> list[StoredRuleset]: ...


def upload(
    repo: RulesetRepository,
    text: str,
    catalogue: Catalogue,
    *,
    by: str,
    at: datetime,
    source: str = "upload",
) -> tuple[StoredRuleset, Ruleset]:
    """Validate and store a ruleset as shadow. Uploading a version that exists returns it."""
    ruleset = parse_ruleset(text, catalogue, source=source)
    existing = repo.get(ruleset.version)
    if existing is not None:
        return existing, ruleset
    stored = StoredRuleset(ruleset.version, ruleset.name, text, RulesetMode.SHADOW, at, by)
    for other in repo.all():
        if other.mode is RulesetMode.SHADOW:
            repo.save(replace(other, mode=RulesetMode.RETIRED))
    repo.save(stored)
    return stored, ruleset


def promote(repo: RulesetRepository, version: str, *, at: datetime) -> StoredRuleset:
    """Make `version` the active ruleset; the previously active one is retired."""
    target = repo.get(version)
    if target is None:
        raise NotFound(f"no ruleset version {version}")
    if target.mode is RulesetMode.ACTIVE:
        raise Conflict(f"ruleset {version} is already active")
    for other in repo.all():
        if other.mode is RulesetMode.ACTIVE:
            repo.save(replace(other, mode=RulesetMode.RETIRED))
    promoted = replace(target, mode=RulesetMode.ACTIVE, promoted_at=at)
    repo.save(promoted)
    return promoted


def in_mode(repo: RulesetRepository, mode: RulesetMode) -> StoredRuleset | None:
    found = [r for r in repo.all() if r.mode is mode]
    return found[-1] if found else None
