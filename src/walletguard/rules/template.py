"""Reason templates: a sentence with named values filled in.

    "Withdrawal of {event.amount} is {amount_ratio:.1f}x the usual {profile.withdrawal_mean}"

Names are checked against the catalogue when the ruleset loads; a sentence is only
rendered when its rule fires.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from walletguard.kernel.money import format_amount
from walletguard.rules.types import Catalogue, NameSpec

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_.]*)(?::([^{}]*))?\}")


class TemplateError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Template:
    text: str
    parts: tuple[tuple[str, NameSpec | None, str], ...]
    """(literal text before, name spec, format spec) triples; a final literal has no spec."""

    @classmethod
    def compile(cls, text: str, catalogue: Catalogue) -> Template:
        parts: list[tuple[str, NameSpec | None, str]] = []
        last = 0
        for match in _PLACEHOLDER.finditer(text):
            spec = catalogue.resolve(match[1])
            if spec is None:
                raise TemplateError(catalogue.why_unknown(match[1]))
            fmt = match[2] or ""
            try:
                format(1.5, fmt) if fmt else None
            except ValueError:
                raise TemplateError(f"bad format {fmt!r} for {match[1]!r}") from None
            parts.append((text[last : match.start()], spec, fmt))
            last = match.end()
        parts.append((text[last:], None, ""))
        return cls(text, tuple(parts))

    @property
    def names(self) -> list[NameSpec]:
        return [spec for _, spec, _ in self.parts if spec is not None]

    def render(self, context: Any) -> str:
        out = []
        for literal, spec, fmt in self.parts:
            out.append(literal)
            if spec is not None:
                out.append(render_value(spec.getter(context), fmt))
        return "".join(out)


def render_value(value: Any, fmt: str = "") -> str:
    """A value as a person reads it: amounts exact, booleans as yes/no, missing as 'unknown'."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format_amount(value)
    if isinstance(value, float):
        try:
            return format(value, fmt or ".1f")
        except ValueError:
            return f"{value:.1f}"
    if fmt:
        try:
            return format(value, fmt)
        except ValueError:
            return str(value)
    return str(value)
