"""Rulesets: versioned YAML documents of rules, loaded once and compiled.

A ruleset's version is the hash of its parsed content, so reformatting or
comments do not change it, and every decision records the version it used.
Shadow rules are evaluated and recorded but never change a decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from walletguard.events.model import (
    BINDING_CHANGES,
    LABELS,
    MONEY_IN,
    MONEY_OUT,
    SENSITIVE,
    EventType,
)
from walletguard.kernel.canonical import digest
from walletguard.kernel.errors import ConfigurationError
from walletguard.kernel.risk import RiskLevel
from walletguard.kernel.strict_yaml import Scopes, key_name, load_yaml
from walletguard.rules.compiler import Compiled, RuleError, compile_condition
from walletguard.rules.template import Template, TemplateError
from walletguard.rules.types import Catalogue, NameSpec

EVENT_GROUPS: dict[str, frozenset[EventType]] = {
    "all": frozenset(EventType),
    "money_out": MONEY_OUT,
    "money_in": MONEY_IN,
    "bindings": BINDING_CHANGES,
    "sensitive": SENSITIVE,
    "labels": LABELS,
    "credentials": frozenset(
        {
            EventType.PASSWORD_CHANGE,
            EventType.PASSWORD_RESET_REQUEST,
            EventType.PASSWORD_RESET_COMPLETE,
            EventType.PROFILE_CHANGE,
        }
    ),
}


class RuleMode(StrEnum):
    ACTIVE = "active"
    SHADOW = "shadow"


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule."""

    id: str
    code: str
    description: str
    on: frozenset[EventType]
    condition: str
    when: Compiled
    score: int
    floor: RiskLevel | None
    reason: Template
    tags: tuple[str, ...]
    mode: RuleMode
    step_up: bool
    """Whether a step-up verification mitigates this risk (an SMS code does not disprove a mule)."""

    @property
    def names(self) -> list[NameSpec]:
        """Every name the rule reads, for its trace."""
        seen = {spec.name: spec for spec in self.when.names}
        for spec in self.reason.names:
            seen.setdefault(spec.name, spec)
        return list(seen.values())


