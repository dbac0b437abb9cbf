"""Batch detection of mule rings in the money-flow and shared-attribute graphs.

A mule ring launders money through wallets that receive and pass it on. Over a window
of events, wallets are joined by the transfers between them and by shared devices,
cards and phone numbers; each connected community (large ones split by Louvain) is
judged on four patterns:

- `pass_through`: most members send on, within 48 hours, at least 70 % of what other
  wallets sent them (top-ups do not count: a customer who tops up and pays is not a mule);
- `cycle`: money comes back round (a directed cycle of transfers, up to 6 wallets);
- `fan_in_fan_out`: a member collects from several wallets, then sends to several
  wallets or withdraws to a bank account (paying merchants does not count);
- `shared_devices`: many new wallets behind few devices.

`walletguard graph scan` counts every attempt, refused ones included: a ring's blocked
transfers still show who works with whom. A community showing at least two patterns is a ring.
Its members are its core — wallets sharing a device, card or phone with another wallet
of the community, collecting and paying out, or on a cycle through those — and the
wallets that pass money on and are new or were paid by the core. Established customers
who only sent money in, or spent what a friend sent (victims, most often), are kept as
flows, not members.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate
from typing import Any

import networkx as nx

from walletguard.events.model import MONEY_OUT, EventType, WalletEvent
from walletguard.graph.live import counterparty_node
from walletguard.kernel.canonical import digest
from walletguard.kernel.money import AmountError, format_amount, from_units, to_units

PASS_THROUGH_RATIO = 0.7
PASS_THROUGH_SECONDS = 48 * 3600
MIN_PASS_THROUGH_UNITS = 100 * 10_000
"""A wallet passing on less than 100 (major units) in the window is not judged."""
MAX_COMMUNITY = 60
MIN_MEMBERS = 3
MAX_ATTRIBUTE_ACCOUNTS = 20
NEW_ACCOUNT_DAYS = 14.0
PATTERN_WEIGHTS = {"pass_through": 300, "cycle": 250, "fan_in_fan_out": 250, "shared_devices": 200}


@dataclass(frozen=True, slots=True)
class Ring:
    """One detected ring, before it becomes a case."""

    ring_id: str
    members: tuple[str, ...]
    patterns: tuple[str, ...]
    flows: list[dict[str, Any]]
    """Every money flow touching a member: from, to, amount (exact string), count."""
    money_units: int
    """Money that moved between members, or from a member out of the ring."""
    score: int
    devices: dict[str, list[str]] = field(default_factory=dict)
    """Shared attributes (`d:`, `t:`, `p:`) → the members they link."""


@dataclass(frozen=True, slots=True)
class RingRecord:
    """A ring as stored with its case (`ring_cases`)."""

    case_id: str
    ring_id: str
    detected_at: datetime
    detected_by: str
    window_from: datetime
    window_to: datetime
    patterns: tuple[str, ...]
    members: tuple[str, ...]
    flows: list[dict[str, Any]]
    money_units: int
    score: int
    svg: str


class FlowGraph:
    """The window's events as graphs: directed money flows and account attributes."""

    def __init__(self) -> None:
        self.money: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        self.first_in: dict[str, float] = {}
        self.last_out: dict[str, float] = {}
        self.money_in: dict[str, int] = defaultdict(int)
        self.money_out: dict[str, int] = defaultdict(int)
        self.senders: dict[str, set[str]] = defaultdict(set)
        self.payees: dict[str, set[str]] = defaultdict(set)
        self.out_after_in: dict[str, set[str]] = defaultdict(set)
        self.wallet_in: dict[str, int] = defaultdict(int)
        self.first_wallet_in: dict[str, float] = {}
        self.outs: dict[str, list[tuple[float, int]]] = defaultdict(list)
        self.wallet_ins: dict[str, list[tuple[float, int]]] = defaultdict(list)
        self.attributes: dict[str, set[str]] = defaultdict(set)
        self.registered: dict[str, float] = {}
        self.first_seen: dict[str, float] = {}
        self.end = 0.0

    def add(self, event: WalletEvent, *, moved: bool) -> None:
        """Add one decided event; `moved`: it was let through."""
        account = "a:" + event.account_id
        ts = event.ts
        self.end = max(self.end, ts)
        self.first_seen.setdefault(account, ts)
        if event.type is EventType.REGISTER:
            self.registered.setdefault(account, ts)
        if event.device is not None:
            self.attributes["d:" + event.device.id].add(account)
        if event.type is EventType.ACCOUNT_BIND and event.binding is not None:
            self.attributes["t:" + event.binding.token].add(account)
        profile = event.profile
        if profile is not None and profile.field == "phone" and profile.new_value_hash:
            self.attributes["p:" + profile.new_value_hash].add(account)
        if not moved or event.amount is None:
            return
        try:
            units = to_units(event.amount)
        except AmountError:
            return
        if event.type in MONEY_OUT:
            target = counterparty_node(event)
            if target is None:
                return
            edge = self.money[(account, target)]
            edge[0] += units
            edge[1] += 1
            self.money_out[account] += units
            self.payees[account].add(target)
            self.last_out[account] = ts
            self.outs[account].append((ts, units))
            if account in self.first_wallet_in and not target.startswith("c:merchant:"):
                self.out_after_in[account].add(target)
            if target.startswith("a:"):
                self.money_in[target] += units
                self.wallet_in[target] += units
                self.wallet_ins[target].append((ts, units))
                self.senders[target].add(account)
                self.first_in.setdefault(target, ts)
                self.first_wallet_in.setdefault(target, ts)
        elif event.type is EventType.TOPUP_CONFIRMATION:
            self.money_in[account] += units
            self.first_in.setdefault(account, ts)

    # -- detection --------------------------------------------------------------------

    def _wallet_graph(self) -> nx.Graph[str]:
        g: nx.Graph[str] = nx.Graph()
        for (a, b), (units, _) in self.money.items():
            if b.startswith("a:"):
                g.add_edge(a, b, kind="money", units=units)
        for attribute, accounts in self.attributes.items():
            if 2 <= len(accounts) <= MAX_ATTRIBUTE_ACCOUNTS:
                ordered = sorted(accounts)
                for other in ordered[1:]:
                    g.add_edge(ordered[0], other, kind="attribute", via=attribute)
        return g

    def _communities(self) -> list[set[str]]:
        g = self._wallet_graph()
        found: list[set[str]] = []
        for component in nx.connected_components(g):
            if len(component) < MIN_MEMBERS:
                continue
            if len(component) <= MAX_COMMUNITY:
                found.append(set(component))
                continue
            sub = g.subgraph(component)
            for part in nx.community.louvain_communities(sub, seed=7):
                if len(part) >= MIN_MEMBERS:
                    found.append(set(part))
        return found

    def _passes_on(self, node: str) -> bool:
        """Whether, from some payment another wallet made it, the wallet sent on within
        `PASS_THROUGH_SECONDS` at least `PASS_THROUGH_RATIO` of what wallets sent it in that
        time (at least `MIN_PASS_THROUGH_UNITS`): an older, unrelated payment in the window
        does not hide a burst of money passed through."""
        if self.wallet_in.get(node, 0) < MIN_PASS_THROUGH_UNITS:
            return False
        ins = sorted(self.wallet_ins[node])
        outs = sorted(self.outs.get(node, ()))
        in_times, in_sums = [ts for ts, _ in ins], list(accumulate(u for _, u in ins))
        out_times, out_sums = [ts for ts, _ in outs], list(accumulate(u for _, u in outs))

        def total(times: list[float], sums: list[int], start: float) -> int:
            lo = bisect_left(times, start)
            hi = bisect_right(times, start + PASS_THROUGH_SECONDS)
            return (sums[hi - 1] if hi else 0) - (sums[lo - 1] if lo else 0)

        for start, _ in ins:
            received = total(in_times, in_sums, start)
            if (
                received >= MIN_PASS_THROUGH_UNITS
                and total(out_times, out_sums, start) >= PASS_THROUGH_RATIO * received
            ):
                return True
        return False

    def _shared(self, community: set[str]) -> dict[str, list[str]]:
        shared = {}
        for attribute, accounts in self.attributes.items():
            inside = accounts & community
            if len(inside) >= 2 and len(accounts) <= MAX_ATTRIBUTE_ACCOUNTS:
                shared[attribute] = sorted(inside)
        return shared

    def _is_new(self, node: str) -> bool:
        """Opened (a `register` event in the window) at most `NEW_ACCOUNT_DAYS` ago; a
        wallet first seen in the window without its opening is an older one."""
        born = self.registered.get(node)
        return born is not None and self.end - born <= NEW_ACCOUNT_DAYS * 86400

    def judge(self, community: set[str]) -> Ring | None:
        """The ring in this community, if it shows enough patterns."""
        directed: nx.DiGraph[str] = nx.DiGraph()
        for (a, b), (units, _) in self.money.items():
            if a in community and b in community:
                directed.add_edge(a, b, units=units)
        shared = self._shared(community)
        sharing = {a for accounts in shared.values() for a in accounts}
        collectors = {
            n
            for n in community
            if len(self.senders.get(n, ())) >= 3
            and (
                len(self.out_after_in.get(n, ())) >= 3
                or any(p.startswith("t:") for p in self.out_after_in.get(n, ()))
            )
        }
        # a cycle counts when it runs through the ring's core, not between friends
        anchors = sharing | collectors
        on_cycle: set[str] = set()
        for cycle in nx.simple_cycles(directed, length_bound=6):
            if anchors.intersection(cycle):
                on_cycle.update(cycle)
            if len(on_cycle) >= len(community):
                break
        passers = {n for n in community if self._passes_on(n)}
        core = sharing | on_cycle | collectors
        layered = {p for p in passers if self._is_new(p) or self.senders.get(p, set()) & core}
        members = core | layered
        passers &= members
        if len(members) < MIN_MEMBERS:
            return None
        patterns = []
        if len(passers) >= max(2, len(members) // 2):
            patterns.append("pass_through")
        if on_cycle:
            patterns.append("cycle")
        if collectors:
            patterns.append("fan_in_fan_out")
        devices = {a for a in shared if a.startswith("d:")}
        new_members = [m for m in members if self._is_new(m)]
        if devices and len(new_members) >= MIN_MEMBERS and len(devices) * 2 <= len(new_members):
            patterns.append("shared_devices")
        if len(patterns) < 2:
            return None
        flows = []
        money = 0
        for (a, b), (units, count) in sorted(self.money.items()):
            if a in members or b in members:
                amount = format_amount(from_units(units))
                flows.append({"from": a, "to": b, "amount": amount, "units": units, "count": count})
                if a in members:
                    money += units
        ordered = tuple(sorted(m.removeprefix("a:") for m in members))
        return Ring(
            ring_id="ring-" + digest(list(ordered))[:12],
            members=ordered,
            patterns=tuple(patterns),
            flows=flows,
            money_units=money,
            score=min(1000, sum(PATTERN_WEIGHTS[p] for p in patterns)),
            devices={a: [m.removeprefix("a:") for m in accts] for a, accts in shared.items()},
        )

    def rings(self) -> list[Ring]:
        """Every ring in the window, strongest first."""
        found = [r for c in self._communities() if (r := self.judge(c)) is not None]
        return sorted(found, key=lambda r: (-r.score, -r.money_units, r.ring_id))


def detect_rings(events: Iterable[tuple[WalletEvent, bool]]) -> list[Ring]:
    """Rings among `(event, moved)` pairs (in time order)."""
    graph = FlowGraph()
    for event, moved in events:
        graph.add(event, moved=moved)
    return graph.rings()
