"""Feature names are generated from their definition, and parsed back into one.

    {subject}_{measure}_by_{entity}_{window}

e.g. `withdrawal_amount_sum_by_account_24h`, `login_failed_account_distinct_by_ip_10m`.
Any well-formed combination is a valid feature: the store maintains exactly the
ones the loaded rules (and models) refer to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from walletguard.features.subjects import SUBJECTS, Subject


class Measure(StrEnum):
    COUNT = "count"
    AMOUNT_SUM = "amount_sum"


class Entity(StrEnum):
    """Whose aggregate: the event's account, device, IP, IP /24 (IPv6 /64), bound token
    or counterparty."""

    ACCOUNT = "account"
    DEVICE = "device"
    IP = "ip"
    IP24 = "ip24"
    TOKEN = "token"
    COUNTERPARTY = "counterparty"


DISTINCT_OF = ("account", "device", "ip", "token", "counterparty", "sender")
"""What a `<x>_distinct` measure can count the distinct values of."""

WINDOWS: dict[str, int] = {
    "10m": 600,
    "1h": 3600,
    "6h": 6 * 3600,
    "24h": 86400,
    "7d": 7 * 86400,
    "8d": 8 * 86400,
    "14d": 14 * 86400,
    "30d": 30 * 86400,
}
"""Supported window lengths in seconds."""

BUCKET_SECONDS: dict[str, int] = {
    "10m": 60,
    "1h": 300,
    "6h": 1800,
    "24h": 3600,
    "7d": 6 * 3600,
    "8d": 6 * 3600,
    "14d": 12 * 3600,
    "30d": 86400,
}
"""Bucket width per window: a window is exact to one bucket (1/10 to 1/30 of its length)."""

REPORTED_ROLE = "reported:"
"""Key-role prefix of subjects counted under the reported event's keys."""

_NAME = re.compile(
    r"^(?P<subject>[a-z][a-z0-9_]*?)_(?P<measure>count|amount_sum|[a-z]+_distinct)"
    r"_by_(?P<entity>account|device|ip24|ip|token|counterparty)_(?P<window>\d+[mhd])$"
)


class FeatureNameError(ValueError):
    """A name that is not a well-formed windowed feature."""


@dataclass(frozen=True, slots=True)
class WindowFeature:
    """The definition behind one windowed feature name. Derived attributes are computed
    once, at parse time: the engine reads them for every event."""

    subject: Subject
    measure: str
    entity: Entity
    window: str
    name: str = field(init=False)
    window_seconds: int = field(init=False)
    is_distinct: bool = field(init=False)
    distinct_of: str = field(init=False)
    key_role: str = field(init=False)
    """Which of the event's identities the state is kept under when updating."""
    state_id: str = field(init=False)
    """Features that read the same state share it (e.g. a receiver-subject's `by_account` and
    `by_counterparty` views)."""
    value_type: str = field(init=False)

    def __post_init__(self) -> None:
        distinct = self.measure.endswith("_distinct")
        derived = {
            "name": f"{self.subject.name}_{self.measure}_by_{self.entity.value}_{self.window}",
            "window_seconds": WINDOWS[self.window],
            "is_distinct": distinct,
            "distinct_of": self.measure.removesuffix("_distinct") if distinct else "",
            "key_role": (
                "receiver"
                if self.subject.receiver
                else REPORTED_ROLE + self.entity.value
                if self.subject.via_reference
                else self.entity.value
            ),
            "value_type": "money" if self.measure == Measure.AMOUNT_SUM else "int",
        }
        kind = "d:" + derived["distinct_of"] if distinct else "cs"  # type: ignore[operator]
        derived["state_id"] = f"{self.subject.name}|{kind}|{self.window}|{derived['key_role']}"
        for key, value in derived.items():
            object.__setattr__(self, key, value)


def parse_feature_name(name: str) -> WindowFeature:
    """The definition a feature name stands for, or `FeatureNameError` saying what is wrong."""
    match = _NAME.match(name)
    if match is None:
        raise FeatureNameError(
            f"{name!r} is not a feature name of the form "
            "{subject}_{count|amount_sum|<x>_distinct}_by_{entity}_{window}"
        )
    subject = SUBJECTS.get(match["subject"])
    if subject is None:
        raise FeatureNameError(
            f"{name!r}: unknown subject {match['subject']!r} (known: {', '.join(sorted(SUBJECTS))})"
        )
    measure = match["measure"]
    if measure.endswith("_distinct") and measure.removesuffix("_distinct") not in DISTINCT_OF:
        raise FeatureNameError(
            f"{name!r}: cannot count distinct {measure.removesuffix('_distinct')!r} "
            f"(known: {', '.join(DISTINCT_OF)})"
        )
    window = match["window"]
    if window not in WINDOWS:
        raise FeatureNameError(
            f"{name!r}: unsupported window {window!r} (known: {', '.join(WINDOWS)})"
        )
    entity = Entity(match["entity"])
    if subject.receiver and entity not in (Entity.ACCOUNT, Entity.COUNTERPARTY):
        raise FeatureNameError(
            f"{name!r}: {subject.name} is kept per receiving wallet; "
            "use by_account or by_counterparty"
        )
    return WindowFeature(subject, measure, entity, window)
