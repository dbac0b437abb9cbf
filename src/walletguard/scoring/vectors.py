"""A model's inputs: catalogue names, read through the same getters the rules use.

An input may also be an expression in the rule language over catalogue names
(`reported_count_by_counterparty_7d / payment_count_by_counterparty_7d`), compiled once
like a rule condition; a division by zero is a missing value.

Training and serving build the vector the same way, from a `DecisionContext`, so
the features a model was trained on are by construction the ones it is served.
Values become floats only here, as model inputs: money stays exact everywhere else.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from decimal import Decimal
from typing import Any

from walletguard.kernel.errors import ConfigurationError
from walletguard.rules.compiler import Compiled, compile_value
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

    def __init__(
        self, names: Sequence[str], catalogue: Catalogue, used: Collection[int] | None = None
    ) -> None:
        """`used`: the positions a model actually splits on; the others read as missing
        without being computed (a tree never looks at them), and their windowed features
        are not kept."""
        specs: list[NameSpec] = []
        windows: dict[str, Any] = {}
        for position, name in enumerate(names):
            spec = catalogue.resolve(name) or _expression(name, catalogue)
            if spec is None:
                raise ConfigurationError(f"model feature {name!r}: {catalogue.why_unknown(name)}")
            if spec.type not in _USABLE:
                raise ConfigurationError(
                    f"model feature {name!r} is a {spec.type.value}; models take numbers, "
                    "amounts and yes/no values"
                )
            specs.append(spec)
            if used is not None and position not in used:
                continue
            for read in getattr(spec.getter, "names", [spec]):
                if read.window_feature is not None:
                    windows[read.window_feature.name] = read.window_feature
        self._windows = list(windows.values())
        if len(set(names)) != len(names):
            raise ConfigurationError("a model lists the same feature twice")
        self.names = tuple(names)
        self.specs = tuple(specs)
        self._getters: tuple[Callable[[Any], Any], ...] = tuple(
            s.getter if used is None or i in used else _missing for i, s in enumerate(specs)
        )

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
        return list(self._windows)


def _missing(ctx: Any) -> None:
    return None


class _ExpressionGetter:
    """A compiled expression, remembering the names it reads (for their windows)."""

    def __init__(self, compiled: Compiled) -> None:
        self.fn = compiled.fn
        self.names = compiled.names

    def __call__(self, ctx: Any) -> Any:
        return self.fn(ctx)


def _expression(text: str, catalogue: Catalogue) -> NameSpec | None:
    if not any(op in text for op in " +-*/("):
        return None
    compiled, kind = compile_value(text, catalogue, where=f"model feature {text!r}")
    return NameSpec(text, kind, _ExpressionGetter(compiled), text)
