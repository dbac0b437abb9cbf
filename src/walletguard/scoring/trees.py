"""LightGBM trees compiled to one plain Python function, for single-event scoring.

Measured (docs/benchmarks.md): `Booster.predict` on one row costs ~50 µs with one
thread and ~500 µs with its default thread pool, per call, whatever the model; the
engine's whole per-event budget is well under 100 µs. The trees themselves are a few
hundred comparisons, so they are turned into nested `if` statements over local
variables and compiled once when a model is loaded. The result matches LightGBM's own
raw score (tested against `Booster.predict(raw_score=True)`), including its handling
of missing values (NaN / zero / none missing types and default directions).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from walletguard.kernel.errors import ConfigurationError

RawScorer = Callable[[Sequence[float]], float]
_ZERO = 1e-35
"""LightGBM's kZeroThreshold: |x| at or under it counts as zero."""


class _Emitter:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.zeroed: set[int] = set()

    def node(self, node: dict[str, Any], depth: int) -> None:
        pad = "    " * depth
        if "leaf_value" in node:
            self.lines.append(f"{pad}s += {float(node['leaf_value'])!r}")
            return
        if node.get("decision_type", "<=") != "<=":
            raise ConfigurationError("categorical splits are not supported in compiled models")
        f = int(node["split_feature"])
        thr = float(node["threshold"])
        left = bool(node.get("default_left", False))
        missing = node.get("missing_type", "None")
        if missing == "NaN":
            cond = f"not x{f} > {thr!r}" if left else f"x{f} <= {thr!r}"
        else:
            self.zeroed.add(f)
            if missing == "Zero":
                zero = f"-{_ZERO!r} <= z{f} <= {_ZERO!r}"
                cond = (
                    f"({zero}) or z{f} <= {thr!r}" if left else f"not ({zero}) and z{f} <= {thr!r}"
                )
            else:
                cond = f"z{f} <= {thr!r}"
        self.lines.append(f"{pad}if {cond}:")
        self.node(node["left_child"], depth + 1)
        self.lines.append(f"{pad}else:")
        self.node(node["right_child"], depth + 1)


def compile_trees(dump: dict[str, Any]) -> RawScorer:
    """A function of one feature vector returning the model's raw score (log-odds for a
    binary model), from `Booster.dump_model()`."""
    count = int(dump["max_feature_idx"]) + 1
    emitter = _Emitter()
    for tree in dump["tree_info"]:
        emitter.node(tree["tree_structure"], 1)
    head = ["def raw_score(x):"]
    names = ", ".join(f"x{i}" for i in range(count))
    head.append(f"    ({names},) = x")
    for f in sorted(emitter.zeroed):
        head.append(f"    z{f} = x{f} if x{f} == x{f} else 0.0")
    head.append("    s = 0.0")
    source = "\n".join([*head, *emitter.lines, "    return s", ""])
    namespace: dict[str, Any] = {}
    exec(compile(source, "<walletguard model>", "exec"), namespace)
    scorer: RawScorer = namespace["raw_score"]
    return scorer


def split_features(dump: dict[str, Any]) -> set[int]:
    """The feature positions some tree splits on (the others never change the score)."""
    found: set[int] = set()
    stack = [tree["tree_structure"] for tree in dump["tree_info"]]
    while stack:
        node = stack.pop()
        if "split_feature" in node:
            found.add(int(node["split_feature"]))
            stack += [node["left_child"], node["right_child"]]
    return found
