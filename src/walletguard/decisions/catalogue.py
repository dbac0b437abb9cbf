"""The names rules can use, their types and how each is read from a `DecisionContext`.

Windowed features (`withdrawal_amount_sum_by_account_24h`, ...) are resolved from
their names (see `features.names`); everything else is listed here. `walletguard
rules names` prints this catalogue.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from walletguard.decisions.context import DecisionContext
from walletguard.enrich.lists import ListKind
from walletguard.events.model import EventType
from walletguard.features.names import FeatureNameError, parse_feature_name
from walletguard.graph.catalogue import GRAPH_SPECS
from walletguard.kernel.money import from_units, to_units
from walletguard.rules.types import NameSpec, ValueType
from walletguard.scoring.facts import SCORING_SPECS

B, INT, N, M, S = ValueType.BOOL, ValueType.INT, ValueType.NUMBER, ValueType.MONEY, ValueType.STRING
C = DecisionContext
HOUR = 3600.0


def _hours_since(attr: str) -> Callable[[C], float | None]:
    def get(c: C) -> float | None:
        ts = getattr(c.profile, attr)
        return None if ts is None else max(0.0, (c.event.ts - ts) / HOUR)

    return get


def _mean(kind: str) -> Callable[[C], Decimal | None]:
    def get(c: C) -> Decimal | None:
        units = c.profile.amount_mean_units(kind)
        return None if units is None else from_units(units)

    return get


def _max(kind: str) -> Callable[[C], Decimal | None]:
    def get(c: C) -> Decimal | None:
        stats = c.profile.amounts.get(kind)
        return None if stats is None or not stats.count else from_units(stats.max_units)

    return get


def _count(kind: str) -> Callable[[C], int]:
    return lambda c: c.profile.amount_count(kind)


def _account_age_days(c: C) -> float | None:
    born = c.profile.created_ts if c.profile.created_ts is not None else c.profile.first_seen_ts
    return None if born is None else max(0.0, (c.event.ts - born) / 86400.0)


def _is_new_account(c: C) -> bool:
    age = _account_age_days(c)
    return age is None or age < c.settings.new_account_days


def _amount_vs_mean(c: C) -> float | None:
    units = c.profile.amount_mean_units(c.event.type.value)
    if c.event.amount is None or not units:
        return None
    return c.keys.units / units


def _device_is_new(c: C) -> bool | None:
    device = c.event.device
    if device is None:
        return None
    return device.id not in c.profile.devices


def _device_flag(attr: str) -> Callable[[C], bool | None]:
    def get(c: C) -> bool | None:
        device = c.event.device
        return None if device is None else bool(getattr(device, attr))

    return get


def _country_is_new(c: C) -> bool | None:
    country = c.located.country
    if country is None or not c.profile.countries:
        return None
    return country not in c.profile.countries


def _auth_unusual(c: C) -> bool | None:
    auth = c.event.auth
    usual = c.profile.usual_auth_method()
    if auth is None or usual is None:
        return None
    return auth.method != usual


def _small_hours(c: C) -> bool:
    start, end = c.settings.small_hours
    return start <= c.event.local_hour <= end


def _binding_attr(attr: str) -> Callable[[C], Any]:
    def get(c: C) -> Any:
        b = c.event.binding
        return None if b is None else getattr(b, attr)

    return get


def _institution_is_new(c: C) -> bool | None:
    b = c.event.binding
    if b is None or not b.institution:
        return None
    return b.institution not in c.profile.institutions


def _kind_is_new(c: C) -> bool | None:
    b = c.event.binding
    return None if b is None else b.kind not in c.profile.binding_kinds


def _is_bound(c: C) -> bool | None:
    b = c.event.binding
    return None if b is None else b.token in c.profile.bound


def _minutes_since_bound(c: C) -> float | None:
    b = c.event.binding
    bound = c.profile.bound.get(b.token) if b is not None else None
    return None if bound is None else max(0.0, (c.event.ts - bound.bound_ts) / 60.0)


def _cp_attr(attr: str) -> Callable[[C], Any]:
    def get(c: C) -> Any:
        cp = c.event.counterparty
        return None if cp is None else getattr(cp, attr)

    return get


def _cp_is_new(c: C) -> bool | None:
    cp = c.event.counterparty
    if cp is None:
        return None
    return not c.profile.knows_counterparty(f"{cp.type}:{cp.id}")


def _drain_ratio(c: C) -> float | None:
    amount = c.event.amount
    available = c.balance.available
    if amount is None or available <= 0:
        return None
    return float(to_units(amount) / available)


def _minutes_since_money_in(c: C) -> float | None:
    ts = c.profile.last_money_in_ts
    return None if ts is None else max(0.0, (c.event.ts - ts) / 60.0)


def _topup_attr(attr: str) -> Callable[[C], Any]:
    def get(c: C) -> Any:
        t = c.event.topup
        return None if t is None else getattr(t, attr)

    return get


def _confirmation_only(getter: Callable[[C], Any]) -> Callable[[C], Any]:
    return lambda c: getter(c) if c.event.type is EventType.TOPUP_CONFIRMATION else None


def _minutes_since_topup_request(c: C) -> float | None:
    topup = c.topup
    if topup is None:
        return None
    return max(0.0, (c.event.occurred_at - topup.requested_at).total_seconds() / 60.0)


def _receiver_age_days(c: C) -> float | None:
    rp = c.snapshot.receiver_profile
    if rp is None:
        return None
    born = rp.created_ts if rp.created_ts is not None else rp.first_seen_ts
    return None if born is None else max(0.0, (c.event.ts - born) / 86400.0)


_SPECS: list[tuple[str, ValueType, Callable[[C], Any], str]] = [
    # the event
    ("event.type", S, lambda c: c.event.type.value, "event type"),
    ("event.amount", M, lambda c: c.event.amount, "amount of a money event"),
    ("event.currency", S, lambda c: c.currency, "currency (the default when the event names none)"),
    ("event.channel", S, lambda c: c.event.channel, "app, web, api, agent or ussd"),
    ("event.local_hour", INT, lambda c: c.event.local_hour, "hour of day on the client's clock"),
    ("event.small_hours", B, _small_hours, "the event happened in the small hours, local time"),
    (
        "auth.method",
        S,
        lambda c: c.event.auth.method if c.event.auth else None,
        "how the user proved who they are",
    ),
    (
        "auth.success",
        B,
        lambda c: c.event.auth.success if c.event.auth else None,
        "whether that worked",
    ),
    (
        "change.field",
        S,
        lambda c: c.event.profile.field if c.event.profile else None,
        "profile field changed",
    ),
    (
        "step_up.method",
        S,
        lambda c: c.event.step_up.method if c.event.step_up else None,
        "step-up method",
    ),
    (
        "step_up.success",
        B,
        lambda c: c.event.step_up.success if c.event.step_up else None,
        "step-up passed",
    ),
    # device
    ("device.is_new", B, _device_is_new, "device never used by this account before"),
    ("device.is_emulator", B, _device_flag("is_emulator"), "device is an emulator"),
    ("device.is_rooted", B, _device_flag("is_rooted"), "device is rooted / jailbroken"),
    (
        "device.fraud_reports",
        INT,
        lambda c: c.snapshot.device_reports,
        "fraud reports naming this device",
    ),
    # network and place
    ("net.country", S, lambda c: c.ip.country, "country of the IP address"),
    ("net.asn", S, lambda c: c.ip.asn, "network owner (ASN organisation) of the IP"),
    (
        "net.is_datacenter",
        B,
        lambda c: c.ip.is_datacenter,
        "IP belongs to a hosting / cloud / proxy network",
    ),
    ("net.is_private", B, lambda c: c.ip.is_private, "IP is in a private or reserved range"),
    (
        "net.ip_valid",
        B,
        lambda c: c.event.ip is not None if c.event.ip_text is not None else None,
        "the IP sent parses",
    ),
    ("geo.country", S, lambda c: c.located.country, "country of the event"),
    ("geo.has_gps", B, lambda c: c.event.geo is not None, "the client sent a GPS fix"),
    (
        "geo.distance_km",
        N,
        lambda c: c.travel.distance_km if c.travel else None,
        "km from the previous located event",
    ),
    (
        "geo.hours_since_last",
        N,
        lambda c: c.travel.hours if c.travel else None,
        "hours since the previous located event",
    ),
    (
        "geo.speed_kmh",
        N,
        lambda c: c.travel.speed_kmh if c.travel else None,
        "speed implied since the previous located event",
    ),
    (
        "geo.impossible_travel",
        B,
        lambda c: c.impossible_travel,
        "too far, too fast since the previous located event",
    ),
    ("geo.country_is_new", B, _country_is_new, "a country never seen for this account"),
    # bindings
    (
        "binding.kind",
        S,
        _binding_attr("kind"),
        "bank_card, credit_card, securities, social_security, corporate",
    ),
    ("binding.institution", S, _binding_attr("institution"), "bank or institution"),
    (
        "binding.holder_name_match",
        B,
        _binding_attr("holder_name_match"),
        "holder name matches the wallet's",
    ),
    (
        "binding.real_name_verified",
        B,
        _binding_attr("real_name_verified"),
        "holder is real-name verified",
    ),
    ("binding.institution_is_new", B, _institution_is_new, "an institution never bound before"),
    ("binding.kind_is_new", B, _kind_is_new, "a kind of account never bound before"),
    ("binding.is_bound", B, _is_bound, "the token is currently bound to this wallet"),
    ("binding.minutes_since_bound", N, _minutes_since_bound, "minutes since the token was bound"),
    # counterparty
    (
        "counterparty.type",
        S,
        _cp_attr("type"),
        "account, merchant, bank_account, card, external_wallet",
    ),
    ("counterparty.country", S, _cp_attr("country"), "counterparty country"),
    ("counterparty.is_new", B, _cp_is_new, "first movement to this counterparty"),
    (
        "counterparty.fraud_reports",
        INT,
        lambda c: c.snapshot.counterparty_reports,
        "fraud reports naming this payee",
    ),
    ("counterparty.account_age_days", N, _receiver_age_days, "age of a receiving wallet"),
    # the account's profile
    (
        "profile.account_age_days",
        N,
        _account_age_days,
        "days since the account was opened (or first seen)",
    ),
    ("profile.is_new_account", B, _is_new_account, "opened within the new-account period"),
    (
        "profile.hour_is_usual",
        B,
        lambda c: c.profile.hour_is_usual(c.event.local_hour),
        "active around this hour before (unknown until 10 events)",
    ),
    (
        "profile.usual_auth_method",
        S,
        lambda c: c.profile.usual_auth_method(),
        "most used sign-in method",
    ),
    (
        "profile.auth_method_is_unusual",
        B,
        _auth_unusual,
        "sign-in method differs from the usual one",
    ),
    (
        "profile.device_count",
        INT,
        lambda c: len(c.profile.devices),
        "devices known for the account",
    ),
    (
        "profile.amount_vs_mean",
        N,
        _amount_vs_mean,
        "this amount divided by the account's mean for this event type",
    ),
    ("profile.hours_since_password_change", N, _hours_since("last_password_change_ts"), ""),
    (
        "profile.hours_since_reset",
        N,
        _hours_since("last_reset_ts"),
        "hours since a password reset completed",
    ),
    (
        "profile.reset_was_strong",
        B,
        lambda c: c.profile.last_reset_strong,
        "the last reset was verified by face, biometrics or TOTP",
    ),
    ("profile.hours_since_phone_change", N, _hours_since("last_phone_change_ts"), ""),
    ("profile.hours_since_sim_change", N, _hours_since("last_sim_change_ts"), ""),
    ("profile.hours_since_email_change", N, _hours_since("last_email_change_ts"), ""),
    ("profile.hours_since_new_device", N, _hours_since("last_new_device_ts"), ""),
    ("profile.hours_since_binding", N, _hours_since("last_binding_ts"), ""),
    (
        "profile.minutes_since_money_in",
        N,
        _minutes_since_money_in,
        "minutes since money last came in",
    ),
    (
        "profile.last_money_in",
        M,
        lambda c: from_units(c.profile.last_money_in_units) if c.profile.last_money_in_ts else None,
        "amount that last came in",
    ),
    # balances (before the event)
    ("balance.available", M, lambda c: from_units(c.balance.available), "spendable now"),
    ("balance.held", M, lambda c: from_units(c.balance.held), "on hold for review"),
    (
        "balance.pending_in",
        M,
        lambda c: from_units(c.balance.pending_in),
        "top-ups not yet confirmed",
    ),
    ("balance.drain_ratio", N, _drain_ratio, "this amount divided by the available balance"),
    # lists
    (
        "lists.blocked",
        B,
        lambda c: c.listed(ListKind.BLOCK),
        "something in the event is on a block list",
    ),
    (
        "lists.watched",
        B,
        lambda c: c.listed(ListKind.WATCH),
        "something in the event is on a watch list",
    ),
    (
        "lists.allowed",
        B,
        lambda c: c.listed(ListKind.ALLOW),
        "something in the event is on an allow list",
    ),
    (
        "lists.block_hits",
        S,
        lambda c: c.list_labels(ListKind.BLOCK),
        "which block-list entries matched",
    ),
    (
        "lists.watch_hits",
        S,
        lambda c: c.list_labels(ListKind.WATCH),
        "which watch-list entries matched",
    ),
    # top-ups
    ("topup.channel", S, _topup_attr("channel"), "payment channel of a top-up"),
    (
        "topup.signature_valid",
        B,
        _topup_attr("signature_valid"),
        "the channel's callback signature verified",
    ),
    (
        "topup.problem",
        S,
        _confirmation_only(lambda c: c.topup_problem or None),
        "why a confirmation does not prove its top-up",
    ),
    (
        "topup.proven",
        B,
        _confirmation_only(lambda c: not c.topup_problem),
        "the confirmation proves a pending top-up",
    ),
    (
        "topup.ref_known",
        B,
        _confirmation_only(lambda c: c.topup is not None),
        "a top-up with this reference was reported",
    ),
    (
        "topup.minutes_since_request",
        N,
        _minutes_since_topup_request,
        "minutes between top-up and confirmation",
    ),
]

for _kind in ("transfer", "payment", "withdrawal", "topup"):
    _SPECS += [
        (f"profile.{_kind}_mean", M, _mean(_kind), f"the account's mean {_kind} amount"),
        (f"profile.{_kind}_max", M, _max(_kind), f"the account's largest {_kind}"),
        (f"profile.{_kind}_count", INT, _count(_kind), f"{_kind}s let through before"),
    ]

_SPECS += GRAPH_SPECS + SCORING_SPECS


class RuleCatalogue:
    """Resolves names for the rule compiler (implements `rules.types.Catalogue`)."""

    def __init__(self) -> None:
        self._static = {
            name: NameSpec(name, kind, getter, desc) for name, kind, getter, desc in _SPECS
        }
        self._features: dict[str, NameSpec] = {}

    def resolve(self, name: str) -> NameSpec | None:
        spec = self._static.get(name) or self._features.get(name)
        if spec is not None or "." in name:
            return spec
        try:
            feature = parse_feature_name(name)
        except FeatureNameError:
            return None
        kind = M if feature.value_type == "money" else INT
        fname = feature.name
        spec = NameSpec(fname, kind, lambda c: c.features.get(fname), f"windowed: {fname}", feature)
        self._features[name] = spec
        return spec

    def why_unknown(self, name: str) -> str:
        close = difflib.get_close_matches(name, [*self._static, *self._features], n=3)
        if close:
            return f"unknown name {name!r}; did you mean {', '.join(close)}?"
        if "." not in name:
            try:
                parse_feature_name(name)
            except FeatureNameError as exc:
                return f"unknown name: {exc}"
        return f"unknown name {name!r} (`walletguard rules names` lists them)"

    def static_names(self) -> list[NameSpec]:
        return list(self._static.values())
