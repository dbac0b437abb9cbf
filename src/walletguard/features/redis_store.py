"""`FeatureStore` on Redis: one feature state shared by every API worker, with exactly the
values `MemoryFeatureStore` gives (the conformance tests hold the two to it).

Layout, under a configurable prefix (default `wg:f:`):

    {prefix}w:{state id}:{entity key}  a count/sum window: hash, `c<bucket>` → events and
                                       `u<bucket>` → units; a distinct window: sorted set,
                                       value → latest time seen
    {prefix}p:{account id}             hash: `b` → profile (msgpack), `v` → its version,
                                       `mt` / `mu` → time and units of the last money in
    {prefix}r                          hash: typed key → fraud reports
    {prefix}e:{event id}               set while an added event may still be sent again
    {prefix}rc, {prefix}ra             the highest case report (`feature_reports` id)
                                       applied, and the ids applied lately (hash)

Promises:
- one round trip per event: reading an event's features is a Lua script (so the values
  come from one consistent state), and adding the event is another (counters, profile and
  money in together, atomically) that goes out in the same write as the store's next
  request — the next event's read — or at `flush`, which the owner calls when it has no
  next event at hand;
- windows change only server-side (HINCRBY, ZADD GT), so workers adding events at the
  same time never lose one; a window key expires `window + bucket + slack` seconds of
  wall-clock time after its last update, which bounds memory;
- a profile is written by compare-and-set on its version: if another writer got there
  first (a `learn_later` between an event's read and its update, or another worker), the
  event is applied again to the newer profile, so no learning is lost;
- an event is added at most once within `retry_window_seconds` (default an hour) of the
  first time: a client sending an event again because its decision's commit failed gets
  it decided again, but not counted twice — nor the fraud reports it names;
- a fraud report from a resolved case (`apply_case_reports`) is counted once, whichever
  worker and however many of them send it;
- money received by a wallet is an HSET of `mt`/`mu` in the receiver's hash, outside the
  profile blob (which never holds those fields), so it cannot race with the receiver's own
  events.

Not thread-safe: one store per thread, like the engine that uses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import msgspec
import redis

from walletguard.enrich.location import Located
from walletguard.events.model import WalletEvent
from walletguard.features.names import Entity, WindowFeature
from walletguard.features.profile import AccountProfile
from walletguard.features.redis_channel import Reply, ScriptChannel
from walletguard.features.redis_lua import READ, REPORTS, UPDATE
from walletguard.features.state import KeptStates, distinct_value, update_key
from walletguard.features.store import EventKeys, FeatureSnapshot
from walletguard.kernel.money import from_units

DEFAULT_URL = "redis://127.0.0.1:6379/0"
DEFAULT_PREFIX = "wg:f:"
PROFILE_WRITE_ATTEMPTS = 20
REPORT_LOOKBACK = 1000
"""How far (in `feature_reports` ids) below the highest one applied a case report may still
arrive and be applied once: rows committed out of id order (PostgreSQL) within this."""
"""Compare-and-set attempts before giving up on a profile that never stops changing."""


class ProfileContention(RuntimeError):
    """A profile kept changing under every attempt to write it."""


@dataclass(frozen=True, slots=True)
class _ReadStep:
    name: str
    entity: Entity
    receiver: bool
    key_prefix: str
    op: str  # "c" count, "u" units, "d" distinct
    bucket_seconds: int
    buckets: int
    window_seconds: int
    zero: int | Decimal


@dataclass(frozen=True, slots=True)
class _StoredProfile:
    blob: bytes | None
    version: str


_NO_PROFILE = _StoredProfile(None, "0")
_decoder = msgspec.msgpack.Decoder(AccountProfile)
_encoder = msgspec.msgpack.Encoder()


class RedisFeatureStore:
    """`FeatureStore` kept in Redis (6.2 or newer), shared by every process using `prefix`.

    An added event reaches Redis with this store's next request or at `flush`: this
    store's own reads always see it; other processes see it once it has been sent.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        prefix: str = DEFAULT_PREFIX,
        expiry_slack_seconds: int = 3600,
        retry_window_seconds: int = 3600,
        client: redis.Redis | None = None,
    ) -> None:
        self._client = client if client is not None else redis.Redis.from_url(url)
        self._channel = ScriptChannel(self._client)
        self._read_sha = self._channel.script(READ)
        self._update_sha = self._channel.script(UPDATE)
        self._reports_sha = self._channel.script(REPORTS)
        self.prefix = prefix
        self._reports_key = prefix + "r"
        self._slack = expiry_slack_seconds
        self._retry_window = str(retry_window_seconds)
        self._rewritten = False
        self._kept = KeptStates()
        self._ttl: dict[str, str] = {}
        self._plans: dict[int, tuple[Sequence[WindowFeature], list[_ReadStep]]] = {}
        self._last_read: tuple[WalletEvent, _StoredProfile] | None = None

    @property
    def requests(self) -> int:
        """Round trips to Redis so far."""
        return self._channel.requests

    # -- configuration --------------------------------------------------------------------

    def maintain(self, features: Iterable[WindowFeature]) -> None:
        self._kept.add(features)
        for spec in self._kept.specs.values():
            self._ttl[spec.state_id] = str(spec.window_seconds + spec.bucket_seconds + self._slack)

    @property
    def maintained(self) -> list[str]:
        return sorted(self._kept.features)

    # -- reading --------------------------------------------------------------------------

    def read(
        self, event: WalletEvent, keys: EventKeys, wanted: Sequence[WindowFeature]
    ) -> FeatureSnapshot:
        ts = event.ts
        values: dict[str, int | Decimal] = {}
        asked: list[_ReadStep] = []
        script_keys: list[str] = []
        args: list[str] = []
        for step in self._plan(wanted):
            key = keys.for_entity(step.entity, receiver_subject=step.receiver)
            values[step.name] = step.zero
            if key is None:
                continue
            asked.append(step)
            script_keys.append(step.key_prefix + key)
            if step.op == "d":
                args += ("d", "(" + repr(ts - step.window_seconds), repr(ts))
            else:
                bucket = int(ts // step.bucket_seconds)
                args += (step.op, str(bucket - step.buckets + 1), str(bucket))
        script_keys.append(self._profile_key(event.account_id))
        args.append("p")
        if keys.receiver is not None:
            script_keys.append(self._profile_key(keys.receiver[2:]))
            args.append("p")
        for reported in (keys.counterparty, keys.device):
            if reported is not None:
                script_keys.append(self._reports_key)
                args += ("r", reported)

        self._rewritten = False
        reply = self._channel.run(self._read_sha, script_keys, args, changes_state=False)
        if self._rewritten:  # the update sent with this read lost its compare-and-set
            reply = self._channel.run(self._read_sha, script_keys, args, changes_state=False)

        for step, value in zip(asked, reply, strict=False):
            if step.op == "u":
                values[step.name] = from_units(sum(int(units) for units in value))
            else:
                values[step.name] = value
        rest = iter(reply[len(asked) :])
        own = next(rest)
        self._last_read = (event, _StoredProfile(own[0], (own[1] or b"0").decode()))
        profile = _merged_profile(own) or AccountProfile()
        receiver_profile = _merged_profile(next(rest)) if keys.receiver is not None else None
        counterparty_reports = int(next(rest) or 0) if keys.counterparty is not None else 0
        device_reports = int(next(rest) or 0) if keys.device is not None else 0
        return FeatureSnapshot(
            values, profile, receiver_profile, counterparty_reports, device_reports
        )

    def _plan(self, wanted: Sequence[WindowFeature]) -> list[_ReadStep]:
        """How to read `wanted`, worked out once per distinct sequence of features."""
        plan = self._plans.get(id(wanted))
        if plan is None or plan[0] is not wanted:
            specs = self._kept.specs
            steps = []
            for f in wanted:
                spec = specs[f.state_id]
                steps.append(
                    _ReadStep(
                        name=f.name,
                        entity=f.entity,
                        receiver=f.subject.receiver,
                        key_prefix=self._window_key_prefix(f.state_id),
                        op="d" if f.is_distinct else "c" if f.measure == "count" else "u",
                        bucket_seconds=spec.bucket_seconds,
                        buckets=spec.buckets,
                        window_seconds=spec.window_seconds,
                        zero=0 if f.value_type == "int" else from_units(0),
                    )
                )
            plan = self._plans[id(wanted)] = (wanted, steps)
        return plan[1]

    # -- updating -------------------------------------------------------------------------

    def update(
        self,
        event: WalletEvent,
        keys: EventKeys,
        *,
        learn: bool,
        where: Located,
        reports: Sequence[str] = (),
    ) -> None:
        ts = event.ts
        script_keys: list[str] = [f"{self.prefix}e:{event.event_id}"]
        args: list[str | bytes] = ["o", self._retry_window]
        for subject, specs in self._kept.by_subject.values():
            if not subject.matches(event):
                continue
            for spec in specs:
                key = update_key(keys, spec.key_role)
                if key is None:
                    continue
                ttl = self._ttl[spec.state_id]
                if spec.distinct_of is None:
                    bucket = str(int(ts // spec.bucket_seconds))
                    args += ("c", bucket, str(keys.units), str(spec.buckets), ttl)
                else:
                    value = distinct_value(event, spec.distinct_of)
                    if value is None:
                        continue
                    args += ("d", value, repr(ts), repr(ts - spec.window_seconds), ttl)
                script_keys.append(self._window_key_prefix(spec.state_id) + key)

        last_read, self._last_read = self._last_read, None
        stored = last_read[1] if last_read is not None and last_read[0] is event else None
        if stored is None:
            stored = self._fetch_profile(event.account_id)
        profile_key = self._profile_key(event.account_id)
        blob, money_in = _applied(stored, event, fact=True, learn=learn, where=where)
        script_keys.append(profile_key)
        args += ("p", stored.version, str(int(stored.version) + 1), blob)
        if money_in is not None:
            script_keys.append(profile_key)
            args += ("m", *money_in)
        if learn and keys.receiver is not None and event.amount is not None:
            script_keys.append(self._profile_key(keys.receiver[2:]))
            args += ("m", repr(ts), str(keys.units))
        for reported in reports:  # under the event's once-only guard, like its counters
            script_keys.append(self._reports_key)
            args += ("r", reported)

        def on_reply(written: Reply) -> None:
            if not written:  # 0: the profile had moved on (2, already added: nothing to do)
                self._rewrite_profile(event, fact=True, learn=learn, where=where, money=False)
                self._rewritten = True

        self._channel.queue(self._update_sha, script_keys, args, on_reply)

    def learn_later(self, event: WalletEvent, where: Located) -> None:
        self._rewrite_profile(event, fact=False, learn=True, where=where, money=True)

    def report_fraud(self, keys: Iterable[str]) -> None:
        commands = [("HINCRBY", self._reports_key, key, 1) for key in keys]
        if commands:
            self._channel.call_many(commands)

    def case_reports_cursor(self) -> int:
        """The highest `feature_reports` id any worker has applied (0: none)."""
        (cursor,) = self._channel.call_many([("GET", self.prefix + "rc")])
        return int(cursor or 0)

    def apply_case_reports(self, rows: Sequence[tuple[int, Sequence[str]]]) -> tuple[int, int]:
        """Count the fraud reports of resolved cases, `(feature_reports id, typed keys)`, that
        no worker sharing this prefix has counted yet (one script, atomic: each id is counted
        once however many workers send it; an id `REPORT_LOOKBACK` or more below the highest
        applied is taken as applied). Returns (rows applied now, highest id applied)."""
        args: list[str] = [str(REPORT_LOOKBACK)]
        for report_id, keys in rows:
            args += (str(report_id), str(len(keys)), *keys)
        script_keys = [self._reports_key, self.prefix + "ra", self.prefix + "rc"]
        done, cursor = self._channel.run(self._reports_sha, script_keys, args, changes_state=True)
        return int(done), int(cursor)

    def _rewrite_profile(
        self, event: WalletEvent, *, fact: bool, learn: bool, where: Located, money: bool
    ) -> None:
        """Apply an event to the account's current profile, retrying while another writer
        gets in first. `money`: also record the account's own money in, if the event has
        one (once: money in is not versioned, so a retry must not set it again)."""
        key = self._profile_key(event.account_id)
        for _ in range(PROFILE_WRITE_ATTEMPTS):
            stored = self._fetch_profile(event.account_id)
            blob, money_in = _applied(stored, event, fact=fact, learn=learn, where=where)
            script_keys = [key]
            args: list[str | bytes] = ["p", stored.version, str(int(stored.version) + 1), blob]
            if money and money_in is not None:
                script_keys.append(key)
                args += ("m", *money_in)
                money = False
            if self._channel.run(self._update_sha, script_keys, args, changes_state=True):
                return
        raise ProfileContention(f"the profile of {event.account_id} kept changing")

    def _fetch_profile(self, account_id: str) -> _StoredProfile:
        blob, version = self._channel.call_many(
            [("HMGET", self._profile_key(account_id), "b", "v")]
        )[0]
        return _NO_PROFILE if version is None else _StoredProfile(blob, version.decode())

    # -- keys and housekeeping --------------------------------------------------------------

    def _window_key_prefix(self, state_id: str) -> str:
        return f"{self.prefix}w:{state_id}:"

    def _profile_key(self, account_id: str) -> str:
        return f"{self.prefix}p:{account_id}"

    def flush(self) -> None:
        """Send an added event that is still waiting for the next request, and wait until
        Redis has applied it."""
        self._channel.flush()

    def clear(self) -> int:
        """Delete every key under this store's prefix; returns how many there were."""
        self.flush()
        pattern = "".join("\\" + c if c in "*?[]\\" else c for c in self.prefix) + "*"
        removed = 0
        batch: list[bytes] = []
        for key in self._client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                removed += self._client.unlink(*batch)
                batch = []
        if batch:
            removed += self._client.unlink(*batch)
        return removed

    def close(self) -> None:
        """Send what is still waiting, then release the connection."""
        try:
            self._channel.close()
        finally:
            self._client.close()


def _merged_profile(fields: list[bytes | None]) -> AccountProfile | None:
    """A profile from its hash fields `[b, v, mt, mu]`, money in merged in; None if absent."""
    blob, _, money_in_ts, money_in_units = fields
    if blob is None and money_in_ts is None:
        return None
    profile = _decoder.decode(blob) if blob is not None else AccountProfile()
    if money_in_ts is not None:
        profile.last_money_in_ts = float(money_in_ts)
        profile.last_money_in_units = int(money_in_units or 0)
    return profile


def _applied(
    stored: _StoredProfile, event: WalletEvent, *, fact: bool, learn: bool, where: Located
) -> tuple[bytes, tuple[str, str] | None]:
    """The stored profile with `event` applied, as a blob without money-in fields, and the
    account's own money in (time, units) if applying it noted one."""
    profile = _decoder.decode(stored.blob) if stored.blob is not None else AccountProfile()
    _take_money_in(profile)  # kept in the hash, not here
    if fact:
        profile.record_fact(event)
    if learn:
        profile.learn(event, where.country, where.lat, where.lon)
    money_in = _take_money_in(profile)
    return _encoder.encode(profile), money_in


def _take_money_in(profile: AccountProfile) -> tuple[str, str] | None:
    """Clear the profile's money-in fields; returns what they held (time, units), if set."""
    ts, units = profile.last_money_in_ts, profile.last_money_in_units
    profile.last_money_in_ts = None
    profile.last_money_in_units = 0
    return None if ts is None else (repr(ts), str(units))
