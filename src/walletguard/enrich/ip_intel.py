"""IP intelligence: country, network owner (ASN) and hosting / private-range hints.

The data ships inside installed packages (GeoLite2 country + ASN tables bundled
with `geoip2fast`, and `data/hosting_asns.yaml` here); nothing is downloaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_network
from typing import Protocol

import yaml


@dataclass(frozen=True, slots=True)
class IpFacts:
    """What is known about one IP address. `country` is None when unknown or private."""

    country: str | None
    asn: str | None
    asn_network: str | None
    is_private: bool
    is_datacenter: bool

    @staticmethod
    def unknown() -> IpFacts:
        return IpFacts(None, None, None, False, False)


class IpIntel(Protocol):
    """Port: look up what is known about an address."""

    def lookup(self, ip: IPv4Address | IPv6Address) -> IpFacts: ...


class HostingClassifier:
    """Decides whether an ASN organisation name is a hosting / cloud / proxy business."""

    def __init__(self, names: list[str], words: list[str]) -> None:
        exact = [n.lower() for n in names if not n.endswith("*")]
        prefixes = tuple(n[:-1].lower() for n in names if n.endswith("*"))
        self._exact = frozenset(exact)
        self._prefixes = prefixes
        alternatives = "|".join(re.escape(w.lower()) for w in words)
        self._words = re.compile(rf"(?<![a-z0-9])({alternatives})(?![a-z0-9])") if words else None

    @classmethod
    def bundled(cls) -> HostingClassifier:
        """The classifier built from the list that ships with walletguard."""
        text = resources.files("walletguard.enrich").joinpath("data/hosting_asns.yaml").read_text()
        data = yaml.safe_load(text)
        return cls(list(data["names"]), list(data["words"]))

    def is_hosting(self, asn_name: str | None) -> bool:
        if not asn_name:
            return False
        name = asn_name.lower()
        if name in self._exact or name.startswith(self._prefixes):
            return True
        return bool(self._words and self._words.search(name))


class GeoLiteIpIntel:
    """`IpIntel` over the GeoLite2 tables bundled with geoip2fast, with a lookup cache.

    Private and reserved ranges (RFC 1918, loopback, CGNAT, link-local, ULA...) are
    recognised by the standard library and reported with no country.
    """

    def __init__(self, hosting: HostingClassifier | None = None, cache_size: int = 65536) -> None:
        from geoip2fast import GeoIP2Fast

        self._geo = GeoIP2Fast(geoip2fast_data_file="geoip2fast-asn-ipv6.dat.gz")
        self._hosting = hosting or HostingClassifier.bundled()
        self._cached = lru_cache(maxsize=cache_size)(self._lookup)

    def lookup(self, ip: IPv4Address | IPv6Address) -> IpFacts:
        return self._cached(ip)

    def _lookup(self, ip: IPv4Address | IPv6Address) -> IpFacts:
        if not ip.is_global or ip.is_multicast:
            return IpFacts(None, None, None, True, False)
        result = self._geo.lookup(str(ip))
        code = result.country_code or ""
        # geoip2fast answers "--" for a public address it does not place: no country
        country = code if len(code) == 2 and code.isascii() and code.isalpha() else None
        asn = result.asn_name or None
        return IpFacts(
            country=country,
            asn=asn,
            asn_network=result.asn_cidr or None,
            is_private=bool(result.is_private),
            is_datacenter=self._hosting.is_hosting(asn),
        )


def ip_prefix_key(ip: IPv4Address | IPv6Address) -> str:
    """The neighbourhood of an address: its IPv4 /24 or IPv6 /64, as text."""
    if isinstance(ip, IPv4Address):
        packed = int(ip) & 0xFFFFFF00
        return f"{IPv4Address(packed)}/24"
    network: IPv6Network = ip_network(f"{ip}/64", strict=False)  # type: ignore[assignment]
    return str(network)
