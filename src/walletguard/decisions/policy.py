"""The graded policy: score → risk level → decision and actions for each kind of event.

Read from YAML (`policy.yaml` beside this module is the default). Where a
challenge would be asked for but a rule that fired says a step-up does not
mitigate it (`step_up: false`), the policy holds the operation for review instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from walletguard.decisions.model import Action, Reason, Verdict
from walletguard.events.model import EventType
from walletguard.kernel.canonical import digest
from walletguard.kernel.errors import ConfigurationError
from walletguard.kernel.risk import RiskLevel
from walletguard.kernel.strict_yaml import load_yaml
from walletguard.rules.compiler import Compiled, compile_condition
from walletguard.rules.ruleset import Rule
from walletguard.rules.types import Catalogue

STEP_UP_METHODS = ("sms_otp", "email_otp", "totp", "biometric", "face", "manual_kyc")
_AUTH_ATTEMPTS = frozenset({EventType.LOGIN, EventType.TXN_PASSWORD_VERIFY})
"""Where a failed attempt changes nothing for the account: nobody got in. Repeated failures
are the lock-out's business, not a reason to restrict or freeze the real owner."""


@dataclass(frozen=True, slots=True)
class Cell:
    verdict: Verdict
    actions: tuple[Action, ...]


@dataclass(frozen=True, slots=True)
class StepUpChoice:
    when: Compiled | None
    method: str


class Assessment:
    """The policy's answer for one event, before domain guards and effects."""

    __slots__ = ("actions", "fired", "level", "raw_score", "reasons", "score", "step_up", "verdict")

    def __init__(
        self,
        score: int,
        raw_score: int,
        level: RiskLevel,
        verdict: Verdict,
        actions: list[str],
        reasons: list[Reason],
        step_up: str | None,
        fired: list[Rule],
    ) -> None:
        self.score = score
        self.raw_score = raw_score
        self.level = level
        self.verdict = verdict
        self.actions = actions
        self.reasons = reasons
        self.step_up = step_up
        self.fired = fired


@dataclass(frozen=True, slots=True)
class ModelMapping:
    """How the champion model's fraud probability becomes score points:
    `round(weight × probability)`, or nothing under `min_probability`. With the default
    weight of 1000 the points read as "probability in thousandths", so the policy's
    thresholds are probabilities too (medium = 30 %, high = 60 %, critical = 85 %)."""

    weight: int = 1000
    min_probability: float = 0.1

    def points(self, probability: float) -> int:
        if probability < self.min_probability:
            return 0
        return round(self.weight * probability)


class Policy:
    def __init__(
        self,
        thresholds: dict[RiskLevel, int],
        groups: dict[EventType, str],
        matrix: dict[str, dict[RiskLevel, Cell]],
        step_up: list[StepUpChoice],
        version: str,
        model: ModelMapping | None = None,
    ) -> None:
        self._ladder = sorted(((s, lvl) for lvl, s in thresholds.items()), key=lambda x: -x[0])
        self._cells = {
            event_type: matrix[groups.get(event_type, "other")] for event_type in EventType
        }
        self._failed_access = matrix.get("access_failed")
        self._step_up = step_up
        self.version = version
        self.model = model or ModelMapping()

    def level_for(self, score: int) -> RiskLevel:
        for minimum, level in self._ladder:
            if score >= minimum:
                return level
        return RiskLevel.NONE

    def assess(
        self,
        event_type: EventType,
        context: Any,
        fired: list[Rule],
        extra: int = 0,
        extra_reasons: Sequence[Reason] = (),
    ) -> Assessment:
        """Grade the active rules that fired (plus `extra` score, e.g. from a model, whose
        `extra_reasons` join the rules' reasons, ordered by weight)."""
        raw = sum(rule.score for rule in fired) + extra
        score = max(0, min(1000, raw))
        level = self.level_for(score)
        for rule in fired:
            if rule.floor is not None:
                level = level.at_least(rule.floor)
        row = self._cells[event_type]
        if self._failed_access is not None and event_type in _AUTH_ATTEMPTS:
            auth = getattr(getattr(context, "event", None), "auth", None)
            if auth is not None and not auth.success:
                row = self._failed_access
        cell = row[level]
        verdict = cell.verdict
        actions = [a.value for a in cell.actions]
        step_up = None
        if verdict is Verdict.CHALLENGE:
            if any(not rule.step_up for rule in fired):
                verdict = Verdict.REVIEW
                if Action.OPEN_CASE.value not in actions:
                    actions.append(Action.OPEN_CASE.value)
            else:
                step_up = self.choose_step_up(context)
                actions.append(f"step_up:{step_up}")
        ordered = sorted(fired, key=lambda r: -r.score)
        reasons = [Reason(r.code, r.reason.render(context), r.score) for r in ordered]
        if extra_reasons:
            reasons = sorted([*reasons, *extra_reasons], key=lambda r: -r.score)
        return Assessment(score, raw, level, verdict, actions, reasons, step_up, fired)

    def choose_step_up(self, context: Any) -> str:
        for choice in self._step_up:
            if choice.when is None or choice.when.fn(context):
                return choice.method
        return "sms_otp"


