"""Hypothesis strategies for documents valid under a JSON Schema.

Covers the keywords the wallet-event contract uses (type, enum, properties, required,
additionalProperties, minLength/maxLength, pattern, minimum/maximum, format: date-time).
Written here because hypothesis-jsonschema no longer works with current Hypothesis.
Regex patterns are generated with full-match semantics, as ECMA-262 anchors mean.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from rfc3339_validator import validate_rfc3339

_JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
ANY_JSON = st.recursive(
    _JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)


def _rfc3339() -> st.SearchStrategy[str]:
    offsets = st.sampled_from(["Z", "z", "+00:00", "+08:00", "-05:30", "+14:00", "-12:00"])
    fractions = st.sampled_from(["", ".1", ".123", ".123456", ".123456789"])
    separators = st.sampled_from(["T", "t"])
    return st.builds(
        lambda d, sep, h, m, s, frac, off: (
            f"{d.isoformat()}{sep}{h:02d}:{m:02d}:{s:02d}{frac}{off}"
        ),
        st.dates(),
        separators,
        st.integers(0, 23),
        st.integers(0, 59),
        st.integers(0, 60),
        fractions,
        offsets,
    ).filter(validate_rfc3339)


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    if schema.get("format") == "date-time":
        return _rfc3339()
    min_size = schema.get("minLength", 0)
    max_size = schema.get("maxLength", 40)
    if "pattern" in schema:
        pattern = schema["pattern"].removeprefix("^").removesuffix("$")
        return st.from_regex(pattern, fullmatch=True).filter(
            lambda s: min_size <= len(s) <= max_size
        )
    return st.text(min_size=min_size, max_size=min(max_size, min_size + 40))


def _number(schema: dict[str, Any]) -> st.SearchStrategy[float | int]:
    low = schema.get("minimum")
    high = schema.get("maximum")
    floats = st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)
    ints = st.integers(
        min_value=int(low) if low is not None else None,
        max_value=int(high) if high is not None else None,
    )
    return floats | ints


def _object(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    strategies = {name: from_schema(sub) for name, sub in properties.items()}

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        document: dict[str, Any] = {}
        for name, strategy in strategies.items():
            if name in required or draw(st.booleans()):
                document[name] = draw(strategy)
        if schema.get("additionalProperties", True) is not False and draw(st.integers(0, 4)) == 0:
            extra = draw(
                st.dictionaries(
                    st.text(min_size=1, max_size=12).filter(lambda k: k not in properties),
                    ANY_JSON,
                    max_size=2,
                )
            )
            document.update(extra)
        return document

    return build()


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Documents valid under `schema`."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        if "properties" not in schema:
            return st.dictionaries(st.text(max_size=10), ANY_JSON, max_size=4)
        return _object(schema)
    if kind == "string":
        return _string(schema)
    if kind == "number":
        return _number(schema)
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "boolean":
        return st.booleans()
    return ANY_JSON
