"""The in-process `FeatureStore` of the embedded default.

State is grouped by entity key so it can be checkpointed (and swept) entity by
entity. Only the features someone asked for are kept. The ids of the last
`RECENT_EVENTS` events added are remembered, so an event added again (a client retrying
after its batch's commit failed) is not counted twice.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

import msgspec

from walletguard.enrich.location import Located
from walletguard.events.model import WalletEvent
from walletguard.features.names import Entity, WindowFeature
from walletguard.features.profile import AccountProfile
from walletguard.features.state import KeptStates, StateSpec, distinct_value, update_key
from walletguard.features.store import EventKeys, FeatureSnapshot
from walletguard.features.windows import CountSumWindow, DistinctWindow
from walletguard.kernel.money import from_units

Window = CountSumWindow | DistinctWindow
_ReadStep = tuple[str, Entity, bool, str, StateSpec, bool, "int | Decimal"]
RECENT_EVENTS = 100_000
"""How many added events' ids are remembered (~10 MB): far more than arrive while a client
waits to retry a failed commit."""
_EMPTY_PROFILE = AccountProfile()
"""Read-only stand-in for an account never seen; never mutated (updates create real ones)."""


class MemoryFeatureStore:
    """`FeatureStore` held in this process; see `checkpoint_rows` / `restore` for durability."""

    def __init__(self, *, recent_events: int = RECENT_EVENTS) -> None:
        self._kept = KeptStates()
        self._specs = self._kept.specs
        self.entities: dict[str, dict[str, Window]] = {}
        self.profiles: dict[str, AccountProfile] = {}
        self.reports: dict[str, int] = {}
        self._dirty: set[str] = set()
        self._plans: dict[int, tuple[Sequence[WindowFeature], list[_ReadStep]]] = {}
        self.latest_ts = 0.0
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._recent_limit = recent_events

    # -- configuration ------------------------------------------------------

    def maintain(self, features: Iterable[WindowFeature]) -> None:
        self._kept.add(features)

    @property
    def maintained(self) -> list[str]:
        return sorted(self._kept.features)

    # -- reading ------------------------------------------------------------

    def read(
        self, event: WalletEvent, keys: EventKeys, wanted: Sequence[WindowFeature]
    ) -> FeatureSnapshot:
        ts = event.ts
        values: dict[str, int | Decimal] = {}
        entities = self.entities
        for name, entity, receiver, state_id, spec, is_count, zero in self._plan(wanted):
            key = keys.for_entity(entity, receiver_subject=receiver)
            state = entities.get(key) if key is not None else None
            window = state.get(state_id) if state is not None else None
            if window is None:
                values[name] = zero
            elif isinstance(window, DistinctWindow):
                values[name] = window.get(ts, spec.window_seconds)
            else:
                count, total = window.get(ts, spec.bucket_seconds, spec.buckets)
                values[name] = count if is_count else from_units(total)
        profile = self.profiles.get(event.account_id) or _EMPTY_PROFILE
        receiver_profile = self.profiles.get(keys.receiver[2:]) if keys.receiver else None
        reports = self.reports
        return FeatureSnapshot(
            values,
            profile,
            receiver_profile,
            reports.get(keys.counterparty, 0) if keys.counterparty and reports else 0,
            reports.get(keys.device, 0) if keys.device and reports else 0,
        )

    def _plan(self, wanted: Sequence[WindowFeature]) -> list[_ReadStep]:
        """How to read `wanted`, worked out once per distinct sequence of features."""
        plan = self._plans.get(id(wanted))
        if plan is None or plan[0] is not wanted:
            zero_money = from_units(0)
            steps = [
                (
                    f.name,
                    f.entity,
                    f.subject.receiver,
                    f.state_id,
                    self._specs[f.state_id],
                    f.measure == "count",
                    0 if f.value_type == "int" else zero_money,
                )
                for f in wanted
            ]
            plan = self._plans[id(wanted)] = (wanted, steps)
        return plan[1]

    # -- updating -----------------------------------------------------------

    def update(
        self,
        event: WalletEvent,
        keys: EventKeys,
        *,
        learn: bool,
        where: Located,
        reports: Sequence[str] = (),
    ) -> None:
        recent = self._recent
        if event.event_id in recent:
            return  # added already; its decision's commit failed and it was sent again
        recent[event.event_id] = None
        if len(recent) > self._recent_limit:
            recent.popitem(last=False)
        ts = event.ts
        if ts > self.latest_ts:
            self.latest_ts = ts
        entities = self.entities
        dirty = self._dirty
        for subject, specs in self._kept.by_subject.values():
            if not subject.matches(event):
                continue
            for spec in specs:
                key = update_key(keys, spec.key_role)
                if key is None:
                    continue
                state = entities.get(key)
                if state is None:
                    state = entities[key] = {}
                window = state.get(spec.state_id)
                if spec.distinct_of is None:
                    if not isinstance(window, CountSumWindow):
                        window = state[spec.state_id] = CountSumWindow()
                    window.update(ts, keys.units, spec.bucket_seconds, spec.buckets)
                else:
                    value = distinct_value(event, spec.distinct_of)
                    if value is None:
                        continue
                    if not isinstance(window, DistinctWindow):
                        window = state[spec.state_id] = DistinctWindow()
                    window.update(ts, value, spec.window_seconds)
                dirty.add(key)
        profile = self._profile(event.account_id)
        profile.record_fact(event)
        if learn:
            profile.learn(event, where.country, where.lat, where.lon)
            if keys.receiver is not None and event.amount is not None:
                self._profile(keys.receiver[2:]).note_money_in(ts, keys.units)
                dirty.add("p:" + keys.receiver[2:])
        dirty.add("p:" + event.account_id)
        if reports:
            self.report_fraud(reports)

    def learn_later(self, event: WalletEvent, where: Located) -> None:
        self._profile(event.account_id).learn(event, where.country, where.lat, where.lon)
        self._dirty.add("p:" + event.account_id)

    def report_fraud(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.reports[key] = self.reports.get(key, 0) + 1
            self._dirty.add("r:" + key)

    def flush(self) -> None:
        """Nothing to do: this state is not shared."""

    def _profile(self, account_id: str) -> AccountProfile:
        profile = self.profiles.get(account_id)
        if profile is None:
            profile = self.profiles[account_id] = AccountProfile()
        return profile

    # -- memory and durability ----------------------------------------------

    def sweep(self) -> int:
        """Drop windows with nothing left inside them as of the newest event; returns how many
        entities were removed entirely."""
        now = self.latest_ts
        removed = 0
        specs = self._specs
        for key in list(self.entities):
            state = self.entities[key]
            for state_id in list(state):
                window = state[state_id]
                spec = specs.get(state_id)
                if spec is None:
                    continue
                if isinstance(window, DistinctWindow):
                    empty = window.get(now, spec.window_seconds) == 0
                else:
                    empty = window.get(now, spec.bucket_seconds, spec.buckets)[0] == 0
                if empty:
                    del state[state_id]
            if not state:
                del self.entities[key]
                self._dirty.add(key)
                removed += 1
        return removed

    def take_changes(self) -> set[str]:
        """The keys changed since the last call (what a checkpoint writes)."""
        dirty, self._dirty = self._dirty, set()
        return dirty

    def mark_changed(self, keys: Iterable[str]) -> None:
        """Keys a checkpoint failed to write: the next checkpoint writes them."""
        self._dirty.update(keys)

    def checkpoint_rows(
        self, keys: Iterable[str] | None = None
    ) -> Iterator[tuple[str, bytes | None]]:
        """`(key, blob)` for `keys`, by default everything changed since the last
        `take_changes`; `None` means deleted."""
        for key in self.take_changes() if keys is None else keys:
            yield key, self._encode(key)

    def restore(self, rows: Iterable[tuple[str, bytes]]) -> None:
        """Load state written by `checkpoint_rows` (replacing what is held for those keys)."""
        for key, blob in rows:
            self._decode(key, blob)
        self._dirty.clear()

    def _encode(self, key: str) -> bytes | None:
        if key.startswith("p:"):
            profile = self.profiles.get(key[2:])
            return None if profile is None else b"P" + _encoder.encode(profile)
        if key.startswith("r:"):
            count = self.reports.get(key[2:])
            return None if count is None else b"R" + _encoder.encode(count)
        state = self.entities.get(key)
        if state is None:
            return None
        payload = {
            sid: (w.data.tobytes() if isinstance(w, CountSumWindow) else w.seen)
            for sid, w in state.items()
        }
        return b"W" + _encoder.encode(payload)

    def _decode(self, key: str, blob: bytes) -> None:
        kind, body = blob[:1], blob[1:]
        if kind == b"P":
            self.profiles[key[2:]] = msgspec.msgpack.decode(body, type=AccountProfile)
        elif kind == b"R":
            self.reports[key[2:]] = msgspec.msgpack.decode(body, type=int)
        else:
            from array import array

            raw = msgspec.msgpack.decode(body, type=dict[str, bytes | dict[str, float]])
            state: dict[str, Window] = {}
            for sid, value in raw.items():
                if isinstance(value, bytes):
                    data: array[int] = array("q")
                    data.frombytes(value)
                    state[sid] = CountSumWindow(data)
                else:
                    state[sid] = DistinctWindow(value)
            self.entities[key] = state


_encoder = msgspec.msgpack.Encoder()
