"""The value types of the rule language and the names it may refer to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol


class ValueType(StrEnum):
    BOOL = "bool"
    INT = "int"
    NUMBER = "number"
    MONEY = "money"
    STRING = "string"

    @property
    def numeric(self) -> bool:
        return self in (ValueType.INT, ValueType.NUMBER)


Getter = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class NameSpec:
    """A name rules can use: its type, how to read it from a decision context, what it means.

    Any value may be missing (None) at run time: a comparison with a missing value is
    unknown, and a rule never fires on an unknown condition.
    """

    name: str
    type: ValueType
    getter: Getter
    description: str
    window_feature: Any = None
    """The `WindowFeature` behind the name, when it is a windowed aggregate."""


class Catalogue(Protocol):
    """Port: resolves the names a rule may use."""

    def resolve(self, name: str) -> NameSpec | None: ...

    def why_unknown(self, name: str) -> str:
        """A sentence saying why `name` cannot be used, with close matches if any."""
