"""Bindings: every device and bank / credit / securities / social-security / corporate
account bound to a wallet, with when, from which device and where it was bound.

A binding is never deleted: unbinding stamps it (when, by whom, why), so the history
stays. Binding the same token again later opens a new record. `target` is `device` for
trusted devices and `account` for bound accounts; `token` is the device id or the
tokenised account number.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from walletguard.events.model import EventType, WalletEvent
from walletguard.kernel.canonical import sha256_hex
from walletguard.kernel.errors import Conflict


class Target(StrEnum):
    DEVICE = "device"
    ACCOUNT = "account"


@dataclass(frozen=True, slots=True)
class Binding:
    id: str
    account_id: str
    target: Target
    kind: str
    """`device`, or the bound account's kind (bank_card, credit_card, ...)."""
    token: str
    bound_at: datetime
    bound_event_id: str | None = None
    institution: str | None = None
    from_device: str | None = None
    from_ip: str | None = None
    from_country: str | None = None
    lat: float | None = None
    lon: float | None = None
    unbound_at: datetime | None = None
    unbound_by: str | None = None
    unbind_reason: str | None = None
    suspicious: bool = False
    suspicious_reason: str | None = None
    flagged_by: str | None = None
    flagged_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.unbound_at is None

    def unbind(self, *, by: str, at: datetime, reason: str) -> Binding:
        if not self.active:
            raise Conflict(f"{self.kind} {self.token} was already unbound at {self.unbound_at}")
        return replace(self, unbound_at=at, unbound_by=by, unbind_reason=reason)

    def flag(self, *, by: str, at: datetime, reason: str) -> Binding:
        return replace(
            self, suspicious=True, suspicious_reason=reason, flagged_by=by, flagged_at=at
        )


def binding_id(account_id: str, target: Target, token: str, bound_event_id: str) -> str:
    """Stable id of the binding an event made (a retried event makes the same one)."""
    return "bd-" + sha256_hex(f"{account_id}\n{target}\n{token}\n{bound_event_id}".encode())[:20]


class BindingRepository(Protocol):
    def current(self, account_id: str, target: Target, token: str) -> Binding | None:
        """The newest binding of `token` to the account (active or not), if any."""

    def save(self, binding: Binding) -> None: ...

    def is_bound(self, account_id: str, token: str) -> bool:
        """Whether the bank / card account `token` is bound to the account right now."""

    def history(self, account_id: str) -> list[Binding]:
        """Every binding the account ever had, newest first."""


def binding_from_event(
    event: WalletEvent,
    *,
    at: datetime,
    country: str | None,
    lat: float | None,
    lon: float | None,
) -> Binding | None:
    """The binding an `account_bind` / `device_bind` event makes (None if it names none)."""
    if event.type is EventType.DEVICE_BIND:
        if event.device is None:
            return None
        target, kind, token = Target.DEVICE, "device", event.device.id
        institution = event.device.model or event.device.os
    elif event.type is EventType.ACCOUNT_BIND and event.binding is not None:
        target, kind, token = Target.ACCOUNT, event.binding.kind, event.binding.token
        institution = event.binding.institution
    else:
        return None
    return Binding(
        id=binding_id(event.account_id, target, token, event.event_id),
        account_id=event.account_id,
        target=target,
        kind=kind,
        token=token,
        bound_at=at,
        bound_event_id=event.event_id,
        institution=institution,
        from_device=event.device_id,
        from_ip=event.ip_text,
        from_country=country,
        lat=lat,
        lon=lon,
    )


def unbinding_target(event: WalletEvent) -> tuple[Target, str] | None:
    """What an `account_unbind` / `device_unbind` event removes."""
    if event.type is EventType.DEVICE_UNBIND and event.device is not None:
        return Target.DEVICE, event.device.id
    if event.type is EventType.ACCOUNT_UNBIND and event.binding is not None:
        return Target.ACCOUNT, event.binding.token
    return None
