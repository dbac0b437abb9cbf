from datetime import UTC, datetime, timedelta
from ipaddress import ip_address

import pytest

from tests.support import FOREIGN_IP, HOME_IP, HOSTING_IP, EventFactory
from walletguard.enrich.geo import Point, country_points, haversine_km, implied_speed_kmh
from walletguard.enrich.ip_intel import GeoLiteIpIntel, HostingClassifier, ip_prefix_key
from walletguard.enrich.lists import (
    ListEntity,
    ListEntry,
    ListKind,
    ListMatcher,
    normalise_list_value,
)
from walletguard.events.decode import decode_event
from walletguard.kernel.errors import InvalidInput


@pytest.fixture(scope="module")
def intel() -> GeoLiteIpIntel:
    return GeoLiteIpIntel()


def test_ip_country_and_network_from_bundled_data(intel: GeoLiteIpIntel) -> None:
    home = intel.lookup(ip_address(HOME_IP))
    assert home.country == "CN"
    assert "China Mobile" in (home.asn or "")
    assert not home.is_datacenter
    assert intel.lookup(ip_address(FOREIGN_IP)).country == "US"
    assert intel.lookup(ip_address("2001:4860:4860::8888")).country == "US"


def test_hosting_networks_are_recognised(intel: GeoLiteIpIntel) -> None:
    assert intel.lookup(ip_address(HOSTING_IP)).is_datacenter
    assert intel.lookup(ip_address("52.95.110.1")).is_datacenter  # AWS


@pytest.mark.parametrize(
    "ip", ["10.1.2.3", "192.168.0.1", "127.0.0.1", "100.64.1.1", "fd00::1", "169.254.1.1"]
)
def test_private_and_reserved_ranges(intel: GeoLiteIpIntel, ip: str) -> None:
    facts = intel.lookup(ip_address(ip))
    assert facts.is_private
    assert facts.country is None


def test_hosting_classifier_matches_words_not_substrings() -> None:
    c = HostingClassifier(["OVH*", "AS-CHOOPA"], ["hosting", "cloud"])
    assert c.is_hosting("OVH SAS")
    assert c.is_hosting("as-choopa")
    assert c.is_hosting("Best Hosting Ltd")
    assert not c.is_hosting("COLORCON")
    assert not c.is_hosting("Cloudlessness Telecom")


def test_neighbourhood_keys() -> None:
    assert ip_prefix_key(ip_address("1.2.3.4")) == "1.2.3.0/24"
    assert ip_prefix_key(ip_address("2001:db8::1")) == "2001:db8::/64"


def test_distance_and_speed() -> None:
    points = country_points()
    shanghai, new_york = points["CN"], points["US"]
    distance = haversine_km(shanghai, new_york)
    assert 11_500 < distance < 12_200
    assert haversine_km(Point(0, 0), Point(0, 0)) == 0
    assert implied_speed_kmh(100, 3600) == pytest.approx(100)
    assert implied_speed_kmh(1, 0) == pytest.approx(60)  # a same-second jump counts as a minute


def test_list_matching_by_every_entity_and_range() -> None:
    f = EventFactory()
    expired = datetime(2000, 1, 1, tzinfo=UTC)
    matcher = ListMatcher(
        [
            ListEntry(ListKind.BLOCK, ListEntity.DEVICE, "phone-alice", "stolen"),
            ListEntry(ListKind.WATCH, ListEntity.IP_RANGE, "117.136.0.0/16", "mobile range"),
            ListEntry(
                ListKind.BLOCK, ListEntity.COUNTERPARTY, "account:bob", "mule", expires_at=expired
            ),
            ListEntry(ListKind.BLOCK, ListEntity.TOKEN, "card-9", "stolen card"),
        ]
    )
    hits = matcher.matches(decode_event(f.transfer(to="bob")))
    assert {h.entry.reason for h in hits} == {"stolen", "mobile range"}  # the mule entry expired
    hits = matcher.matches(
        decode_event(f.withdraw(token="card-9", device=None, network={"ip": "8.8.8.8"}))
    )
    assert [h.entry.reason for h in hits] == ["stolen card"]


def test_list_entries_expire_by_event_time() -> None:
    f = EventFactory()
    event = decode_event(f.login())
    entry = ListEntry(
        ListKind.BLOCK,
        ListEntity.ACCOUNT,
        "alice",
        "x",
        expires_at=event.occurred_at + timedelta(seconds=1),
    )
    assert ListMatcher([entry]).matches(event)
    later = ListEntry(
        ListKind.BLOCK, ListEntity.ACCOUNT, "alice", "x", expires_at=event.occurred_at
    )
    assert not ListMatcher([later]).matches(event)


def test_list_values_are_normalised_or_refused() -> None:
    assert normalise_list_value(ListEntity.IP_RANGE, "10.1.2.3/8") == "10.0.0.0/8"
    assert normalise_list_value(ListEntity.IP, " 2001:DB8::1 ") == "2001:db8::1"
    with pytest.raises(InvalidInput):
        normalise_list_value(ListEntity.IP, "999.1.1.1")
    with pytest.raises(InvalidInput, match="type:id"):
        normalise_list_value(ListEntity.COUNTERPARTY, "bob")


def test_an_ipv4_client_written_as_ipv6_is_that_ipv4_client(intel: GeoLiteIpIntel) -> None:
    """`::ffff:a.b.c.d` is the IPv4 address a.b.c.d: its country, its lists, its /24."""
    f = EventFactory()
    event = decode_event(f.login(network={"ip": f"::ffff:{HOME_IP}"}))
    assert event.ip == ip_address(HOME_IP)
    assert intel.lookup(event.ip).country == "CN"
    assert ip_prefix_key(event.ip) == ip_prefix_key(ip_address(HOME_IP))
    matcher = ListMatcher(
        [ListEntry(ListKind.BLOCK, ListEntity.IP, normalise_list_value(ListEntity.IP, HOME_IP),
                   "abuse")]
    )  # fmt: skip
    assert [h.entry.reason for h in matcher.matches(event)] == ["abuse"]
    assert normalise_list_value(ListEntity.IP, f"::ffff:{HOME_IP}") == HOME_IP


def test_an_address_the_data_cannot_place_has_no_country(intel: GeoLiteIpIntel) -> None:
    """The bundled data answers "--" for a public address it does not place (6to4, NAT64
    prefixes): no country, rather than a country called "--" that is learnt as known."""
    for unplaced in ("2002:c000:204::1", "192.31.196.1"):
        assert intel.lookup(ip_address(unplaced)).country is None, unplaced
