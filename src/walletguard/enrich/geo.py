"""Distances, implied speeds and the reference point of each country."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Point:
    lat: float
    lon: float


def haversine_km(a: Point, b: Point) -> float:
    """Great-circle distance between two points in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def implied_speed_kmh(distance_km: float, seconds: float) -> float:
    """Speed needed to cover `distance_km` in `seconds`; a same-instant jump counts as 60 s.

    Rounding the elapsed time up to a minute keeps a GPS jitter of a few metres between
    two events in the same second from looking like supersonic travel.
    """
    return distance_km / (max(seconds, 60.0) / 3600.0)


@cache
def country_points() -> dict[str, Point]:
    """Each country's reference point (its most populous city), bundled with walletguard."""
    text = (
        resources.files("walletguard.enrich")
        .joinpath("data/country_points.csv")
        .read_text(encoding="utf-8")
    )
    rows = csv.DictReader(text.splitlines())
    return {row["country"]: Point(float(row["lat"]), float(row["lon"])) for row in rows}
