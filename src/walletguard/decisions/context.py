"""Everything known about one event while it is being decided.

Facts are computed lazily, on first use by a rule, and at most once: an event
type whose rules never look at the balance never reads it.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from walletguard.accounts.model import AccountSecurity
from walletguard.enrich.geo import Point, haversine_km, implied_speed_kmh
from walletguard.enrich.ip_intel import IpFacts
from walletguard.enrich.lists import ListHit, ListKind
from walletguard.enrich.location import Located, locate
from walletguard.events.model import WalletEvent
from walletguard.features.learning import fraud_named
from walletguard.features.store import EventKeys, FeatureSnapshot
from walletguard.kernel.money import AmountError, to_units
from walletguard.ledger.model import Balance, Topup, wallet_account
from walletguard.ledger.service import topup_problem

if TYPE_CHECKING:
    from walletguard.decisions.ports import UnitOfWork
    from walletguard.decisions.settings import EngineSettings
    from walletguard.graph.live import LiveGraph
    from walletguard.scoring.anomaly import PopulationStats


class Travel:
    __slots__ = ("distance_km", "hours", "speed_kmh")

    def __init__(self, distance_km: float, hours: float, speed_kmh: float) -> None:
        self.distance_km = distance_km
        self.hours = hours
        self.speed_kmh = speed_kmh


class DecisionContext:
    """The event, its enrichment, its features and lazy views of account and ledger state."""

    def __init__(
        self,
        event: WalletEvent,
        keys: EventKeys,
        ip: IpFacts,
        snapshot: FeatureSnapshot,
        list_hits: list[ListHit],
        uow: UnitOfWork,
        settings: EngineSettings,
        graph: LiveGraph | None = None,
        population: PopulationStats | None = None,
    ) -> None:
        self.event = event
        self.keys = keys
        self.ip = ip
        self.snapshot = snapshot
        self.profile = snapshot.profile
        self.features = snapshot.values
        self.list_hits = list_hits
        self.uow = uow
        self.settings = settings
        self.graph = graph
        """The live money-flow / shared-attribute graph (`graph.*` names), when kept."""
        self.population = population
        """Everyone's amounts, for the cold-start anomaly score, when kept."""

    @property
    def currency(self) -> str:
        return self.event.currency or self.settings.default_currency

    # -- where ------------------------------------------------------------------

    @cached_property
    def located(self) -> Located:
        """Client GPS when present, else the reference point of the IP's country."""
        return locate(self.event, self.ip)

    @cached_property
    def travel(self) -> Travel | None:
        """Distance and implied speed since the account's previous located event; none for
        an event arriving after a later one (where the account was just before it is not
        known)."""
        here = self.located
        profile = self.profile
        if (
            here.lat is None
            or here.lon is None
            or profile.last_lat is None
            or profile.last_lon is None
        ):
            return None
        assert profile.last_loc_ts is not None
        if self.event.ts < profile.last_loc_ts:
            return None
        if here.lat == profile.last_lat and here.lon == profile.last_lon:
            distance = 0.0
        else:
            distance = haversine_km(
                Point(profile.last_lat, profile.last_lon), Point(here.lat, here.lon)
            )
        seconds = max(0.0, self.event.ts - profile.last_loc_ts)
        return Travel(distance, seconds / 3600.0, implied_speed_kmh(distance, seconds))

    @cached_property
    def impossible_travel(self) -> bool | None:
        travel = self.travel
        if travel is None:
            return None
        s = self.settings
        return (
            travel.distance_km > s.impossible_min_km and travel.speed_kmh > s.impossible_speed_kmh
        )

    # -- state held elsewhere ------------------------------------------------------

    @cached_property
    def account(self) -> AccountSecurity | None:
        return self.uow.accounts.get(self.event.account_id)

    @cached_property
    def balance(self) -> Balance:
        return self.uow.ledger.balance(wallet_account(self.event.account_id), self.currency)

    @cached_property
    def topup(self) -> Topup | None:
        """For a confirmation: the top-up it claims to confirm."""
        t = self.event.topup
        return None if t is None else self.uow.ledger.topup(t.channel, t.channel_ref)

    @cached_property
    def topup_problem(self) -> str:
        """For a confirmation: why it does not prove the top-up ("" when it does)."""
        event = self.event
        t = event.topup
        if t is None:
            return "the confirmation names no top-up"
        try:
            amount = to_units(event.amount) if event.amount is not None else None
        except AmountError:
            return f"the confirmed amount {event.amount} is larger than the ledger can hold"
        return topup_problem(
            self.topup,
            amount=amount,
            currency=self.currency,
            account_id=event.account_id,
            merchant_no=t.merchant_no,
            signature_valid=t.signature_valid,
        )

    @cached_property
    def reported_event(self) -> WalletEvent | None:
        """For a chargeback or fraud report: the event it reports, if stored."""
        ref = self.event.ref_event_id
        return None if ref is None else self.uow.events.get(ref)

    @cached_property
    def fraud_named(self) -> list[str]:
        """For a chargeback or fraud report: the keys it names in fraud, as of the profile
        before it (`features.learning.fraud_named`); counted with its feature update."""
        reported = self.reported_event
        return [] if reported is None else fraud_named(reported, self.profile)

    # -- lists ------------------------------------------------------------------------

    def listed(self, kind: ListKind) -> bool:
        return any(hit.entry.kind is kind for hit in self.list_hits)

    def list_labels(self, kind: ListKind) -> str | None:
        labels = [hit.label for hit in self.list_hits if hit.entry.kind is kind]
        return ", ".join(labels) if labels else None
