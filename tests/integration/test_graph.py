"""The graph on real databases: live graph features in decisions, `graph scan` turning a
mule ring into a case with its picture, and the engine learning the ring."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from tests.support import EventFactory, Harness
from tests.unit.graph.ring_scenario import MULES, ring_events
from walletguard.composition import export_evidence, trusted_audit_keys, unit_of_work
from walletguard.events.decode import decode_event
from walletguard.evidence.package import verify_package
from walletguard.graph.rings import detect_rings
from walletguard.graph.service import open_ring_cases
from walletguard.storage import tables as t
from walletguard.storage.history import decided_events, latest_event_time


def scan(h: Harness) -> list[Any]:
    db = h.runtime.database
    latest = latest_event_time(db)
    assert latest is not None
    start = latest - timedelta(days=30)
    rings = detect_rings((e, True) for e, _ in decided_events(db, since=start))
    with unit_of_work(db) as uow:
        return open_ring_cases(
            uow, rings, window=(start, latest), at=datetime.now(UTC), actor="test", currency="CNY"
        )


def test_a_scan_turns_the_ring_into_one_case_with_its_picture(db_url: str) -> None:
    f = EventFactory()
    h = Harness(db_url)
    list(h.engine.decide_batch([decode_event(d) for d in ring_events(f)]))
    opened = scan(h)
    assert len(opened) == 1
    ring = opened[0]
    assert set(ring.members) == set(MULES)
    assert scan(h) == []  # the same ring is not opened twice
    with h.runtime.database.reading() as conn:
        case = conn.execute(select(t.cases).where(t.cases.c.id == ring.case_id)).one()
        stored = conn.execute(
            select(t.ring_cases).where(t.ring_cases.c.case_id == ring.case_id)
        ).one()
        audit = (
            conn.execute(
                select(t.audit_log.c.action).where(t.audit_log.c.subject == f"case:{ring.case_id}")
            )
            .scalars()
            .all()
        )
    assert case.account_id in MULES
    assert case.status == "open"
    assert case.risk_level == "high"  # as its alert: reviewed (and timed) as high risk
    assert set(json.loads(stored.members)) == set(MULES)
    assert any(flow["to"] == "a:mule1" for flow in json.loads(stored.flows))
    assert stored.svg.startswith("<svg")
    assert "graph.ring_case_opened" in audit
    h.close()

    # the case's evidence package carries the ring: members, flows, picture
    export = export_evidence(
        db_url, account_id=None, case_id=ring.case_id, actor="ann", at=datetime.now(UTC)
    )
    assert verify_package(export.data, trusted_audit_keys()).ok
    with zipfile.ZipFile(io.BytesIO(export.data)) as archive:
        (packed,) = [json.loads(x) for x in archive.read("rings.jsonl").splitlines()]
        timeline = archive.read("timeline.jsonl").decode()
    assert set(packed["members"]) == set(MULES)
    assert packed["svg"].startswith("<svg")
    assert '"kind":"ring"' in timeline

    # a restarted engine knows the ring, and graph features reach the rules and models
    h = Harness(db_url)
    f.advance(hours=1)
    decision = h.decide(f.transfer("user3", to="mule2", amount="10.00"))
    with h.runtime.database.reading() as conn:
        trace = json.loads(
            conn.execute(
                select(t.decisions.c.trace).where(t.decisions.c.event_id == decision.event_id)
            ).scalar_one()
        )
    assert h.engine.graph is not None
    assert h.engine.graph.in_ring("mule2")
    assert h.engine.graph.fan_in("mule1", f.now.timestamp() - 3600) >= 0
    assert trace is not None
    h.close()


def test_live_graph_features_through_the_catalogue(db_url: str) -> None:
    from walletguard.decisions.catalogue import RuleCatalogue

    f = EventFactory()
    h = Harness(db_url)
    docs = f.funded("victim", "3000.00") + f.funded("boss", "10.00")
    docs += [f.register("m1", device={"id": "farm"}), f.register("m2", device={"id": "farm"})]
    docs.append(f.transfer("victim", to="m1", amount="1000.00"))
    docs.append(f.make("fraud_report", "victim", ref_event_id=docs[-1]["event_id"]))
    h.decide_all(docs)
    seen: dict[str, Any] = {}
    catalogue = RuleCatalogue()
    names = [
        "graph.counterparty_hops_to_fraud",
        "graph.account_hops_to_fraud",
        "graph.device_cluster_size",
        "graph.payee_fan_in_24h",
        "graph.pass_through_ratio",
    ]
    h.engine.observers.append(
        lambda ctx: seen.update({n: catalogue.resolve(n).getter(ctx) for n in names})  # type: ignore[union-attr]
    )
    f.advance(minutes=5)
    h.decide(f.transfer("m1", to="m2", amount="900.00", device={"id": "farm"}))
    assert seen["graph.account_hops_to_fraud"] == 0  # m1 received the reported transfer
    assert seen["graph.counterparty_hops_to_fraud"] is None  # m2 only shares a device
    assert seen["graph.device_cluster_size"] == 2
    assert seen["graph.pass_through_ratio"] == 0.9
    h.close()

    h = Harness(db_url)  # rebuilt from the stored events on start
    graph = h.engine.graph
    assert graph is not None
    assert graph.hops_to_fraud("a:m1") == 0
    assert graph.cluster_size("m1") == 2
    h.close()


def test_a_restart_marks_the_payee_of_a_payment_charged_back_after_the_window(
    db_url: str,
) -> None:
    """The chargeback is within the 30 days the graph is rebuilt from; the payment is not."""
    from walletguard.composition import rebuild_graph
    from walletguard.graph.live import LiveGraph

    f = EventFactory()
    h = Harness(db_url, models=False)
    try:
        h.decide_all(f.funded("alice", "500.00"))
        payment = f.payment("alice", merchant="shop-9", amount="50.00")
        h.decide(payment)
        f.advance(days=45)
        h.decide(f.make("chargeback", ref_event_id=payment["event_id"], device=None, network=None))
        assert h.runtime.graph is not None
        assert h.runtime.graph.hops_to_fraud("c:merchant:shop-9") == 0  # live
        rebuilt = LiveGraph()
        rebuild_graph(h.runtime.database, rebuilt)
        assert rebuilt.hops_to_fraud("c:merchant:shop-9") == 0
        assert "c:merchant:shop-9" in rebuilt.confirmed
    finally:
        h.close()
