"""Graph features as catalogue names (`graph.*`), for rules and models alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from walletguard.events.model import MONEY_OUT
from walletguard.graph.live import account_node, counterparty_node
from walletguard.rules.types import ValueType

B, INT, N = ValueType.BOOL, ValueType.INT, ValueType.NUMBER


def _payee_account(c: Any) -> str | None:
    cp = c.event.counterparty
    return cp.id if cp is not None and cp.type == "account" else None


def _with_graph(get: Callable[[Any, Any], Any]) -> Callable[[Any], Any]:
    def read(c: Any) -> Any:
        graph = c.graph
        return None if graph is None else get(c, graph)

    return read


def _counterparty_hops(c: Any, g: Any) -> int | None:
    return g.hops_to_fraud(counterparty_node(c.event)) if c.event.type in MONEY_OUT else None


def _pass_through(c: Any, g: Any) -> float | None:
    event = c.event
    money_in, money_out = g.money_in_out(event.account_id, event.ts)
    if event.type in MONEY_OUT and c.keys.units:
        money_out += c.keys.units
    return None if money_in <= 0 else round(money_out / money_in, 4)


def _payee_fan_in(c: Any, g: Any) -> int | None:
    payee = _payee_account(c)
    return None if payee is None else g.fan_in(payee, c.event.ts)


GRAPH_SPECS: list[tuple[str, ValueType, Callable[[Any], Any], str]] = [
    (
        "graph.counterparty_hops_to_fraud",
        INT,
        _with_graph(_counterparty_hops),
        "money-flow hops from the payee to confirmed fraud (0 = the payee itself; up to 3)",
    ),
    (
        "graph.account_hops_to_fraud",
        INT,
        _with_graph(lambda c, g: g.hops_to_fraud(account_node(c.event.account_id))),
        "money-flow hops from this wallet to confirmed fraud (up to 3)",
    ),
    (
        "graph.device_cluster_size",
        INT,
        _with_graph(lambda c, g: g.cluster_size(c.event.account_id)),
        "wallets linked to this one by shared devices, cards or phone numbers",
    ),
    (
        "graph.device_accounts",
        INT,
        _with_graph(lambda c, g: g.attribute_accounts(c.keys.device)),
        "wallets seen on this event's device",
    ),
    (
        "graph.fan_in_24h",
        INT,
        _with_graph(lambda c, g: g.fan_in(c.event.account_id, c.event.ts)),
        "distinct wallets that sent this wallet money in the last 24h",
    ),
    (
        "graph.fan_out_24h",
        INT,
        _with_graph(lambda c, g: g.fan_out(c.event.account_id, c.event.ts)),
        "distinct payees this wallet sent money to in the last 24h",
    ),
    (
        "graph.payee_fan_in_24h",
        INT,
        _with_graph(_payee_fan_in),
        "distinct wallets that sent the receiving wallet money in the last 24h",
    ),
    (
        "graph.pass_through_ratio",
        N,
        _with_graph(_pass_through),
        "money out (this event included) / money in, over the last 24h",
    ),
    (
        "graph.payee_in_ring",
        B,
        _with_graph(lambda c, g: g.in_ring(_payee_account(c))),
        "the receiving wallet belongs to a suspected mule ring",
    ),
    (
        "graph.account_in_ring",
        B,
        _with_graph(lambda c, g: g.in_ring(c.event.account_id)),
        "this wallet belongs to a suspected mule ring",
    ),
]
