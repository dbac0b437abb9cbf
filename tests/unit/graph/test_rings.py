from xml.etree import ElementTree

import pytest

from tests.support import EventFactory
from tests.unit.graph.ring_scenario import MULES, ring_events
from walletguard.events.decode import decode_event
from walletguard.graph.picture import ring_svg
from walletguard.graph.rings import detect_rings


def test_the_ring_is_found_with_its_members_and_not_its_victims() -> None:
    events = [(decode_event(d), True) for d in ring_events(EventFactory())]
    rings = detect_rings(events)
    assert len(rings) == 1
    ring = rings[0]
    assert set(ring.members) == set(MULES)
    assert {"pass_through", "fan_in_fan_out", "cycle", "shared_devices"} >= set(ring.patterns)
    assert len(ring.patterns) >= 2
    assert any(flow["from"] == "a:victim1" and flow["to"] == "a:mule1" for flow in ring.flows)
    assert ring.money_units > 0


@pytest.mark.parametrize("hours", [1, 60, 20 * 24])
def test_an_old_small_payment_does_not_hide_the_ring(hours: float) -> None:
    """Passing money on is judged from each payment in, not only from the window's first:
    a recruiter's 1.00 days earlier does not make the mules look like they keep money."""
    docs = ring_events(EventFactory(), tipped_hours_before=hours)
    rings = detect_rings([(decode_event(d), True) for d in docs])
    assert len(rings) == 1
    assert set(rings[0].members) == set(MULES)
    assert "pass_through" in rings[0].patterns


def test_ordinary_wallets_make_no_ring() -> None:
    f = EventFactory()
    docs = []
    for i in range(6):
        docs += f.funded(f"u{i}", "500.00")
    for i in range(6):
        docs.append(f.transfer(f"u{i}", to=f"u{(i + 1) % 6}", amount="10.00"))
    assert detect_rings([(decode_event(d), True) for d in docs]) == []


def test_the_ring_picture_is_an_svg_naming_its_members() -> None:
    events = [(decode_event(d), True) for d in ring_events(EventFactory())]
    ring = detect_rings(events)[0]
    svg = ring_svg(ring, "case-x: a ring")
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg")
    for mule in MULES:
        assert mule in svg