def _fail(source: str, message: str) -> ConfigurationError:
    return ConfigurationError(f"{source}: {message}")


def parse_policy(text: str, catalogue: Catalogue, *, source: str = "policy") -> Policy:
    """Parse a policy document; raises `ConfigurationError` naming what is wrong."""
    doc = load_yaml(text, source)
    if not isinstance(doc, dict):
        raise _fail(source, "a policy is a mapping")
    thresholds: dict[RiskLevel, int] = {RiskLevel.NONE: 0}
    for name, value in (doc.get("thresholds") or {}).items():
        try:
            level = RiskLevel(name)
        except ValueError:
            raise _fail(source, f"thresholds: unknown level {name!r}") from None
        if not isinstance(value, int) or not 0 <= value <= 1000:
            raise _fail(source, f"thresholds.{name}: must be a whole number 0–1000")
        thresholds[level] = value
    ordered = [thresholds.get(lvl) for lvl in RiskLevel]
    if None in ordered or ordered != sorted(ordered):  # type: ignore[type-var]
        raise _fail(source, "thresholds: every level needs one, in increasing order")
    groups: dict[EventType, str] = {}
    for type_name, group in (doc.get("groups") or {}).items():
        try:
            groups[EventType(type_name)] = str(group)
        except ValueError:
            raise _fail(source, f"groups: unknown event type {type_name!r}") from None
    matrix: dict[str, dict[RiskLevel, Cell]] = {}
    for group, row in (doc.get("matrix") or {}).items():
        if not isinstance(row, dict):
            raise _fail(source, f"matrix.{group}: must map levels to decisions")
        cells: dict[RiskLevel, Cell] = {}
        for level in RiskLevel:
            spec = row.get(level.value)
            if not isinstance(spec, dict) or "decision" not in spec:
                raise _fail(source, f"matrix.{group}.{level.value}: needs a decision")
            try:
                verdict = Verdict(spec["decision"])
                actions = tuple(Action(a) for a in spec.get("actions", []))
            except ValueError as exc:
                raise _fail(source, f"matrix.{group}.{level.value}: {exc}") from None
            cells[level] = Cell(verdict, actions)
        matrix[group] = cells
    if "other" not in matrix:
        raise _fail(source, "matrix: needs an 'other' row for event types not in a group")
    missing = {g for g in groups.values() if g not in matrix}
    if missing:
        raise _fail(source, f"groups name rows the matrix does not have: {sorted(missing)}")
    step_up: list[StepUpChoice] = []
    for i, item in enumerate(doc.get("step_up") or []):
        method = item.get("method") if isinstance(item, dict) else None
        if method not in STEP_UP_METHODS:
            raise _fail(source, f"step_up[{i}]: method must be one of {STEP_UP_METHODS}")
        when = item.get("when")
        compiled = (
            compile_condition(when, catalogue, where=f"{source}: step_up[{i}]") if when else None
        )
        step_up.append(StepUpChoice(compiled, method))
    model = _model_mapping(source, doc.get("model"))
    return Policy(thresholds, groups, matrix, step_up, digest(doc)[:16], model)


def _model_mapping(source: str, raw: Any) -> ModelMapping:
    if raw is None:
        return ModelMapping()
    if not isinstance(raw, dict) or set(raw) - {"weight", "min_probability"}:
        raise _fail(source, "model: a mapping with 'weight' and 'min_probability'")
    weight = raw.get("weight", 1000)
    floor = raw.get("min_probability", 0.1)
    if not isinstance(weight, int) or isinstance(weight, bool) or not 0 <= weight <= 1000:
        raise _fail(source, "model.weight: a whole number 0–1000")
    if not isinstance(floor, int | float) or isinstance(floor, bool) or not 0 <= floor <= 1:
        raise _fail(source, "model.min_probability: a number from 0 to 1")
    return ModelMapping(weight, float(floor))


def default_policy_text() -> str:
    return resources.files("walletguard.decisions").joinpath("policy.yaml").read_text()


def load_policy(path: Path | None, catalogue: Catalogue) -> Policy:
    """The policy in `path`, or the default one."""
    if path is None:
        return parse_policy(default_policy_text(), catalogue, source="default policy")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read the policy: {exc.strerror}") from None
    return parse_policy(text, catalogue, source=str(path))
