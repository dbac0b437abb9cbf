from tests.support import EventFactory
from walletguard.events.decode import decode_event
from walletguard.graph.live import MAX_ATTRIBUTE_ACCOUNTS, LiveGraph


def feed(graph: LiveGraph, docs: list[dict], moved: bool = True) -> None:
    for doc in docs:
        graph.observe(decode_event(doc), moved=moved)


def test_distance_to_fraud_follows_money_and_new_edges() -> None:
    f = EventFactory()
    g = LiveGraph()
    feed(g, [f.transfer("a", to="b"), f.transfer("b", to="c")])
    g.mark_fraud(["a:c"])
    assert (g.hops_to_fraud("a:c"), g.hops_to_fraud("a:b"), g.hops_to_fraud("a:a")) == (0, 1, 2)
    assert g.hops_to_fraud("a:z") is None
    feed(g, [f.transfer("z", to="c")])  # a new edge learns its distance at once
    assert g.hops_to_fraud("a:z") == 1


def test_merchants_do_not_pass_distance_on() -> None:
    f = EventFactory()
    g = LiveGraph()
    feed(g, [f.payment("fraudster", merchant="m"), f.payment("customer", merchant="m")])
    g.mark_fraud(["a:fraudster"])
    assert g.hops_to_fraud("c:merchant:m") == 1
    assert g.hops_to_fraud("a:customer") is None


def test_blocked_money_makes_no_edge_but_devices_still_link() -> None:
    f = EventFactory()
    g = LiveGraph()
    phone = {"id": "shared-phone"}
    feed(g, [f.transfer("a", to="b", device=phone), f.login("c", device=phone)], moved=False)
    assert g.fan_out("a", f.now.timestamp()) == 0
    assert g.cluster_size("a") == g.cluster_size("c") == 2
    assert g.cluster_size("b") == 1
    assert g.attribute_accounts("d:shared-phone") == 2


def test_a_device_shared_by_very_many_wallets_stops_merging_clusters() -> None:
    f = EventFactory()
    g = LiveGraph()
    kiosk = {"id": "kiosk"}
    feed(g, [f.login(f"u{i}", device=kiosk) for i in range(MAX_ATTRIBUTE_ACCOUNTS + 5)])
    assert g.cluster_size("u0") == MAX_ATTRIBUTE_ACCOUNTS
    assert g.cluster_size(f"u{MAX_ATTRIBUTE_ACCOUNTS + 1}") == 1


def test_fan_in_fan_out_and_pass_through_over_a_day() -> None:
    f = EventFactory()
    g = LiveGraph()
    feed(g, [f.transfer(f"s{i}", to="mule", amount="100.00") for i in range(4)])
    feed(g, [f.withdraw("mule", amount="390.00", token="card-x")])
    now = f.now.timestamp()
    assert g.fan_in("mule", now) == 4
    assert g.fan_out("mule", now) == 1
    assert g.money_in_out("mule", now) == (400_0000, 390_0000)
    f.advance(days=2)
    assert g.fan_in("mule", f.now.timestamp()) == 0


def test_ring_membership() -> None:
    g = LiveGraph()
    g.set_rings(["m1", "m2"], "v1")
    assert g.in_ring("m1")
    assert not g.in_ring("x")
    assert not g.in_ring(None)


def test_an_event_arriving_late_sees_only_what_came_before_it() -> None:
    f = EventFactory()
    g = LiveGraph()
    start = f.now.timestamp()
    f.advance(hours=2)
    feed(g, [f.transfer("s1", to="mule", amount="100.00"), f.transfer("mule", to="x")])
    # an event that happened an hour before those, arriving after them
    late = start + 3600
    assert g.fan_in("mule", late) == 0
    assert g.fan_out("mule", late) == 0
    assert g.money_in_out("mule", late) == (0, 0)
    now = f.now.timestamp()
    assert g.fan_in("mule", now) == 1
    assert g.money_in_out("mule", now) == (100 * 10_000, 50 * 10_000)


def test_a_late_sighting_keeps_the_latest_time_and_the_order() -> None:
    f = EventFactory()
    g = LiveGraph()
    f.advance(hours=30)
    feed(g, [f.transfer("s1", to="mule", amount="1.00")])  # at 30 h
    f.advance(hours=-29)
    feed(g, [f.transfer("s1", to="mule", amount="1.00")])  # at 1 h, arriving late
    f.advance(hours=9)
    feed(g, [f.transfer("s2", to="mule", amount="2.00")])  # at 10 h, late too
    flows = g.flows["a:mule"]
    assert list(flows.senders.items()) == [
        ("a:s2", f.now.timestamp()),
        ("a:s1", flows.senders["a:s1"]),
    ]
    assert flows.senders["a:s1"] == f.now.timestamp() + 20 * 3600  # still 30 h
    assert [t for t, _, _ in flows.inflow] == sorted(t for t, _, _ in flows.inflow)
    # at 31 h: both senders within the day (s1 at 30 h, s2 at 10 h)
    assert g.fan_in("mule", f.now.timestamp() + 21 * 3600) == 2
