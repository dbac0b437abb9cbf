"""YAML for configuration that decides things (rulesets, the policy, ledger limits and
approvals): a mapping key given twice is an error naming both lines. PyYAML keeps the last
one silently, so `mode: shadow` then `mode: active` would act, and a second
`two_approvers_above` would quietly replace the first."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import yaml

from walletguard.kernel.errors import ConfigurationError

Scopes = Callable[[yaml.Node], Iterable[tuple[yaml.Node, str]]]
"""Parts of a document to check first, each with the place its errors name (a rule)."""


def key_name(node: yaml.Node) -> Any:
    """What a mapping key will be once loaded: YAML 1.1's booleans (`on`, `yes`, `true`)
    load as one value whatever their spelling, so they clash with each other."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:bool":
            return node.value.lower() in ("on", "true", "yes", "y")
        return node.value
    return (node.tag, id(node))


def _as_loaded(key: Any) -> Any:
    return key


def refuse_duplicate_keys(
    node: yaml.Node,
    where: str,
    read_as: Callable[[Any], Any] = _as_loaded,
    seen: set[int] | None = None,
) -> None:
    """`ConfigurationError` for the first mapping key given twice under `node`, naming the
    key and both lines; `read_as` says which keys the caller reads as one."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[Any, int] = {}
        for key, value in node.value:
            name = read_as(key_name(key))
            line = key.start_mark.line + 1
            if name in first:
                raise ConfigurationError(
                    f"{where}: {key.value!r} is given twice (lines {first[name]} and {line})"
                )
            first[name] = line
            refuse_duplicate_keys(value, where, read_as, seen)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            refuse_duplicate_keys(item, where, read_as, seen)


def load_yaml(
    text: str,
    source: str,
    scopes: Scopes | None = None,
    read_as: Callable[[Any], Any] = _as_loaded,
) -> Any:
    """The document in `text`; `ConfigurationError` naming `source` (or the scope) if it is
    not YAML or a key is given twice (keys compared as `read_as` reads them)."""
    try:
        loader = yaml.SafeLoader(text)  # reads the text now: a control character fails here
    except yaml.YAMLError as exc:
        raise _not_yaml(source, exc) from None
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        for part, where in scopes(root) if scopes is not None else ():
            refuse_duplicate_keys(part, where, read_as)
        refuse_duplicate_keys(root, source, read_as)
        return loader.construct_document(root)
    except yaml.YAMLError as exc:
        raise _not_yaml(source, exc) from None
    finally:
        loader.dispose()


def _not_yaml(source: str, exc: yaml.YAMLError) -> ConfigurationError:
    return ConfigurationError(f"{source}: not valid YAML: {exc}")
