"""Where an event happened: the client's GPS fix, else its IP country's reference point."""

from __future__ import annotations

from walletguard.enrich.geo import country_points
from walletguard.enrich.ip_intel import IpFacts
from walletguard.events.model import WalletEvent


class Located:
    """A place as far as enrichment could tell; any part may be unknown (None)."""

    __slots__ = ("country", "lat", "lon")

    def __init__(self, country: str | None, lat: float | None, lon: float | None) -> None:
        self.country = country
        self.lat = lat
        self.lon = lon


NOWHERE = Located(None, None, None)


def locate(event: WalletEvent, ip: IpFacts) -> Located:
    """GPS when the client sent it, else the reference point of the IP's country."""
    if event.geo is not None:
        return Located(ip.country, event.geo.lat, event.geo.lon)
    point = country_points().get(ip.country) if ip.country else None
    if point is None:
        return Located(ip.country, None, None)
    return Located(ip.country, point.lat, point.lon)
