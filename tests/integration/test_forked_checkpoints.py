"""Feature checkpoints written by a forked copy of the deciding process, on a real SQLite
database: the checkpoint holds the state as of the fork, while deciding goes on; a
restart after a crash continues exactly as a run that never stopped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support import EventFactory, Harness
from walletguard.storage import forked_checkpoints
from walletguard.storage.forked_checkpoints import ForkedCheckpoints


def story(events: EventFactory) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    docs: list[dict[str, Any]] = []
    for i in range(4):
        docs += events.funded(f"s{i}", "2000.00")
        events.advance(minutes=3)
        docs.append(events.transfer(f"s{i}", to="mule", amount="1500.00"))
    docs.append(events.register("mule"))
    later = [
        events.withdraw("mule", token="card-x", amount="1000.00"),
        events.login("s1", success=False),
    ]
    return docs, later


def forked(h: Harness) -> ForkedCheckpoints:
    return ForkedCheckpoints(h.runtime.checkpointer, h.runtime.features)  # type: ignore[arg-type]


def test_a_restart_from_a_forked_checkpoint_goes_on_as_if_nothing_stopped(
    tmp_path: Path, events: EventFactory
) -> None:
    docs, later = story(events)
    whole = Harness(f"sqlite:///{tmp_path / 'whole.db'}")
    expected = whole.decide_all(docs + later)
    whole.close()

    url = f"sqlite:///{tmp_path / 'crashed.db'}"
    first = Harness(url)
    first.decide_all(docs[:10])
    checkpoints = forked(first)
    checkpoints.periodic()  # the copy writes the state after 10 events...
    first.decide_all(docs[10:])  # ...while these are decided and stored
    assert checkpoints.wait() is True
    first.close()  # a crash: no final checkpoint

    second = Harness(url)
    assert second.runtime.restored[1] == len(docs) - 10  # re-applied: what came after the fork
    assert second.decide_all(later) == expected[-2:]
    second.close()


def test_what_a_failed_copy_was_to_write_is_written_by_the_next_checkpoint(
    tmp_path: Path, events: EventFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs, later = story(events)
    whole = Harness(f"sqlite:///{tmp_path / 'whole.db'}")
    expected = whole.decide_all(docs + later)
    whole.close()

    url = f"sqlite:///{tmp_path / 'failed.db'}"
    first = Harness(url)
    first.decide_all(docs[:10])
    checkpoints = forked(first)

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

    second = Harness(url)
    assert second.runtime.restored[1] == len(docs) - 12
    assert second.decide_all(later) == expected[-2:]
    second.close()


def test_final_waits_for_the_copy_then_writes_the_rest_here(
    tmp_path: Path, events: EventFactory
) -> None:
    docs, _ = story(events)
    url = f"sqlite:///{tmp_path / 'stopped.db'}"
    first = Harness(url)
    first.decide_all(docs[:10])
    checkpoints = forked(first)
    checkpoints.periodic()
    first.decide_all(docs[10:])
    checkpoints.final()
    assert checkpoints.wait() is None  # nothing left running
    first.close()
    second = Harness(url)
    assert second.runtime.restored[1] == 0  # everything was in the checkpoint
    second.close()
