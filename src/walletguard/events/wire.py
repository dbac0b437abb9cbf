"""The wire shape of a v1 wallet event, mirroring `schema/wallet-event.schema.json`.

msgspec checks types and constraints while decoding (a few microseconds per
event) and reports the JSON path of the first problem. Unknown fields are
accepted, as the schema allows; the raw document is kept separately.
Patterns end in `\\Z` rather than `$` so a trailing newline is refused, as an
ECMA-262 `$` would.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

Str128 = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
OptStr128 = Annotated[str, msgspec.Meta(max_length=128)]
Str64 = Annotated[str, msgspec.Meta(max_length=64)]
Str32 = Annotated[str, msgspec.Meta(max_length=32)]
Amount = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,15}(\.[0-9]{1,4})?\Z")]
Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}\Z")]
Country = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}\Z")]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
NonNegative = Annotated[float, msgspec.Meta(ge=0)]

EventTypeName = Literal[
    "register", "login", "logout",
    "password_change", "password_reset_request", "password_reset_complete",
    "txn_password_verify",
    "profile_change",
    "device_bind", "device_unbind",
    "account_bind", "account_unbind",
    "topup", "topup_confirmation",
    "transfer", "payment", "withdrawal",
    "step_up_result",
    "chargeback", "fraud_report",
]  # fmt: skip
ChannelName = Literal["app", "web", "api", "agent", "ussd"]
AuthMethod = Literal[
    "password", "txn_password", "sms_otp", "email_otp", "totp", "biometric", "face", "none"
]
CounterpartyType = Literal["account", "merchant", "bank_account", "card", "external_wallet"]
BindingKind = Literal["bank_card", "credit_card", "securities", "social_security", "corporate"]
ProfileField = Literal["phone", "email", "name", "sim"]
StepUpMethod = Literal["sms_otp", "email_otp", "totp", "biometric", "face", "manual_kyc"]


class WireDevice(msgspec.Struct, frozen=True):
    id: Str128
    os: Str64 | None = None
    model: Str64 | None = None
    app_version: Str32 | None = None
    is_emulator: bool | None = None
    is_rooted: bool | None = None


class WireNetwork(msgspec.Struct, frozen=True):
    ip: str
    user_agent: Annotated[str, msgspec.Meta(max_length=512)] | None = None


class WireGeo(msgspec.Struct, frozen=True):
    lat: Latitude
    lon: Longitude
    accuracy_m: NonNegative | None = None


class WireAuth(msgspec.Struct, frozen=True):
    method: AuthMethod
    success: bool


class WireCounterparty(msgspec.Struct, frozen=True):
    type: CounterpartyType
    id: Str128
    name: Annotated[str, msgspec.Meta(max_length=256)] | None = None
    country: Country | None = None


class WireBinding(msgspec.Struct, frozen=True):
    kind: BindingKind
    token: Str128
    institution: OptStr128 | None = None
    holder_name_match: bool | None = None
    real_name_verified: bool | None = None


class WireTopup(msgspec.Struct, frozen=True):
    channel: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    channel_ref: Str128
    merchant_no: Str64 | None = None
    signature_valid: bool | None = None


class WireProfile(msgspec.Struct, frozen=True):
    field: ProfileField | None = None
    new_value_hash: OptStr128 | None = None


class WireStepUp(msgspec.Struct, frozen=True):
    challenge_id: OptStr128
    method: StepUpMethod
    success: bool


class WireEvent(msgspec.Struct, frozen=True):
    event_id: Str128
    type: EventTypeName
    # Kept as text: RFC 3339 allows a few instants (leap seconds, year 0) that
    # Python's datetime cannot hold; `decode` normalises them.
    occurred_at: str
    account_id: Str128
    session_id: OptStr128 | None = None
    channel: ChannelName | None = None
    amount: Amount | None = None
    currency: Currency | None = None
    device: WireDevice | None = None
    network: WireNetwork | None = None
    geo: WireGeo | None = None
    auth: WireAuth | None = None
    counterparty: WireCounterparty | None = None
    binding: WireBinding | None = None
    topup: WireTopup | None = None
    profile: WireProfile | None = None
    step_up: WireStepUp | None = None
    ref_event_id: OptStr128 | None = None
    metadata: dict[str, Any] | None = None
