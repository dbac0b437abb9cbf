"""Block, allow and watch lists over accounts, devices, IPs, IP ranges, bound-account tokens
and counterparties, each entry with an optional expiry.

An entry applies to an event when it has not expired at the event's time. The
matcher is built from a snapshot of the entries and answers in a few dict look-ups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

from walletguard.events.decode import unmapped
from walletguard.events.model import WalletEvent
from walletguard.kernel.errors import FieldProblem, InvalidInput


class ListKind(StrEnum):
    BLOCK = "block"
    ALLOW = "allow"
    WATCH = "watch"


class ListEntity(StrEnum):
    ACCOUNT = "account"
    DEVICE = "device"
    IP = "ip"
    IP_RANGE = "ip_range"
    TOKEN = "token"
    COUNTERPARTY = "counterparty"


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One listed value. `value` for a counterparty is `type:id` (e.g. `account:w-42`)."""

    kind: ListKind
    entity: ListEntity
    value: str
    reason: str
    expires_at: datetime | None = None
    created_by: str = "system"
    id: int | None = None

    def active_at(self, moment: datetime) -> bool:
        return self.expires_at is None or moment < self.expires_at


def normalise_list_value(entity: ListEntity, value: str) -> str:
    """Canonical form of a listed value; raises `InvalidInput` when it cannot be one."""
    value = value.strip()
    if not value:
        raise InvalidInput([FieldProblem("$.value", "must not be empty")])
    try:
        if entity is ListEntity.IP:
            return str(unmapped(ip_address(value)))
        if entity is ListEntity.IP_RANGE:
            return str(ip_network(value, strict=False))
    except ValueError as exc:
        raise InvalidInput([FieldProblem("$.value", f"{value!r}: {exc}")]) from None
    if entity is ListEntity.COUNTERPARTY and ":" not in value:
        raise InvalidInput(
            [FieldProblem("$.value", "a counterparty is written type:id, e.g. account:w-42")]
        )
    return value


@dataclass(frozen=True, slots=True)
class ListHit:
    entry: ListEntry

    @property
    def label(self) -> str:
        return f"{self.entry.entity.value} {self.entry.value} ({self.entry.reason})"


class ListMatcher:
    """Finds the list entries that apply to an event."""

    def __init__(self, entries: list[ListEntry]) -> None:
        self._exact: dict[tuple[ListEntity, str], list[ListEntry]] = {}
        self._ranges: dict[int, dict[str, list[ListEntry]]] = {}
        for entry in entries:
            if entry.entity is ListEntity.IP_RANGE:
                network = ip_network(entry.value, strict=False)
                bucket = self._ranges.setdefault(
                    network.prefixlen + (0 if network.version == 4 else 1000), {}
                )
                bucket.setdefault(str(network), []).append(entry)
            else:
                self._exact.setdefault((entry.entity, entry.value), []).append(entry)
        self.empty = not entries

    def matches(self, event: WalletEvent) -> list[ListHit]:
        """Entries, active at the event's time, naming something the event involves."""
        if self.empty:
            return []
        found: list[ListEntry] = []
        exact = self._exact
        candidates: list[tuple[ListEntity, str | None]] = [
            (ListEntity.ACCOUNT, event.account_id),
            (ListEntity.DEVICE, event.device.id if event.device else None),
            (ListEntity.IP, str(event.ip) if event.ip is not None else None),
            (ListEntity.TOKEN, event.binding.token if event.binding else None),
            (ListEntity.COUNTERPARTY, event.counterparty_key),
        ]
        for entity, value in candidates:
            if value is not None:
                found.extend(exact.get((entity, value), ()))
        if event.ip is not None and self._ranges:
            found.extend(self._range_matches(event.ip))
        return [ListHit(e) for e in found if e.active_at(event.occurred_at)]

    def _range_matches(self, ip: IPv4Address | IPv6Address) -> list[ListEntry]:
        found: list[ListEntry] = []
        offset = 0 if ip.version == 4 else 1000
        for key, networks in self._ranges.items():
            prefix = key - offset
            if not 0 <= prefix <= ip.max_prefixlen:
                continue
            network = ip_network(f"{ip}/{prefix}", strict=False)
            found.extend(networks.get(str(network), ()))
        return found