@dataclass(slots=True)
class Ruleset:
    """A loaded ruleset, with its rules indexed by the event types they apply to."""

    name: str
    version: str
    description: str
    rules: list[Rule]
    by_type: dict[EventType, tuple[Rule, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        index: dict[EventType, list[Rule]] = {t: [] for t in EventType}
        for rule in self.rules:
            for event_type in rule.on:
                index[event_type].append(rule)
        self.by_type = {t: tuple(rules) for t, rules in index.items()}

    def window_features(self, event_type: EventType | None = None) -> list[Any]:
        """The windowed features the rules (for one event type, or all) read."""
        rules: Iterable[Rule] = self.rules if event_type is None else self.by_type[event_type]
        found: dict[str, Any] = {}
        for rule in rules:
            for spec in rule.names:
                if spec.window_feature is not None:
                    found[spec.name] = spec.window_feature
        return list(found.values())


_RULE_KEYS = {
    "id",
    "code",
    "description",
    "on",
    "when",
    "score",
    "floor",
    "reason",
    "tags",
    "mode",
    "step_up",
}


def _problem(where: str, message: str) -> ConfigurationError:
    return ConfigurationError(f"{where}: {message}")


def _event_types(where: str, value: Any) -> frozenset[EventType]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise _problem(where, "'on' must name event types or groups")
    found: set[EventType] = set()
    for item in items:
        if not isinstance(item, str):
            raise _problem(where, f"'on': each item must be an event type or group, not {item!r}")
        if item in EVENT_GROUPS:
            found |= EVENT_GROUPS[item]
            continue
        try:
            found.add(EventType(item))
        except ValueError:
            known = ", ".join([*EVENT_GROUPS, *(t.value for t in EventType)])
            raise _problem(
                where, f"'on': unknown event type or group {item!r} (known: {known})"
            ) from None
    return frozenset(found)


def _rule(raw: Any, index: int, catalogue: Catalogue, source: str) -> Rule:
    if not isinstance(raw, dict):
        raise _problem(f"{source}: rule #{index + 1}", "must be a mapping")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id:
        raise _problem(f"{source}: rule #{index + 1}", "needs an 'id'")
    where = f"{source}: rule {rule_id}"
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise _problem(
            where, f"unknown keys {sorted(unknown, key=str)} (allowed: {sorted(_RULE_KEYS)})"
        )
    condition = raw.get("when")
    if not isinstance(condition, str) or not condition.strip():
        raise _problem(where, "needs a 'when' condition")
    score = raw.get("score", 0)
    if not isinstance(score, int) or isinstance(score, bool) or not -1000 <= score <= 1000:
        raise _problem(where, "'score' must be a whole number from -1000 to 1000")
    floor = raw.get("floor")
    if floor is not None:
        try:
            floor = RiskLevel(floor)
        except ValueError:
            raise _problem(
                where, f"'floor' must be one of {[lvl.value for lvl in RiskLevel]}"
            ) from None
    mode = raw.get("mode", "active")
    try:
        mode = RuleMode(mode)
    except ValueError:
        raise _problem(where, "'mode' must be active or shadow") from None
    reason_text = raw.get("reason") or raw.get("description") or rule_id
    try:
        reason = Template.compile(str(reason_text), catalogue)
    except TemplateError as exc:
        raise _problem(where, f"reason: {exc}") from None
    when = compile_condition(condition, catalogue, where=where)
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise _problem(where, "'tags' must be a list of words")
    step_up = raw.get("step_up", True)
    if not isinstance(step_up, bool):
        raise _problem(where, "'step_up' must be true or false")
    return Rule(
        id=rule_id,
        code=str(raw.get("code") or rule_id.upper()),
        description=str(raw.get("description", "")),
        on=_event_types(where, raw.get("on", "all")),
        condition=condition,
        when=when,
        score=score,
        floor=floor,
        reason=reason,
        tags=tuple(tags),
        mode=mode,
        step_up=step_up,
    )


def _rule_scopes(source: str) -> Scopes:
    """Each rule of the document, named as its errors name it (`rule r1`, or `rule #3`)."""

    def scopes(root: yaml.Node) -> Iterator[tuple[yaml.Node, str]]:
        if not isinstance(root, yaml.MappingNode):
            return
        for key, value in root.value:
            if key_name(key) == "rules" and isinstance(value, yaml.SequenceNode):
                for index, rule in enumerate(value.value):
                    yield rule, f"{source}: {_rule_label(rule, index)}"

    return scopes


def _rule_label(node: yaml.Node, index: int) -> str:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key_name(key) == "id" and isinstance(value, yaml.ScalarNode) and value.value:
                return f"rule {value.value}"
    return f"rule #{index + 1}"


def _on_as_read(key: Any) -> Any:
    """YAML 1.1 reads a bare `on:` key as the boolean true; a rule reads it as 'on'."""
    return "on" if key is True else key


def parse_ruleset(text: str, catalogue: Catalogue, *, source: str = "ruleset") -> Ruleset:
    """Parse and compile a ruleset document. Raises `ConfigurationError` / `RuleError`
    naming the rule and position of the first problem."""
    document = load_yaml(text, source, _rule_scopes(source), read_as=_on_as_read)
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise _problem(source, "a ruleset is a mapping with a 'rules' list")
    raw_rules = [
        {_on_as_read(key): value for key, value in raw.items()} if isinstance(raw, dict) else raw
        for raw in document["rules"]
    ]
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules):
        rule = _rule(raw, index, catalogue, source)
        if rule.id in seen:
            raise _problem(f"{source}: rule {rule.id}", "the id is used twice")
        seen.add(rule.id)
        rules.append(rule)
    version = digest({"name": document.get("name", ""), "rules": raw_rules})[:16]
    return Ruleset(
        name=str(document.get("name", Path(source).stem)),
        version=version,
        description=str(document.get("description", "")),
        rules=rules,
    )


def load_ruleset(path: Path, catalogue: Catalogue) -> Ruleset:
    """Load and compile the ruleset in `path`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read the ruleset: {exc.strerror}") from None
    return parse_ruleset(text, catalogue, source=str(path))


__all__ = [
    "EVENT_GROUPS",
    "Rule",
    "RuleError",
    "RuleMode",
    "Ruleset",
    "load_ruleset",
    "parse_ruleset",
]
