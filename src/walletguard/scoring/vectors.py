"""A model's inputs: catalogue names, read through the same getters the rules use.

Training and serving build the vector the same way, from a `DecisionContext`, so
the features a model was trained on are by construction the ones it is served.
Values become floats only here, as model inputs: money stays exact everywhere else.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from walletguard.kernel.errors import ConfigurationError
from walletguard.rules.types import Catalogue, NameSpec, ValueType

NAN = math.nan
_USABLE = (ValueType.BOOL, ValueType.INT, ValueType.NUMBER, ValueType.MONEY)


def as_float(value: Any) -> float:
    """A feature value as a model input: missing is NaN, yes/no is 1/0."""
    if value is None:
        return NAN
    if value is True:
        return 1.0
    if value is False:
        return 0.0
    if isinstance(value, Decimal):
        return float(value)
    return float(value)


class Vectorizer:
    """Reads a fixed list of catalogue names from a context, as floats, in order."""

    def __init__(self, names: Sequence[str], catalogue: Catalogue) -> None:
        specs: list[NameSpec] = []
        for name in names:
            spec = catalogue.resolve(name)
            if spec is None:
                raise ConfigurationError(f"model feature {name!r}: {catalogue.why_unknown(name)}")
            if spec.type not in _USABLE:
                raise ConfigurationError(
                    f"model feature {name!r} is a {spec.type.value}; models take numbers, "
                    "amounts and yes/no values"
                )
            specs.append(spec)
        if len(set(names)) != len(names):
            raise ConfigurationError("a model lists the same feature twice")
        self.names = tuple(names)
        self.specs = tuple(specs)
        self._getters: tuple[Callable[[Any], Any], ...] = tuple(s.getter for s in specs)

    def __call__(self, ctx: Any) -> list[float]:
        out = []
        for getter in self._getters:
            value = getter(ctx)
            if value is None:
                out.append(NAN)
            elif value.__class__ is float:
                out.append(value)
            else:
                out.append(as_float(value))
        return out

    def raw_values(self, ctx: Any) -> dict[str, Any]:
        """The values as the catalogue gives them (exact amounts), for explanations."""
        return {spec.name: spec.getter(ctx) for spec in self.specs}

    def window_features(self) -> list[Any]:
        """The windowed features the store must keep for these inputs."""
        return [s.window_feature for s in self.specs if s.window_feature is not None]
