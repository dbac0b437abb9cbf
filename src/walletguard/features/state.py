"""What a feature store keeps: the states behind the maintained features, and which of an
event's identities each state is kept under.

Shared by every store, so that they agree on which states an event touches.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from walletguard.events.model import WalletEvent
from walletguard.features.names import BUCKET_SECONDS, REPORTED_ROLE, Entity, WindowFeature
from walletguard.features.store import EventKeys
from walletguard.features.subjects import Subject


@dataclass(frozen=True, slots=True)
class StateSpec:
    """One kept state: what it counts, over which window, under which of the event's keys."""

    state_id: str
    subject: Subject
    distinct_of: str | None
    window_seconds: int
    bucket_seconds: int
    buckets: int
    key_role: str

    @classmethod
    def of(cls, feature: WindowFeature) -> StateSpec:
        bucket = BUCKET_SECONDS[feature.window]
        return cls(
            state_id=feature.state_id,
            subject=feature.subject,
            distinct_of=feature.distinct_of if feature.is_distinct else None,
            window_seconds=feature.window_seconds,
            bucket_seconds=bucket,
            buckets=feature.window_seconds // bucket,
            key_role=feature.key_role,
        )


class KeptStates:
    """The features a store maintains and the distinct states behind them."""

    def __init__(self) -> None:
        self.specs: dict[str, StateSpec] = {}
        self.by_subject: dict[str, tuple[Subject, list[StateSpec]]] = {}
        self.features: dict[str, WindowFeature] = {}

    def add(self, features: Iterable[WindowFeature]) -> None:
        """Keep these features too (features sharing a state share it)."""
        for feature in features:
            self.features[feature.name] = feature
            if feature.state_id in self.specs:
                continue
            spec = StateSpec.of(feature)
            self.specs[spec.state_id] = spec
            self.by_subject.setdefault(spec.subject.name, (spec.subject, []))[1].append(spec)


def distinct_value(event: WalletEvent, of: str) -> str | None:
    """The value an `<of>_distinct` state counts for this event (None: the event has none)."""
    if of in ("account", "sender"):
        return event.account_id
    if of == "device":
        return event.device.id if event.device is not None else None
    if of == "ip":
        return event.ip_text if event.ip is not None else None
    if of == "token":
        return event.binding.token if event.binding is not None else None
    if of == "counterparty":
        cp = event.counterparty
        return f"{cp.type}:{cp.id}" if cp is not None else None
    raise ValueError(of)


def update_key(keys: EventKeys, role: str) -> str | None:
    """The entity key a state with `key_role` is updated under for this event."""
    if role == "account":
        return keys.account
    if role == "receiver":
        return keys.receiver
    if role.startswith(REPORTED_ROLE):
        # A chargeback or fraud report counts under the identities of the event it reports.
        reported = keys.reported
        if reported is None:
            return None
        return reported.for_entity(Entity(role[len(REPORTED_ROLE) :]), receiver_subject=False)
    return getattr(keys, role)  # type: ignore[no-any-return]
