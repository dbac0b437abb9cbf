"""Simulated events: contract documents with their time, label and who made them.

`EventFactory` builds every event the simulator emits as a plain dict in the
shape of `shared/contract/wallet-event.schema.json`; amounts arrive as integer
cents and leave as decimal strings. A `Persona` says who acts and from where
(account, device, network, GPS, clock), so legit users and attackers share
one way of building events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from walletguard.simulate.amounts import cents_text
from walletguard.simulate.clock import rfc3339
from walletguard.simulate.ids import IdMint


@dataclass(frozen=True, slots=True)
class Label:
    """Why an event is malicious: its campaign, the campaign's typology and the step."""

    campaign_id: str
    typology: str
    stage: str


class SimEvent:
    """One emitted event: `doc` is the contract document, `at` its instant in POSIX seconds."""

    __slots__ = ("at", "doc", "label")

    def __init__(self, at: int, doc: dict[str, Any], label: Label | None = None) -> None:
        self.at = at
        self.doc = doc
        self.label = label

    @property
    def event_id(self) -> str:
        event_id: str = self.doc["event_id"]
        return event_id

    @property
    def type(self) -> str:
        kind: str = self.doc["type"]
        return kind

    def __repr__(self) -> str:
        tag = f" {self.label.typology}/{self.label.stage}" if self.label else ""
        return f"<SimEvent {self.doc['occurred_at']} {self.type} {self.doc['account_id']}{tag}>"


class Persona:
    """Who acts and from where. Shared dicts are never mutated once an event uses them."""

    __slots__ = ("account_id", "channel", "device", "geo", "network", "offset", "session_id")

    def __init__(
        self,
        account_id: str,
        offset: int,
        *,
        device: dict[str, Any] | None = None,
        ip: str | None = None,
        user_agent: str | None = None,
        geo: tuple[float, float] | None = None,
        accuracy_m: int = 20,
        channel: str = "app",
        session_id: str | None = None,
    ) -> None:
        self.account_id = account_id
        self.offset = offset
        self.device = device
        self.channel = channel
        self.session_id = session_id
        self.network: dict[str, Any] | None = None
        if ip is not None:
            self.network = (
                {"ip": ip} if user_agent is None else {"ip": ip, "user_agent": user_agent}
            )
        self.geo: dict[str, Any] | None = None
        if geo is not None:
            self.geo = {"lat": geo[0], "lon": geo[1], "accuracy_m": accuracy_m}


class EventFactory:
    """Builds contract events; every id comes from the run's `IdMint`, in emission order."""

    __slots__ = ("ids",)

    def __init__(self, ids: IdMint) -> None:
        self.ids = ids

    def base(self, at: int, p: Persona, kind: str) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "event_id": self.ids.event(),
            "type": kind,
            "occurred_at": rfc3339(at, p.offset),
            "account_id": p.account_id,
            "channel": p.channel,
        }
        if p.session_id is not None:
            doc["session_id"] = p.session_id
        if p.device is not None:
            doc["device"] = p.device
        if p.network is not None:
            doc["network"] = p.network
        if p.geo is not None:
            doc["geo"] = p.geo
        return doc

    def simple(self, at: int, p: Persona, kind: str) -> SimEvent:
        """An event with nothing beyond the common fields (register, logout, device_bind...)."""
        return SimEvent(at, self.base(at, p, kind))

    def with_auth(self, at: int, p: Persona, kind: str, method: str, success: bool) -> SimEvent:
        """login, txn_password_verify, password_* events: how the user proved who they are."""
        doc = self.base(at, p, kind)
        doc["auth"] = {"method": method, "success": success}
        return SimEvent(at, doc)

    def profile_change(self, at: int, p: Persona, field: str) -> SimEvent:
        doc = self.base(at, p, "profile_change")
        doc["profile"] = {"field": field, "new_value_hash": self.ids.value_hash()}
        return SimEvent(at, doc)

    def account_bind(
        self,
        at: int,
        p: Persona,
        *,
        kind: str,
        token: str,
        institution: str,
        holder_name_match: bool = True,
        real_name_verified: bool = True,
    ) -> SimEvent:
        doc = self.base(at, p, "account_bind")
        doc["binding"] = {
            "kind": kind,
            "token": token,
            "institution": institution,
            "holder_name_match": holder_name_match,
            "real_name_verified": real_name_verified,
        }
        return SimEvent(at, doc)

    def topup(
        self,
        at: int,
        p: Persona,
        *,
        cents: int,
        currency: str,
        channel: str,
        channel_ref: str,
        merchant_no: str,
    ) -> SimEvent:
        """The user says money came in from a channel (not yet confirmed)."""
        doc = self.base(at, p, "topup")
        doc["amount"] = cents_text(cents)
        doc["currency"] = currency
        doc["topup"] = {"channel": channel, "channel_ref": channel_ref, "merchant_no": merchant_no}
        return SimEvent(at, doc)

    def topup_confirmation(
        self,
        at: int,
        account_id: str,
        offset: int,
        *,
        cents: int,
        currency: str,
        channel: str,
        channel_ref: str,
        merchant_no: str,
        signature_valid: bool = True,
    ) -> SimEvent:
        """The channel's server-to-server callback: no device, no client network."""
        doc = self.base(at, Persona(account_id, offset, channel="api"), "topup_confirmation")
        doc["amount"] = cents_text(cents)
        doc["currency"] = currency
        doc["topup"] = {
            "channel": channel,
            "channel_ref": channel_ref,
            "merchant_no": merchant_no,
            "signature_valid": signature_valid,
        }
        return SimEvent(at, doc)

    def transfer(
        self, at: int, p: Persona, *, cents: int, currency: str, to_account: str
    ) -> SimEvent:
        doc = self.base(at, p, "transfer")
        doc["amount"] = cents_text(cents)
        doc["currency"] = currency
        doc["counterparty"] = {"type": "account", "id": to_account}
        return SimEvent(at, doc)

    def payment(
        self,
        at: int,
        p: Persona,
        *,
        cents: int,
        currency: str,
        merchant_id: str,
        merchant_name: str,
        country: str,
    ) -> SimEvent:
        doc = self.base(at, p, "payment")
        doc["amount"] = cents_text(cents)
        doc["currency"] = currency
        doc["counterparty"] = {
            "type": "merchant",
            "id": merchant_id,
            "name": merchant_name,
            "country": country,
        }
        return SimEvent(at, doc)

    def withdrawal(
        self,
        at: int,
        p: Persona,
        *,
        cents: int,
        currency: str,
        token: str,
        kind: str = "bank_card",
        institution: str | None = None,
    ) -> SimEvent:
        """Money out to an account bound to the wallet, named by its token."""
        doc = self.base(at, p, "withdrawal")
        doc["amount"] = cents_text(cents)
        doc["currency"] = currency
        binding: dict[str, Any] = {"kind": kind, "token": token}
        if institution is not None:
            binding["institution"] = institution
        doc["binding"] = binding
        return SimEvent(at, doc)

    def fraud_report(self, at: int, p: Persona, ref_event_id: str) -> SimEvent:
        """The account holder says an earlier event was fraud."""
        doc = self.base(at, p, "fraud_report")
        doc["ref_event_id"] = ref_event_id
        return SimEvent(at, doc)
