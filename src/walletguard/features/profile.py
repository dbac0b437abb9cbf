"""Per-account behavioural profile: what is normal for this account.

The profile *learns* only from events that were let through (a blocked payment
must not make its payee "known", or a retry would look normal). Facts that
happened whatever walletguard decided (the account was opened, the SIM was
changed, a password reset completed) are recorded regardless.
Collections are bounded: the oldest entries go first.
"""

from __future__ import annotations

import hashlib

import msgspec

from walletguard.accounts.settings import STRONG_METHODS
from walletguard.events.model import MONEY_OUT, EventType, WalletEvent
from walletguard.kernel.money import MAX_UNITS, to_units

MAX_DEVICES = 32
MAX_COUNTERPARTIES = 256
MAX_COUNTRIES = 32
HOUR_HISTORY_MIN = 10
"""Events needed before an account's usual hours are judged at all."""

HABIT_EVENTS = frozenset(
    {
        EventType.LOGIN,
        EventType.ACCOUNT_BIND,
        EventType.DEVICE_BIND,
        EventType.TRANSFER,
        EventType.PAYMENT,
        EventType.WITHDRAWAL,
        EventType.TOPUP,
    }
)
"""Events whose hour of day describes the account's habits."""


class AmountStats(msgspec.Struct, array_like=True, gc=False):
    count: int = 0
    sum_units: int = 0
    max_units: int = 0


class Binding(msgspec.Struct, array_like=True, gc=False):
    bound_ts: float
    kind: str
    institution: str | None


