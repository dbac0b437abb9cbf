"""A small hand-made mule ring among ordinary wallets, as `(event document, moved)` pairs."""

from __future__ import annotations

from typing import Any

from tests.support import EventFactory

MULES = ["mule1", "mule2", "mule3", "mule4"]
VICTIMS = ["victim1", "victim2", "victim3"]
ORDINARY = [f"user{i}" for i in range(8)]


def ring_events(
    f: EventFactory, *, tipped_hours_before: float | None = None
) -> list[dict[str, Any]]:
    """`tipped_hours_before`: a recruiter sends each mule 1.00 that many hours before the
    victims' money arrives (an old, unrelated payment in the scan's window)."""
    docs: list[dict[str, Any]] = []
    for name in ORDINARY + VICTIMS:
        docs += f.funded(name, "5000.00")
        f.advance(minutes=3)
    f.advance(days=20)
    # new mule wallets registered from two devices
    for i, mule in enumerate(MULES):
        device = {"id": f"farm-{i % 2}", "os": "android", "model": "x"}
        docs.append(f.register(mule, device=device))
        f.advance(minutes=2)
        docs.append(f.bind(mule, token=f"card-{mule}", device=device))
        f.advance(minutes=2)
    if tipped_hours_before is not None:
        for mule in MULES:
            docs.append(f.transfer(ORDINARY[-1], to=mule, amount="1.00"))
            f.advance(minutes=1)
        f.advance(hours=tipped_hours_before)
    # victims' money lands on mule1, is split to the others, and cashed out
    for victim in VICTIMS:
        docs.append(f.transfer(victim, to="mule1", amount="900.00"))
        f.advance(minutes=4)
    for mule in MULES[1:]:
        docs.append(f.transfer("mule1", to=mule, amount="850.00", device={"id": "farm-0"}))
        f.advance(minutes=3)
    for mule in MULES[1:]:
        docs.append(
            f.withdraw(mule, amount="800.00", token=f"card-{mule}", device={"id": "farm-1"})
        )
        f.advance(minutes=3)
    docs.append(f.transfer("mule3", to="mule1", amount="20.00", device={"id": "farm-0"}))
    # ordinary life: a few payments and a friendly transfer
    for i, name in enumerate(ORDINARY):
        docs.append(f.payment(name, merchant=f"shop-{i % 3}", amount="25.00"))
        f.advance(minutes=7)
    docs.append(f.transfer("user1", to="user2", amount="40.00"))
    return docs
