"""The graphs kept current as events are decided, for real-time graph features.

Two graphs, both incremental and bounded:

- **money flow**: wallet → wallet (transfers), wallet → merchant (payments), wallet →
  bank account (withdrawals), and money in (transfers received, confirmed top-ups).
  Each wallet keeps its recent flows in and out (at most `MAX_FLOWS` each, none older
  than `FLOW_SECONDS`), and an undirected neighbour list (at most `MAX_NEIGHBOURS`,
  oldest forgotten first) used for the distance to confirmed fraud.
- **shared attributes**: wallets linked by a device, a bound card (token) or a phone
  number hash. Links are merged with union-find, so the size of a wallet's cluster is
  one look-up; an attribute shared by more than `MAX_ATTRIBUTE_ACCOUNTS` wallets is
  treated as shared infrastructure (a public terminal, an emulator farm's default id)
  and stops merging clusters.

Distance to fraud is kept up to date incrementally: when a node is confirmed fraud, a
breadth-first walk records every node within `MAX_HOPS`; a new edge lowers its
endpoints' distances and walks on from there. Merchants receive a distance but never
pass one on: a merchant links thousands of unrelated customers. Edges are never
un-learned from distances (a wallet that once paid a fraudster stays close to fraud).
Money moves only for events that were let through; attribute links are facts and are
recorded whatever the decision.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Iterable
from typing import Any

from walletguard.events.model import MONEY_OUT, EventType, WalletEvent
from walletguard.kernel.money import AmountError, to_units

MAX_HOPS = 3
MAX_NEIGHBOURS = 64
MAX_FLOWS = 256
FLOW_SECONDS = 86400
MAX_ATTRIBUTE_ACCOUNTS = 20
DAY = 86400.0

Flow = tuple[float, str, int]
"""(time, other side's node key, amount in units)"""


def account_node(account_id: str) -> str:
    return "a:" + account_id


def counterparty_node(event: WalletEvent) -> str | None:
    """The node money goes to for a money-out event."""
    cp = event.counterparty
    if event.type is EventType.TRANSFER and cp is not None and cp.type == "account":
        return "a:" + cp.id
    if event.type is EventType.WITHDRAWAL and event.binding is not None:
        return "t:" + event.binding.token
    if cp is not None:
        return f"c:{cp.type}:{cp.id}"
    return None


def _passes_distance(node: str) -> bool:
    return not node.startswith("c:merchant:")


class _Flows:
    """A wallet's recent flows, in time order, and when it last dealt with each sender /
    payee (a dict kept in order of that time, so distinct counts stop at the window's
    edge). An event arriving late is put in its place: in order, the common case, that is
    an append; out of order, an insertion (at most `MAX_FLOWS` entries moved)."""

    __slots__ = ("inflow", "outflow", "payees", "senders")

    def __init__(self) -> None:
        self.inflow: deque[Flow] = deque(maxlen=MAX_FLOWS)
        self.outflow: deque[Flow] = deque(maxlen=MAX_FLOWS)
        self.senders: dict[str, float] = {}
        self.payees: dict[str, float] = {}


def _touch(recent: dict[str, float], key: str, ts: float) -> None:
    """`key` dealt with at `ts`: keeps the latest time (a late sighting never moves it
    back) and the dict in order of time."""
    last = recent.get(key)
    if last is not None:
        if last >= ts:
            return
        del recent[key]
    if not recent or ts >= next(reversed(recent.values())):
        recent[key] = ts
    else:  # late: put it in its place
        items = list(recent.items())
        items.insert(bisect_right(items, ts, key=_time_of), (key, ts))
        recent.clear()
        recent.update(items)
    if len(recent) > MAX_FLOWS:
        del recent[next(iter(recent))]


def _time_of(item: tuple[str, float]) -> float:
    return item[1]


def _count_since(recent: dict[str, float], horizon: float, now: float) -> int:
    """Keys last dealt with in `[horizon, now]` (later ones are after the reading event)."""
    count = 0
    for ts in reversed(recent.values()):
        if ts > now:
            continue
        if ts < horizon:
            break
        count += 1
    return count


def _add_flow(flows: deque[Flow], flow: Flow) -> None:
    """Keep `flows` in time order (the oldest dropped beyond `MAX_FLOWS`)."""
    if not flows or flow[0] >= flows[-1][0]:
        flows.append(flow)
        return
    at = bisect_right(flows, flow[0], key=_flow_time)
    if len(flows) == flows.maxlen:
        if at == 0:
            return  # older than all it keeps: it would be the one dropped
        flows.popleft()
        at -= 1
    flows.insert(at, flow)


def _flow_time(flow: Flow) -> float:
    return flow[0]


def _sum_between(flows: deque[Flow], horizon: float, now: float) -> int:
    total = 0
    for ts, _, units in reversed(flows):
        if ts > now:
            continue
        if ts < horizon:
            break
        total += units
    return total


def _prune(flows: deque[Flow], now: float) -> None:
    horizon = now - FLOW_SECONDS
    while flows and flows[0][0] < horizon:
        flows.popleft()


class LiveGraph:
    """Money-flow and shared-attribute graphs with their real-time features."""

    def __init__(self) -> None:
        self.flows: dict[str, _Flows] = {}
        self.neighbours: dict[str, dict[str, None]] = {}
        self.fraud_hops: dict[str, int] = {}
        self.confirmed: set[str] = set()
        self.ring_accounts: frozenset[str] = frozenset()
        self.ring_version: str | None = None
        self._parent: dict[str, str] = {}
        self._size: dict[str, int] = {}
        self._attribute_accounts: dict[str, set[str]] = {}

    # -- learning ---------------------------------------------------------------------

    def observe(self, event: WalletEvent, *, moved: bool) -> None:
        """Add an event that was decided; `moved`: its money actually moved (let through)."""
        account = account_node(event.account_id)
        for attribute in _attributes(event):
            self._link(account, attribute)
        kind = event.type
        if not moved or event.amount is None:
            return
        try:
            units = to_units(event.amount)
        except AmountError:
            return
        ts = event.ts
        if kind in MONEY_OUT:
            target = counterparty_node(event)
            if target is None:
                return
            flows = self._flows(account)
            _add_flow(flows.outflow, (ts, target, units))
            _touch(flows.payees, target, ts)
            if target.startswith("a:"):
                received = self._flows(target)
                _add_flow(received.inflow, (ts, account, units))
                _touch(received.senders, account, ts)
            self._edge(account, target)
        elif kind is EventType.TOPUP_CONFIRMATION:
            _add_flow(self._flows(account).inflow, (ts, "topup", units))

    def mark_fraud(self, nodes: Iterable[str]) -> None:
        """These nodes are confirmed fraud (a chargeback's payee, a confirmed case)."""
        for node in nodes:
            self.confirmed.add(node)
            self._lower(node, 0)

    def set_rings(self, accounts: Iterable[str], version: str | None) -> None:
        """The wallets that belong to suspected rings (from the last `graph scan`)."""
        self.ring_accounts = frozenset(accounts)
        self.ring_version = version

    def _flows(self, node: str) -> _Flows:
        found = self.flows.get(node)
        if found is None:
            found = self.flows[node] = _Flows()
        return found

    def _edge(self, a: str, b: str) -> None:
        for x, y in ((a, b), (b, a)):
            near = self.neighbours.get(x)
            if near is None:
                near = self.neighbours[x] = {}
            near.pop(y, None)
            near[y] = None
            if len(near) > MAX_NEIGHBOURS:
                del near[next(iter(near))]
        hops = self.fraud_hops
        da, db = hops.get(a), hops.get(b)
        if da is not None and _passes_distance(a) and (db is None or da + 1 < db):
            self._lower(b, da + 1)
        if db is not None and _passes_distance(b) and (da is None or db + 1 < da):
            self._lower(a, db + 1)

    def _lower(self, start: str, hops: int) -> None:
        """Record `start` at `hops` from fraud and walk on (bounded by `MAX_HOPS`)."""
        if hops > MAX_HOPS:
            return
        known = self.fraud_hops
        current = known.get(start)
        if current is not None and current <= hops:
            return
        known[start] = hops
        queue = deque([(start, hops)])
        while queue:
            node, d = queue.popleft()
            if d >= MAX_HOPS or not _passes_distance(node):
                continue
            for other in self.neighbours.get(node, ()):
                seen = known.get(other)
                if seen is None or d + 1 < seen:
                    known[other] = d + 1
                    queue.append((other, d + 1))

    def _find(self, x: str) -> str:
        parent = self._parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while x != root:
            parent[x], x = root, parent[x]
        return root

    def _link(self, account: str, attribute: str) -> None:
        members = self._attribute_accounts.get(attribute)
        if members is None:
            members = self._attribute_accounts[attribute] = set()
        if account in members:
            return
        if len(members) >= MAX_ATTRIBUTE_ACCOUNTS:
            return
        members.add(account)
        if len(members) == 1:
            return
        other = next(m for m in members if m != account)
        a, b = self._find(account), self._find(other)
        if a == b:
            return
        size = self._size
        if size.get(a, 1) < size.get(b, 1):
            a, b = b, a
        self._parent[b] = a
        size[a] = size.get(a, 1) + size.pop(b, 1)

    # -- reading ----------------------------------------------------------------------

    def hops_to_fraud(self, node: str | None) -> int | None:
        """Hops from `node` to the nearest confirmed fraud, up to `MAX_HOPS`; else None."""
        return None if node is None else self.fraud_hops.get(node)

    def cluster_size(self, account_id: str) -> int:
        """Wallets sharing a device, card or phone with this one, directly or through
        others (itself included)."""
        node = account_node(account_id)
        if node not in self._parent and node not in self._size:
            return 1
        return self._size.get(self._find(node), 1)

    def attribute_accounts(self, attribute: str | None) -> int:
        """Wallets seen with this attribute (`d:` device, `t:` card, `p:` phone)."""
        if attribute is None:
            return 0
        return len(self._attribute_accounts.get(attribute, ()))

    def fan_in(self, account_id: str, now: float, seconds: float = DAY) -> int:
        """Distinct wallets that sent money to this one in the window before `now` (not
        after it: an event arriving late does not see the senders that came after it)."""
        flows = self.flows.get(account_node(account_id))
        return 0 if flows is None else _count_since(flows.senders, now - seconds, now)

    def fan_out(self, account_id: str, now: float, seconds: float = DAY) -> int:
        """Distinct payees (wallets, merchants, bank accounts) paid in the window (up to
        `now`)."""
        flows = self.flows.get(account_node(account_id))
        return 0 if flows is None else _count_since(flows.payees, now - seconds, now)

    def money_in_out(self, account_id: str, now: float, seconds: float = DAY) -> tuple[int, int]:
        """(units in, units out) over the window before `now` (up to `now`)."""
        flows = self.flows.get(account_node(account_id))
        if flows is None:
            return 0, 0
        _prune(flows.inflow, now)
        _prune(flows.outflow, now)
        horizon = now - seconds
        return _sum_between(flows.inflow, horizon, now), _sum_between(flows.outflow, horizon, now)

    def in_ring(self, account_id: str | None) -> bool:
        return account_id is not None and account_id in self.ring_accounts


def _attributes(event: WalletEvent) -> list[str]:
    found = []
    if event.device is not None:
        found.append("d:" + event.device.id)
    if event.type is EventType.ACCOUNT_BIND and event.binding is not None:
        found.append("t:" + event.binding.token)
    profile = event.profile
    if (
        event.type is EventType.PROFILE_CHANGE
        and profile is not None
        and profile.field == "phone"
        and profile.new_value_hash
    ):
        found.append("p:" + profile.new_value_hash)
    return found


class RingRefresher:
    """Engine refresher: loads the members of suspected rings when `graph scan` added
    rings or a ring case was resolved (checked at most once per `interval` seconds)."""

    def __init__(self, interval: float = 1.0) -> None:
        self._interval = interval
        self._checked = -1e18

    def __call__(self, engine: Any, uow: Any) -> None:
        import time

        graph: LiveGraph | None = engine.graph
        now = time.monotonic()
        if graph is None or now - self._checked < self._interval:
            return
        self._checked = now
        version = uow.rings.version()
        if version != graph.ring_version:
            graph.set_rings(uow.rings.suspected_accounts(), version)