class AccountProfile(msgspec.Struct, gc=False):
    """Everything walletguard remembers about how one account behaves."""

    created_ts: float | None = None
    first_seen_ts: float | None = None
    last_event_ts: float | None = None
    devices: dict[str, float] = msgspec.field(default_factory=dict)
    countries: dict[str, int] = msgspec.field(default_factory=dict)
    hours: list[int] = msgspec.field(default_factory=lambda: [0] * 24)
    auth_methods: dict[str, int] = msgspec.field(default_factory=dict)
    amounts: dict[str, AmountStats] = msgspec.field(default_factory=dict)
    counterparties: bytearray = msgspec.field(default_factory=bytearray)
    """Known payees as 8-byte hashes of `type:id`, oldest first: 8 bytes each instead of
    ~120 for a dict of strings (a third of a profile's memory otherwise)."""
    bound: dict[str, Binding] = msgspec.field(default_factory=dict)
    institutions: list[str] = msgspec.field(default_factory=list)
    binding_kinds: list[str] = msgspec.field(default_factory=list)
    last_password_change_ts: float | None = None
    last_reset_ts: float | None = None
    last_reset_strong: bool = False
    last_phone_change_ts: float | None = None
    last_sim_change_ts: float | None = None
    last_email_change_ts: float | None = None
    last_new_device_ts: float | None = None
    last_binding_ts: float | None = None
    last_money_in_ts: float | None = None
    last_money_in_units: int = 0
    last_lat: float | None = None
    last_lon: float | None = None
    last_loc_ts: float | None = None

    # -- reading -------------------------------------------------------------

    @property
    def hour_history(self) -> int:
        return sum(self.hours)

    def hour_is_usual(self, hour: int) -> bool | None:
        """Whether the account is often active around `hour` (±1 h); None until it has history."""
        total = sum(self.hours)
        if total < HOUR_HISTORY_MIN:
            return None
        around = self.hours[(hour - 1) % 24] + self.hours[hour] + self.hours[(hour + 1) % 24]
        return around / total >= 0.05

    def usual_auth_method(self) -> str | None:
        """The sign-in method used for most successful sign-ins, once there are three."""
        if sum(self.auth_methods.values()) < 3:
            return None
        return max(self.auth_methods.items(), key=lambda kv: kv[1])[0]

    def amount_mean_units(self, event_type: str) -> int | None:
        stats = self.amounts.get(event_type)
        if stats is None or stats.count == 0:
            return None
        return stats.sum_units // stats.count

    def knows_counterparty(self, key: str) -> bool:
        """Whether money went to `key` (`type:id`) before."""
        return _key_hash(key) in memoryview(self.counterparties).cast("Q")

    def amount_count(self, event_type: str) -> int:
        stats = self.amounts.get(event_type)
        return stats.count if stats is not None else 0

    # -- learning ------------------------------------------------------------

    def record_fact(self, event: WalletEvent) -> None:
        """Record what happened whatever the decision (openings, contact changes, resets)."""
        ts = event.ts
        if self.first_seen_ts is None:
            self.first_seen_ts = ts
        if self.last_event_ts is None or ts > self.last_event_ts:
            self.last_event_ts = ts
        kind = event.type
        if kind is EventType.REGISTER:
            if self.created_ts is None:
                self.created_ts = ts
            if event.device is not None:
                self._remember_device(event.device.id, ts, new_is_signal=False)
        elif kind is EventType.PROFILE_CHANGE and event.profile is not None:
            field = event.profile.field
            if field == "phone":
                self.last_phone_change_ts = ts
            elif field == "sim":
                self.last_sim_change_ts = ts
            elif field == "email":
                self.last_email_change_ts = ts
        elif kind is EventType.PASSWORD_RESET_COMPLETE:
            self.last_reset_ts = ts
            method = event.auth.method if event.auth is not None else None
            self.last_reset_strong = method in STRONG_METHODS

    def learn(
        self, event: WalletEvent, country: str | None, lat: float | None, lon: float | None
    ) -> None:
        """Learn from an event that was let through."""
        ts = event.ts
        kind = event.type
        if event.device is not None:
            self._remember_device(event.device.id, ts, new_is_signal=True)
        if country is not None:
            self.countries[country] = self.countries.get(country, 0) + 1
            if len(self.countries) > MAX_COUNTRIES:
                rarest = min(self.countries.items(), key=lambda kv: kv[1])[0]
                del self.countries[rarest]
        if (
            lat is not None
            and lon is not None
            and (self.last_loc_ts is None or ts >= self.last_loc_ts)
        ):  # a late event does not move the account back to where it was before
            self.last_lat, self.last_lon, self.last_loc_ts = lat, lon, ts
        if kind in HABIT_EVENTS:
            self.hours[event.local_hour] += 1
        if kind is EventType.LOGIN and event.auth is not None and event.auth.success:
            method = event.auth.method
            self.auth_methods[method] = self.auth_methods.get(method, 0) + 1
        if event.amount is not None and (kind in MONEY_OUT or kind is EventType.TOPUP):
            self._add_amount(kind.value, to_units(event.amount))
        if kind in MONEY_OUT and event.counterparty is not None:
            self._remember_counterparty(f"{event.counterparty.type}:{event.counterparty.id}")
        if kind is EventType.TOPUP_CONFIRMATION and event.amount is not None:
            self.note_money_in(ts, to_units(event.amount))
        if kind is EventType.PASSWORD_CHANGE:
            self.last_password_change_ts = ts
        if kind is EventType.ACCOUNT_BIND and event.binding is not None:
            binding = event.binding
            self.bound[binding.token] = Binding(ts, binding.kind, binding.institution)
            self.last_binding_ts = ts
            if binding.institution and binding.institution not in self.institutions:
                self.institutions.append(binding.institution)
            if binding.kind not in self.binding_kinds:
                self.binding_kinds.append(binding.kind)
        elif kind is EventType.ACCOUNT_UNBIND and event.binding is not None:
            self.bound.pop(event.binding.token, None)

    def note_money_in(self, ts: float, units: int) -> None:
        self.last_money_in_ts = ts
        self.last_money_in_units = units

    def _remember_device(self, device_id: str, ts: float, *, new_is_signal: bool) -> None:
        if device_id in self.devices:
            return
        self.devices[device_id] = ts
        if new_is_signal:
            self.last_new_device_ts = ts
        if len(self.devices) > MAX_DEVICES:
            del self.devices[next(iter(self.devices))]

    def _remember_counterparty(self, key: str) -> None:
        if self.knows_counterparty(key):
            return
        self.counterparties += _key_hash(key).to_bytes(8, "little")
        if len(self.counterparties) > 8 * MAX_COUNTERPARTIES:
            del self.counterparties[:8]

    def _add_amount(self, kind: str, units: int) -> None:
        stats = self.amounts.get(kind)
        if stats is None:
            stats = self.amounts[kind] = AmountStats()
        stats.count += 1
        # Saturates like a window's sum: the profile is stored as 64-bit integers.
        stats.sum_units = min(stats.sum_units + units, MAX_UNITS)
        stats.max_units = max(stats.max_units, units)


def _key_hash(key: str) -> int:
    """A stable 64-bit hash (Python's own `hash` changes between processes)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")
