"""The hash chain: any edit, deletion, insertion or reordering is named at the right place."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from walletguard.audit.chain import (
    AuditRecord,
    ChainHead,
    ChainWalker,
    chain_for,
    empty_head,
    seal,
    verify_chain,
)
from walletguard.audit.checkpoint import TrustedKeys, sign_checkpoint

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def build(n: int, chain: int = 0) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    head = empty_head(chain)
    for i in range(n):
        record = seal(
            head,
            at=T0 + timedelta(seconds=i),
            actor=f"a{i % 3}",
            action="x.did",
            subject=f"account:{i % 4}",
            payload={"i": i, "amount": "1.50"},
        )
        head = ChainHead(chain, record.seq, record.hash)
        records.append(record)
    return records


@given(st.integers(min_value=0, max_value=40))
def test_a_sealed_chain_verifies(n: int) -> None:
    assert verify_chain(build(n)) is None


@given(st.integers(min_value=1, max_value=30), st.data())
def test_an_edit_is_named_at_its_record(n: int, data: st.DataObject) -> None:
    records = build(n)
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    field = data.draw(st.sampled_from(["actor", "action", "subject", "payload", "at"]))
    value = {
        "actor": "mallory",
        "action": "y.did",
        "subject": "account:zz",
        "payload": {"i": -1},
        "at": T0 - timedelta(days=1),
    }[field]
    records[i] = replace(records[i], **{field: value})
    broken = verify_chain(records)
    assert broken is not None
    assert broken.seq == i + 1
    assert "edited" in broken.problem


@given(st.integers(min_value=2, max_value=30), st.data())
def test_a_deletion_is_named(n: int, data: st.DataObject) -> None:
    records = build(n)
    i = data.draw(st.integers(min_value=0, max_value=n - 2))
    del records[i]
    broken = verify_chain(records)
    assert broken is not None
    assert broken.seq == i + 1
    assert "deleted" in broken.problem


@given(st.integers(min_value=2, max_value=30), st.data())
def test_swapping_two_records_is_named(n: int, data: st.DataObject) -> None:
    records = build(n)
    i = data.draw(st.integers(min_value=0, max_value=n - 2))
    records[i], records[i + 1] = records[i + 1], records[i]
    broken = verify_chain(records)
    assert broken is not None
    assert broken.seq == i + 1


def test_a_record_from_elsewhere_does_not_fit() -> None:
    records = build(5)
    stranger = build(5, chain=3)[2]
    records.insert(2, replace(stranger, seq=3))
    broken = verify_chain(records)
    assert broken is not None
    assert broken.seq == 3


def test_the_recorded_head_catches_a_missing_tail() -> None:
    records = build(6)
    walker = ChainWalker()
    for record in records[:4]:
        walker.feed(record)
    broken = walker.finish(ChainHead(0, 6, records[-1].hash))
    assert broken is not None
    assert broken.seq == 5
    assert "deleted" in broken.problem
    fine = ChainWalker()
    for record in records:
        fine.feed(record)
    assert fine.finish(ChainHead(0, 6, records[-1].hash)) is None


def test_chains_are_chosen_by_subject_stably() -> None:
    assert chain_for("account:alice", 16) == chain_for("account:alice", 16)
    assert {chain_for(f"account:{i}", 16) for i in range(200)} == set(range(16))
    assert chain_for("anything", 1) == 0


def test_checkpoints_verify_only_under_the_key_that_signed_them() -> None:
    key = Ed25519PrivateKey.generate()
    heads = [ChainHead(0, 5, "a" * 64), ChainHead(1, 0, "0" * 64)]
    checkpoint = sign_checkpoint(key, heads, at=T0)
    assert checkpoint.check(TrustedKeys([key.public_key()])) is None
    assert checkpoint.check(TrustedKeys([Ed25519PrivateKey.generate().public_key()])) is not None
    moved = replace(checkpoint, heads=(ChainHead(0, 6, "a" * 64), heads[1]))
    assert "does not verify" in (moved.check(TrustedKeys([key.public_key()])) or "")
