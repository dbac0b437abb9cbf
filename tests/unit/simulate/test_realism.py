"""Normal life looks normal: home networks, stable phones, GPS that agrees with the IP."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import datetime
from ipaddress import ip_address

import pytest

from tests.unit.simulate.conftest import Run
from walletguard.enrich.geo import Point, country_points, haversine_km
from walletguard.enrich.ip_intel import GeoLiteIpIntel
from walletguard.simulate.places import ip_ranges


@pytest.fixture(scope="module")
def intel() -> GeoLiteIpIntel:
    return GeoLiteIpIntel()


def _samples(first: int, size: int, rng: random.Random) -> list[str]:
    picks = [first + 1, first + size // 2, first + size - 2]
    picks += [first + rng.randrange(1, size - 1) for _ in range(20)]
    return [str(ip_address(p)) for p in picks]


def test_consumer_ranges_are_home_networks_of_their_country(intel: GeoLiteIpIntel) -> None:
    rng = random.Random(0)
    ranges = ip_ranges()
    assert "CN" in ranges.consumer
    for country, blocks in ranges.consumer.items():
        for block in blocks:
            for ip in _samples(block.first, block.size, rng):
                facts = intel.lookup(ip_address(ip))
                assert facts.country == country, (block.network, ip, facts)
                assert not facts.is_datacenter, (block.network, ip, facts)


def test_hosting_ranges_are_hosting(intel: GeoLiteIpIntel) -> None:
    rng = random.Random(1)
    for block in ip_ranges().hosting:
        for ip in _samples(block.first, block.size, rng):
            facts = intel.lookup(ip_address(ip))
            assert facts.is_datacenter, (block.network, ip, facts)
            assert facts.country == block.country


def test_legit_events_come_from_home_networks_and_real_phones(
    small_run: Run, intel: GeoLiteIpIntel
) -> None:
    consumer_countries = set(ip_ranges().consumer)
    countries_by_account: dict[str, set[str]] = defaultdict(set)
    devices_by_account: dict[str, set[str]] = defaultdict(set)
    for event in small_run.legit():
        device = event.get("device")
        if device is not None:
            assert not device["is_emulator"], event
            assert not device["is_rooted"], event
            devices_by_account[event["account_id"]].add(device["id"])
        network = event.get("network")
        if network is None:
            continue
        facts = intel.lookup(ip_address(network["ip"]))
        assert not facts.is_datacenter, event
        assert facts.country in consumer_countries, event
        countries_by_account[event["account_id"]].add(facts.country)
        geo = event.get("geo")
        if geo is not None:
            # the GPS fix and the IP's country agree (a trip abroad moves both)
            home = country_points()[facts.country]
            assert haversine_km(home, Point(geo["lat"], geo["lon"])) < 100, event
    assert all(len(c) <= 2 for c in countries_by_account.values())
    assert all(len(d) <= 3 for d in devices_by_account.values())


def test_legit_failed_sign_ins_are_rare(small_run: Run) -> None:
    failures: dict[str, list[float]] = defaultdict(list)
    for event in small_run.legit():
        if event["type"] == "login" and not event["auth"]["success"]:
            at = datetime.fromisoformat(event["occurred_at"]).timestamp()
            failures[event["account_id"]].append(at)
    for times in failures.values():
        for t in times:
            assert sum(1 for u in times if t <= u < t + 3600) <= 2


def test_legit_withdrawals_go_to_a_card_bound_days_before(small_run: Run) -> None:
    bound: dict[tuple[str, str], float] = {}
    withdrawals = 0
    for event in small_run.events:
        at = datetime.fromisoformat(event["occurred_at"]).timestamp()
        if event["type"] == "account_bind":
            bound.setdefault((event["account_id"], event["binding"]["token"]), at)
        elif event["type"] == "withdrawal" and event["event_id"] not in small_run.label_of:
            withdrawals += 1
            key = (event["account_id"], event["binding"]["token"])
            assert key in bound, event
            assert at - bound[key] > 86400, event
    assert withdrawals


def test_users_keep_their_clock(small_run: Run) -> None:
    offsets: dict[str, Counter[str]] = defaultdict(Counter)
    for event in small_run.legit():
        if event.get("device") is not None:
            offsets[event["account_id"]][event["occurred_at"][-6:]] += 1
    cn_like = sum(1 for c in offsets.values() if c.most_common(1)[0][0] == "+08:00")
    assert cn_like / len(offsets) > 0.8
