"""Where simulated people are: countries, their clocks, currencies, banks and networks.

Every location is a country's reference point (`enrich/data/country_points.csv`,
the point walletguard itself falls back to when an event has no GPS) plus a little
jitter, so a client's GPS and its IP country never disagree by more than a city.
Consumer IP ranges come from `data/ip_ranges.csv` (checked against the bundled
GeoLite2 data by `scripts/gen_sim_ip_ranges.py` and by the tests).
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from functools import cache
from importlib import resources
from ipaddress import IPv4Address, IPv4Network

from walletguard.enrich.geo import country_points, haversine_km


@dataclass(frozen=True, slots=True)
class Country:
    """A country as the simulator needs it. `per_mille`: one CNY in the local currency x1000."""

    code: str
    offset_minutes: int
    currency: str
    per_mille: int
    banks: tuple[str, ...]


COUNTRIES: dict[str, Country] = {
    c.code: c
    for c in [
        Country("CN", 480, "CNY", 1000, ("ICBC", "CCB", "ABC", "BOC", "CMB", "BOCOM", "PSBC")),
        Country("HK", 480, "HKD", 1100, ("HSBC HK", "Hang Seng Bank", "BOC HK")),
        Country("TW", 480, "TWD", 4500, ("Cathay United Bank", "CTBC Bank")),
        Country("SG", 480, "SGD", 190, ("DBS", "OCBC", "UOB")),
        Country("MY", 480, "MYR", 650, ("Maybank", "CIMB", "Public Bank")),
        Country("JP", 540, "JPY", 21000, ("MUFG", "SMBC", "Mizuho")),
        Country("KR", 540, "KRW", 190000, ("KB Kookmin", "Shinhan", "Woori")),
        Country("TH", 420, "THB", 4800, ("Bangkok Bank", "Kasikornbank")),
        Country("VN", 420, "VND", 3500000, ("Vietcombank", "Techcombank")),
        Country("PH", 480, "PHP", 8000, ("BDO", "BPI")),
        Country("ID", 420, "IDR", 2200000, ("BCA", "Mandiri")),
        Country("KH", 420, "KHR", 560000, ("ABA Bank", "ACLEDA")),
        Country("MM", 390, "MMK", 290000, ("KBZ Bank", "AYA Bank")),
        Country("AU", 600, "AUD", 210, ("Commonwealth Bank", "Westpac")),
        Country("US", -300, "USD", 140, ("Chase", "Bank of America", "Wells Fargo")),
        Country("GB", 0, "GBP", 110, ("Barclays", "HSBC UK", "Lloyds")),
        Country("DE", 60, "EUR", 130, ("Deutsche Bank", "Sparkasse")),
        Country("RU", 180, "RUB", 13000, ("Sberbank", "VTB")),
        Country("NG", 60, "NGN", 220000, ("Access Bank", "GTBank")),
    ]
}
"""Fixed UTC offsets (no daylight saving): the simulator's clocks are deliberately simple."""

LEGIT_FOREIGN: tuple[tuple[str, int], ...] = (
    ("HK", 30),
    ("TW", 12),
    ("SG", 12),
    ("MY", 10),
    ("US", 8),
    ("GB", 6),
    ("AU", 6),
    ("JP", 6),
    ("TH", 5),
    ("KR", 5),
)
"""Home countries of the users who do not live in CN, with relative weights."""

TRAVEL_DESTINATIONS: tuple[str, ...] = ("HK", "SG", "JP", "TH", "MY", "KR", "TW", "AU", "GB", "US")


@dataclass(frozen=True, slots=True)
class IpRange:
    """A block of IPv4 addresses; `first` is the block's integer address."""

    country: str
    first: int
    size: int
    network: str

    def pick(self, rng: random.Random) -> str:
        """A host address inside the block (never the first or last)."""
        return str(IPv4Address(self.first + rng.randrange(1, self.size - 1)))


@dataclass(frozen=True, slots=True)
class IpRanges:
    consumer: dict[str, tuple[IpRange, ...]]
    hosting: tuple[IpRange, ...]


@cache
def ip_ranges() -> IpRanges:
    """The consumer ranges of each country and the hosting ranges, as shipped."""
    text = (
        resources.files("walletguard.simulate")
        .joinpath("data/ip_ranges.csv")
        .read_text(encoding="utf-8")
    )
    consumer: dict[str, list[IpRange]] = {}
    hosting: list[IpRange] = []
    for row in csv.DictReader(text.splitlines()):
        net = IPv4Network(row["cidr"])
        block = IpRange(row["country"], int(net.network_address), net.num_addresses, row["network"])
        if row["kind"] == "consumer":
            consumer.setdefault(row["country"], []).append(block)
        else:
            hosting.append(block)
    return IpRanges({k: tuple(v) for k, v in consumer.items()}, tuple(hosting))


def consumer_ip(rng: random.Random, country: str) -> str:
    """An address of a home or mobile connection in `country`."""
    return rng.choice(ip_ranges().consumer[country]).pick(rng)


def hosting_ip(rng: random.Random) -> str:
    """An address in a cloud / hosting network (any country)."""
    return rng.choice(ip_ranges().hosting).pick(rng)


def home_point(rng: random.Random, country: str, radius_km: float = 25.0) -> tuple[float, float]:
    """A home somewhere around the country's reference city."""
    point = country_points()[country]
    return jitter(rng, point.lat, point.lon, radius_km)


def jitter(rng: random.Random, lat: float, lon: float, radius_km: float) -> tuple[float, float]:
    """A point within `radius_km` of (lat, lon), rounded to 5 decimals (about a metre)."""
    distance = radius_km * math.sqrt(rng.random())
    bearing = rng.random() * 2 * math.pi
    dlat = distance * math.cos(bearing) / 111.32
    dlon = distance * math.sin(bearing) / (111.32 * max(0.2, math.cos(math.radians(lat))))
    return round(lat + dlat, 5), round(lon + dlon, 5)


def flight_seconds(a: str, b: str) -> int:
    """A plausible door-to-door time between two countries' reference cities by plane."""
    points = country_points()
    km = haversine_km(points[a], points[b])
    return int((km / 750.0 + 4.0) * 3600)
