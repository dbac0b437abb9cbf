"""Regenerate src/walletguard/simulate/data/ip_ranges.csv (run by hand; not at run time).

The simulator gives normal users addresses from consumer ISPs of their country and
attackers addresses from hosting networks. Each candidate range below is walked
block by block through the GeoLite2 tables bundled with geoip2fast, and only the
blocks that are what we want are kept: for `consumer`, the expected country and a
network that walletguard does not classify as hosting; for `hosting`, a network it
does. The largest few blocks of each candidate are written.

    .venv/bin/python scripts/gen_sim_ip_ranges.py
"""

from __future__ import annotations

import csv
from ipaddress import IPv4Address, IPv4Network, ip_network
from pathlib import Path

from geoip2fast import GeoIP2Fast

from walletguard.enrich.ip_intel import HostingClassifier

OUT = Path(__file__).resolve().parents[1] / "src/walletguard/simulate/data/ip_ranges.csv"
MAX_PREFIX = 22
BLOCKS_PER_CANDIDATE = 6

CONSUMER: dict[str, list[str]] = {
    "CN": [
        "183.0.0.0/11",
        "113.80.0.0/12",
        "112.224.0.0/11",
        "39.64.0.0/11",
        "111.0.0.0/10",
        "117.136.0.0/13",
    ],
    "HK": ["42.2.0.0/15", "112.118.0.0/16", "219.76.0.0/14"],
    "TW": ["1.160.0.0/12"],
    "SG": ["116.86.0.0/15"],
    "MY": ["175.136.0.0/13", "121.120.0.0/14"],
    "JP": ["106.128.0.0/10", "126.64.0.0/11"],
    "KR": ["14.64.0.0/11"],
    "TH": ["110.168.0.0/15"],
    "VN": ["113.160.0.0/11"],
    "PH": ["112.200.0.0/14"],
    "ID": ["39.192.0.0/10"],
    "KH": ["175.100.0.0/17"],
    "MM": ["136.228.160.0/20"],
    "AU": ["1.128.0.0/11"],
    "US": ["73.0.0.0/12"],
    "GB": ["86.160.0.0/11", "90.192.0.0/11"],
    "DE": ["79.192.0.0/10"],
    "RU": ["178.64.0.0/13"],
    "NG": ["102.88.0.0/13"],
}

HOSTING: list[str] = [
    "159.65.0.0/16",
    "167.99.0.0/16",
    "47.74.0.0/15",
    "43.128.0.0/15",
    "88.198.0.0/16",
    "45.76.0.0/16",
    "8.208.0.0/16",
    "172.104.0.0/15",
    "139.59.0.0/16",
]


def blocks(geo: GeoIP2Fast, cidr: str) -> list[tuple[IPv4Network, str, str]]:
    """The homogeneous (country, network) blocks that make up `cidr`."""
    net = ip_network(cidr)
    at, end = int(net.network_address), int(net.broadcast_address)
    found = []
    while at <= end:
        result = geo.lookup(str(IPv4Address(at)))
        nets = [ip_network(c) for c in (result.cidr, result.asn_cidr) if c]
        if not nets:
            at += 256
            continue
        block = max(nets, key=lambda n: n.prefixlen)
        assert isinstance(block, IPv4Network)
        found.append((block, result.country_code, result.asn_name or ""))
        at = int(block.broadcast_address) + 1
    return found


def main() -> None:
    geo = GeoIP2Fast(geoip2fast_data_file="geoip2fast-asn-ipv6.dat.gz")
    hosting = HostingClassifier.bundled()
    rows: list[tuple[str, str, str, str]] = []
    for country, candidates in CONSUMER.items():
        for cidr in candidates:
            good = [
                b
                for b in blocks(geo, cidr)
                if b[1] == country and not hosting.is_hosting(b[2]) and b[0].prefixlen <= MAX_PREFIX
            ]
            good.sort(key=lambda b: (b[0].prefixlen, int(b[0].network_address)))
            rows += [("consumer", country, str(b[0]), b[2]) for b in good[:BLOCKS_PER_CANDIDATE]]
    for cidr in HOSTING:
        good = [
            b
            for b in blocks(geo, cidr)
            if len(b[1]) == 2 and hosting.is_hosting(b[2]) and b[0].prefixlen <= MAX_PREFIX
        ]
        good.sort(key=lambda b: (b[0].prefixlen, int(b[0].network_address)))
        rows += [("hosting", b[1], str(b[0]), b[2]) for b in good[:BLOCKS_PER_CANDIDATE]]
    with OUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["kind", "country", "cidr", "network"])
        writer.writerows(rows)
    print(f"wrote {len(rows)} ranges to {OUT}")


if __name__ == "__main__":
    main()
