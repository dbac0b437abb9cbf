"""Per-decision explanations: the model's feature contributions as reasons people read.

Contributions come from LightGBM's own tree SHAP (`pred_contrib`), in log-odds; the
features that pushed the score up the most become reason codes with their value in
a sentence ("payment 8.3× the account's usual amount"). The model's points are
shared among them in proportion to their contribution.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from walletguard.decisions.model import Reason
from walletguard.features.names import FeatureNameError, parse_feature_name
from walletguard.kernel.money import format_amount

MAX_REASONS = 3

_NOUNS = {
    "any": "events",
    "payment": "payments",
    "transfer": "transfers",
    "withdrawal": "withdrawals",
    "money_out": "outgoing payments",
    "transfer_received": "incoming transfers",
    "topup": "top-ups",
    "topup_small": "small top-ups",
    "topup_confirmed": "confirmed top-ups",
    "login": "sign-ins",
    "login_failed": "failed sign-ins",
    "reported": "fraud reports",
    "register": "account openings",
    "account_bind": "card bindings",
    "device_bind": "device bindings",
    "password_reset": "password resets",
    "txn_password_failed": "wrong transaction passwords",
    "step_up_failed": "failed verifications",
}
_WHOSE = {
    "account": "by this account",
    "counterparty": "for this payee",
    "device": "on this device",
    "ip": "from this IP address",
    "ip24": "from this network",
    "token": "for this bank account",
}


def _plain(value: Any, fmt: str = "") -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format_amount(value)
    if isinstance(value, float):
        return format(value, fmt or ".1f")
    return str(value)


def _sentence_for_window(name: str, value: Any) -> str | None:
    try:
        feature = parse_feature_name(name)
    except FeatureNameError:
        return None
    noun = _NOUNS.get(feature.subject.name, feature.subject.name.replace("_", " "))
    whose = _WHOSE[feature.entity.value]
    window = feature.window
    if feature.measure == "amount_sum":
        return f"{_plain(value)} in {noun} {whose} in the last {window}"
    if feature.is_distinct:
        kinds = f"{feature.distinct_of}s"
        return f"{_plain(value)} different {kinds} in {noun} {whose} in the last {window}"
    return f"{_plain(value)} {noun} {whose} in the last {window}"


_FACTS: dict[str, Callable[[Any, Any], str]] = {
    "profile.amount_vs_mean": lambda v, e: (
        f"{e.type.value} {_plain(v)}× the account's usual amount"
    ),
    "event.amount": lambda v, e: f"{e.type.value} of {_plain(v)}",
    "profile.account_age_days": lambda v, e: f"account opened {_plain(v)} days ago",
    "balance.drain_ratio": lambda v, e: (
        f"takes {_plain(v * 100 if v is not None else v, '.0f')}% of the balance"
    ),
    "counterparty.is_new": lambda v, e: "first payment to this payee" if v else "a known payee",
    "counterparty.fraud_reports": lambda v, e: f"payee named in {_plain(v)} fraud reports",
    "device.is_new": lambda v, e: "a device never used by this account" if v else "a known device",
    "event.local_hour": lambda v, e: f"at {_plain(v)}h local time",
    "event.is_weekend": lambda v, e: "at the weekend" if v else "on a weekday",
    "event.is_night": lambda v, e: "at night" if v else "during the day",
    "model.anomaly_score": lambda v, e: (
        f"amount {_plain(v, '.1f')} robust deviations from the usual"
        if v is not None
        else "too few amounts seen yet to judge this one"
    ),
    "profile.hours_since_new_device": lambda v, e: f"a new device first used {_plain(v)} h ago",
    "profile.hours_since_reset": lambda v, e: f"password reset {_plain(v)} h ago",
    "profile.hours_since_sim_change": lambda v, e: f"SIM changed {_plain(v)} h ago",
    "profile.minutes_since_money_in": lambda v, e: f"money came in {_plain(v, '.0f')} min before",
    "profile.device_count": lambda v, e: f"{_plain(v)} devices used by the account",
    "counterparty.account_age_days": lambda v, e: f"to a wallet opened {_plain(v)} days ago",
    "device.is_emulator": lambda v, e: "from an emulator" if v else "not from an emulator",
    "geo.country_is_new": lambda v, e: (
        "from a country never seen for this account" if v else "from a usual country"
    ),
    "net.is_datacenter": lambda v, e: (
        "from a hosting / cloud network" if v else "from a home or mobile network"
    ),
    "graph.counterparty_hops_to_fraud": lambda v, e: f"payee {_plain(v)} hops from confirmed fraud",
    "graph.account_hops_to_fraud": lambda v, e: f"account {_plain(v)} hops from confirmed fraud",
    "graph.device_cluster_size": lambda v, e: f"{_plain(v)} accounts share this account's devices",
    "graph.fan_in_24h": lambda v, e: f"money from {_plain(v)} senders in 24h",
    "graph.fan_out_24h": lambda v, e: f"money to {_plain(v)} payees in 24h",
    "graph.pass_through_ratio": lambda v, e: (
        f"{_plain(v, '.0%')} of the money that came in goes out again"
    ),
    "graph.payee_in_ring": lambda v, e: (
        "payee belongs to a suspected mule ring" if v else "payee in no known ring"
    ),
}


def sentence(name: str, value: Any, event: Any, description: str = "") -> str:
    """A short sentence stating a feature's value for this event."""
    fact = _FACTS.get(name)
    if fact is not None and (value is not None or name == "model.anomaly_score"):
        return fact(value, event)
    if value is None:
        return f"{description or name}: not known (yet)"
    window = _sentence_for_window(name, value)
    if window is not None:
        return window
    return f"{description or name}: {_plain(value)}"


def reason_code(name: str) -> str:
    """A stable machine code for a model input: `MODEL_PROFILE_AMOUNT_VS_MEAN`, or for an
    expression its words (`MODEL_EVENT_AMOUNT_PER_PROFILE_PAYMENT_MAX`)."""
    words = name
    for op, word in (("/", " per "), ("*", " times "), ("+", " plus "), ("-", " minus ")):
        words = words.replace(op, word)
    code = re.sub(r"[^A-Z0-9]+", "_", words.upper()).strip("_")
    return code if code.startswith("MODEL_") else "MODEL_" + code


def explain(
    names: Sequence[str],
    contributions: Sequence[float],
    values: dict[str, Any],
    event: Any,
    points: int,
    descriptions: dict[str, str],
    probability: float,
) -> list[Reason]:
    """Reasons for the features that raised the score most (up to `MAX_REASONS`)."""
    pushing = sorted(
        ((c, n) for n, c in zip(names, contributions, strict=False) if c > 0),
        reverse=True,
    )[:MAX_REASONS]
    if not pushing:
        return [Reason("MODEL_SCORE", f"model: fraud probability {probability:.0%}", points)]
    total = sum(c for c, _ in pushing)
    reasons = []
    given = 0
    for i, (c, name) in enumerate(pushing):
        share = points - given if i == len(pushing) - 1 else round(points * c / total)
        given += share
        text = sentence(name, values.get(name), event, descriptions.get(name, ""))
        reasons.append(
            Reason(reason_code(name), f"{text} (model: fraud probability {probability:.0%})", share)
        )
    return reasons
