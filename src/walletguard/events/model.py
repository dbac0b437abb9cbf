"""The normalised wallet event the engine works with.

Invariants, established by `decode`:
- `occurred_at` is timezone-aware UTC; `ts` is the same instant as POSIX seconds;
  `local_hour` is the hour on the client's own clock (the offset it sent).
- `amount` is an exact `Decimal` or None; never a float.
- `ip` is a parsed address, or None when the client sent none or an unparseable one
  (`ip_text` keeps what was sent).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from walletguard.events.wire import (
    WireAuth,
    WireBinding,
    WireCounterparty,
    WireDevice,
    WireGeo,
    WireProfile,
    WireStepUp,
    WireTopup,
)


class EventType(StrEnum):
    REGISTER = "register"
    LOGIN = "login"
    LOGOUT = "logout"
    PASSWORD_CHANGE = "password_change"
    PASSWORD_RESET_REQUEST = "password_reset_request"
    PASSWORD_RESET_COMPLETE = "password_reset_complete"
    TXN_PASSWORD_VERIFY = "txn_password_verify"
    PROFILE_CHANGE = "profile_change"
    DEVICE_BIND = "device_bind"
    DEVICE_UNBIND = "device_unbind"
    ACCOUNT_BIND = "account_bind"
    ACCOUNT_UNBIND = "account_unbind"
    TOPUP = "topup"
    TOPUP_CONFIRMATION = "topup_confirmation"
    TRANSFER = "transfer"
    PAYMENT = "payment"
    WITHDRAWAL = "withdrawal"
    STEP_UP_RESULT = "step_up_result"
    CHARGEBACK = "chargeback"
    FRAUD_REPORT = "fraud_report"


MONEY_OUT = frozenset({EventType.TRANSFER, EventType.PAYMENT, EventType.WITHDRAWAL})
MONEY_IN = frozenset({EventType.TOPUP, EventType.TOPUP_CONFIRMATION})
LABELS = frozenset({EventType.CHARGEBACK, EventType.FRAUD_REPORT})
BINDING_CHANGES = frozenset(
    {
        EventType.DEVICE_BIND,
        EventType.DEVICE_UNBIND,
        EventType.ACCOUNT_BIND,
        EventType.ACCOUNT_UNBIND,
    }
)
SENSITIVE = frozenset(
    {
        EventType.ACCOUNT_BIND,
        EventType.DEVICE_BIND,
        EventType.PASSWORD_CHANGE,
        EventType.PASSWORD_RESET_REQUEST,
        EventType.PASSWORD_RESET_COMPLETE,
        EventType.PROFILE_CHANGE,
        EventType.WITHDRAWAL,
    }
)
"""Operations where a new, emulated or rooted device is itself a signal."""


class WalletEvent:
    """One validated, normalised event. Treat as immutable."""

    __slots__ = (
        "account_id",
        "amount",
        "auth",
        "binding",
        "channel",
        "counterparty",
        "currency",
        "device",
        "event_id",
        "geo",
        "ip",
        "ip_text",
        "local_hour",
        "metadata",
        "occurred_at",
        "payload",
        "payload_hash",
        "profile",
        "ref_event_id",
        "session_id",
        "step_up",
        "topup",
        "ts",
        "type",
        "user_agent",
    )

    event_id: str
    type: EventType
    occurred_at: datetime
    ts: float
    local_hour: int
    account_id: str
    session_id: str | None
    channel: str | None
    amount: Decimal | None
    currency: str | None
    device: WireDevice | None
    ip: IPv4Address | IPv6Address | None
    ip_text: str | None
    user_agent: str | None
    geo: WireGeo | None
    auth: WireAuth | None
    counterparty: WireCounterparty | None
    binding: WireBinding | None
    topup: WireTopup | None
    profile: WireProfile | None
    step_up: WireStepUp | None
    ref_event_id: str | None
    metadata: dict[str, Any] | None
    payload: bytes
    """The document as received, canonical JSON (sorted keys): what is stored and hashed."""
    payload_hash: str

    def __init__(self, **values: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, values.get(name))

    @property
    def device_id(self) -> str | None:
        return self.device.id if self.device is not None else None

    @property
    def counterparty_key(self) -> str | None:
        """`type:id` of the counterparty; a wallet counterparty shares the account key space."""
        cp = self.counterparty
        return None if cp is None else f"{cp.type}:{cp.id}"

    def __repr__(self) -> str:
        return f"WalletEvent({self.event_id!r}, {self.type.value}, {self.account_id!r})"
