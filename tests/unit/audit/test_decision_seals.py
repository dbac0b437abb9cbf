"""Seals over stored decisions: recomputed from rows fed in seq order, whatever the
interleaving of the writers' seqs; every change, deletion and insertion is named."""

from __future__ import annotations

from walletguard.audit.decisions import SealCheck, seal_payload, seq_ranges
from walletguard.kernel.canonical import canonical_json


def row(seq: int, text: str = "") -> tuple[int, tuple[object, ...]]:
    return seq, (f"ev-{seq}", text or f"decision {seq}")


def check(
    seals: list[list[tuple[int, tuple[object, ...]]]], rows: list[tuple[int, tuple[object, ...]]]
) -> SealCheck:
    found = SealCheck()
    found.add_seals((0, i + 1, seal_payload(s)) for i, s in enumerate(seals))
    for seq, values in sorted(rows):
        found.feed(seq, canonical_json(values), str(values[0]))
    found.finish()
    return found


def test_ranges_stay_compact() -> None:
    assert seq_ranges([1, 2, 3, 7, 8, 10]) == [[1, 3], [7, 8], [10, 10]]


def test_interleaved_writers_each_seal_their_own_rows() -> None:
    a = [row(s) for s in (1, 2, 5, 6, 9)]
    b = [row(s) for s in (3, 4, 7, 8)]
    found = check([a, b], a + b)
    assert found.problems == []
    assert (found.rows, found.seals) == (9, 2)


def test_an_edited_row_fails_its_seal_only() -> None:
    a, b = [row(s) for s in (1, 2, 5)], [row(s) for s in (3, 4)]
    found = check([a, b], [*a, row(3, "forged"), b[1]])
    assert found.problems == [
        "decisions 3..4 sealed by chain 0 record 2 no longer match their seal "
        "(a decision was edited)"
    ]


def test_deleted_rows_are_named_even_a_whole_seal() -> None:
    a, b = [row(s) for s in range(1, 5)], [row(s) for s in (5, 6)]
    found = check([a, b], [a[0], a[3]])
    assert found.problems == [
        "decisions 1..4 sealed by chain 0 record 1: seqs 2, 3 gone (deleted)",
        "decisions 5..6 sealed by chain 0 record 2: seqs 5, 6 gone (deleted)",
    ]


def test_rows_no_seal_covers_are_named() -> None:
    a = [row(s) for s in (1, 2)]
    found = check([a], [*a, row(3), row(9)])
    assert found.problems == [
        "decisions not covered by any seal (inserted behind the engine's back): "
        "seq 3 (ev-3), 9 (ev-9)"
    ]


def test_a_row_sealed_twice_is_a_forged_seal() -> None:
    a = [row(s) for s in (1, 2)]
    found = check([a, [row(2, "forged")]], a)
    assert found.problems[0] == (
        "decision 2 is sealed twice (chain 0 record 1 and chain 0 record 2): a seal was forged"
    )


def test_an_unreadable_seal_is_named() -> None:
    found = SealCheck()
    found.add_seals([(3, 7, {"ranges": [[5, 4]], "count": 0, "digest": "x"})])
    assert found.finish() == ["chain 3 record 7: not a readable decisions seal"]
