"""The `FeatureStore` port and the values that cross it.

Point in time: `read` describes the world *before* the event; the engine calls
`update` only after the event's decision, so an event never sees itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import lru_cache
from ipaddress import IPv4Address, IPv6Address
from typing import Protocol

from walletguard.enrich.ip_intel import ip_prefix_key
from walletguard.enrich.location import Located
from walletguard.events.model import WalletEvent
from walletguard.features.names import Entity, WindowFeature
from walletguard.features.profile import AccountProfile
from walletguard.kernel.money import AmountError, to_units


@lru_cache(maxsize=65536)
def _ip_keys(ip: IPv4Address | IPv6Address) -> tuple[str | None, str | None]:
    return "i:" + str(ip), "n:" + ip_prefix_key(ip)


class EventKeys:
    """The typed identities an event touches, computed once per event.

    Keys are `kind:value` strings: `a:` wallet account, `d:` device, `i:` IP,
    `n:` IP neighbourhood (/24 or /64), `t:` bound-account token, `c:` counterparty.
    A wallet that is the counterparty of a transfer is also `a:<its id>`.
    """

    __slots__ = (
        "account",
        "counterparty",
        "device",
        "ip",
        "ip24",
        "receiver",
        "reported",
        "token",
        "units",
    )

    def __init__(self, event: WalletEvent) -> None:
        self.account = "a:" + event.account_id
        self.device = "d:" + event.device.id if event.device is not None else None
        if event.ip is not None:
            self.ip, self.ip24 = _ip_keys(event.ip)
        else:
            self.ip = self.ip24 = None
        self.token = "t:" + event.binding.token if event.binding is not None else None
        cp = event.counterparty
        self.counterparty = f"c:{cp.type}:{cp.id}" if cp is not None else None
        self.receiver = "a:" + cp.id if cp is not None and cp.type == "account" else None
        try:
            self.units = to_units(event.amount) if event.amount is not None else 0
        except AmountError:  # refused later by the ledger guard; counts as nothing here
            self.units = 0
        self.reported: EventKeys | None = None
        """For a chargeback or fraud report: the keys of the event it reports (set by the
        engine when it finds that event)."""

    def for_entity(self, entity: Entity, *, receiver_subject: bool) -> str | None:
        """The key a feature `by_<entity>` reads for this event."""
        if entity is Entity.ACCOUNT:
            return self.account
        if entity is Entity.COUNTERPARTY:
            return self.receiver if receiver_subject else self.counterparty
        return getattr(self, entity.value)  # type: ignore[no-any-return]


class FeatureSnapshot:
    """What the store knew just before an event: the asked-for window values and the profile."""

    __slots__ = ("counterparty_reports", "device_reports", "profile", "receiver_profile", "values")

    def __init__(
        self,
        values: dict[str, int | Decimal],
        profile: AccountProfile,
        receiver_profile: AccountProfile | None,
        counterparty_reports: int,
        device_reports: int,
    ) -> None:
        self.values = values
        self.profile = profile
        self.receiver_profile = receiver_profile
        self.counterparty_reports = counterparty_reports
        self.device_reports = device_reports


class FeatureStore(Protocol):
    """Port: windowed aggregates and profiles, kept in event time."""

    def maintain(self, features: Iterable[WindowFeature]) -> None:
        """Start keeping these features (in addition to those already kept)."""

    def read(
        self, event: WalletEvent, keys: EventKeys, wanted: Sequence[WindowFeature]
    ) -> FeatureSnapshot:
        """The values of `wanted` and the account's profile, as of just before `event`."""

    def update(
        self,
        event: WalletEvent,
        keys: EventKeys,
        *,
        learn: bool,
        where: Located,
        reports: Sequence[str] = (),
    ) -> None:
        """Add `event`: always to the counters; to the profile only when `learn` (it was let
        through); and count `reports`, the keys it names in fraud (a chargeback or fraud
        report). All of it at most once per event id (see `features.md`)."""

    def learn_later(self, event: WalletEvent, where: Located) -> None:
        """Teach the profile an event that was held and later let through (a passed step-up)."""

    def report_fraud(self, keys: Iterable[str]) -> None:
        """Remember that these typed keys (counterparty, device, account) were named in fraud
        (not guarded against repetition: an event's own reports go with its `update`)."""

    def flush(self) -> None:
        """Make every event added so far visible to the other users of a shared state (a
        shared store may hold an added event back to send it with its next request)."""
