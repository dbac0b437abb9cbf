"""Feature checkpoints written by a forked copy of the deciding process, on a real SQLite
database: the checkpoint holds the state as of the fork, while deciding goes on; a
restart after a crash continues exactly as a run that never stopped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support import EventFactory, Harness, restart_story
from walletguard.decisions.model import Decision
from walletguard.storage import forked_checkpoints
from walletguard.storage.forked_checkpoints import ForkedCheckpoints


def never_stopped(tmp_path: Path, documents: list[dict[str, Any]]) -> list[Decision]:
    """The decisions of a run that never stopped, on a database of its own."""
    whole = Harness(f"sqlite:///{tmp_path / 'whole.db'}")
    try:
        return whole.decide_all(documents)
    finally:
        whole.close()


def started(url: str, documents: list[dict[str, Any]]) -> tuple[Harness, ForkedCheckpoints]:
    """A run that has decided `documents`, and its forked checkpoints."""
    run = Harness(url)
    run.decide_all(documents)
    return run, ForkedCheckpoints(run.runtime.checkpointer, run.runtime.features)  # type: ignore[arg-type]


def restarted_decide(url: str, later: list[dict[str, Any]], reapplied: int) -> list[Decision]:
    """Restart on `url` (checking how many stored events it re-applied), then decide `later`."""
    run = Harness(url)
    try:
        assert run.runtime.restored[1] == reapplied
        return run.decide_all(later)
    finally:
        run.close()


def test_a_restart_from_a_forked_checkpoint_goes_on_as_if_nothing_stopped(
    tmp_path: Path, events: EventFactory
) -> None:
    docs, later = restart_story(events)
    expected = never_stopped(tmp_path, docs + later)

    url = f"sqlite:///{tmp_path / 'crashed.db'}"
    first, checkpoints = started(url, docs[:10])
    checkpoints.periodic()  # the copy writes the state after 10 events...
    first.decide_all(docs[10:])  # ...while these are decided and stored
    assert checkpoints.wait() is True
    first.close()  # a crash: no final checkpoint

    # re-applied: what came after the fork
    assert restarted_decide(url, later, len(docs) - 10) == expected[-2:]


def test_what_a_failed_copy_was_to_write_is_written_by_the_next_checkpoint(
    tmp_path: Path, events: EventFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs, later = restart_story(events)
    expected = never_stopped(tmp_path, docs + later)

    url = f"sqlite:///{tmp_path / 'failed.db'}"
    first, checkpoints = started(url, docs[:10])

    def unreachable(*_: Any, **__: Any) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch:  # the copy cannot open the database
        patch.setattr(forked_checkpoints, "open_database", unreachable)
        checkpoints.periodic()
        assert checkpoints.wait() is False
    first.decide_all(docs[10:12])
    checkpoints.periodic()  # writes the failed copy's changes too
    assert checkpoints.wait() is True
    first.decide_all(docs[12:])
    first.close()  # a crash

    assert restarted_decide(url, later, len(docs) - 12) == expected[-2:]


def test_what_a_failed_fork_was_to_write_is_written_by_the_next_checkpoint(
    tmp_path: Path, events: EventFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ~700 MB process may fail to fork (EAGAIN, ENOMEM): the changes it had taken wait
    for the next checkpoint instead of being dropped."""
    docs, later = restart_story(events)
    expected = never_stopped(tmp_path, docs + later)

    url = f"sqlite:///{tmp_path / 'unforked.db'}"
    first, checkpoints = started(url, docs[:10])

    def no_fork() -> int:
        raise BlockingIOError("fork: Resource temporarily unavailable")

    with monkeypatch.context() as patch:
        patch.setattr(forked_checkpoints.os, "fork", no_fork)
        with pytest.raises(BlockingIOError):
            checkpoints.periodic()
    first.decide_all(docs[10:12])
    checkpoints.periodic()  # writes the unforked changes too
    assert checkpoints.wait() is True
    first.decide_all(docs[12:])
    first.close()  # a crash

    assert restarted_decide(url, later, len(docs) - 12) == expected[-2:]


def test_final_waits_for_the_copy_then_writes_the_rest_here(
    tmp_path: Path, events: EventFactory
) -> None:
    docs, _ = restart_story(events)
    url = f"sqlite:///{tmp_path / 'stopped.db'}"
    first, checkpoints = started(url, docs[:10])
    checkpoints.periodic()
    first.decide_all(docs[10:])
    checkpoints.final()
    assert checkpoints.wait() is None  # nothing left running
    first.close()
    assert restarted_decide(url, [], 0) == []  # everything was in the checkpoint
