"""The service's deciding process: a real child process on a real database, deciding as the
in-thread writer does, following list changes, surviving its own death."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.support import EventFactory
from walletguard.api.batcher import Decided, DecisionBatcher, DecisionsUnavailable
from walletguard.api.decision_process import DeciderSpec, DecisionProcess
from walletguard.api.server import decision_engine, decision_runtime
from walletguard.enrich.lists import ListEntity, ListEntry, ListKind
from walletguard.events.decode import decode_event
from walletguard.storage.database import open_database
from walletguard.storage.uow import SqlUnitOfWork

REPO = Path(__file__).resolve().parents[2]


def spec(db_url: str, **options: Any) -> DeciderSpec:
    return DeciderSpec(
        build=decision_engine,
        options={
            "db_url": db_url,
            "redis_url": None,
            "redis_prefix": None,
            "refresh_seconds": options.pop("refresh_seconds", 1.0),
        },
        **options,
    )


@pytest.fixture
def decider(sqlite_url: str) -> Iterator[DecisionProcess]:
    process = DecisionProcess(spec(sqlite_url, refresh_seconds=3600.0))
    yield process
    process.close()


def decide(decider: Any, documents: list[dict[str, Any]]) -> list[Any]:
    futures = [decider.submit(decode_event(d)) for d in documents]
    return [f.result(timeout=60) for f in futures]


def story(events: EventFactory) -> list[dict[str, Any]]:
    return [
        *events.funded("alice", "100.00"),
        events.payment("alice", amount="30.00"),
        events.withdraw("alice", amount="60.00"),
        events.login("alice", success=False),
        *events.funded("bob", "20.00"),
        events.transfer("bob", to="alice", amount="5.00"),
    ]


def test_the_process_decides_and_stores_as_the_in_thread_writer_does(
    tmp_path: Any, events: EventFactory
) -> None:
    documents = story(events)
    bodies = {}
    for how in ("process", "thread"):
        url = f"sqlite:///{tmp_path / how}.db"
        if how == "process":
            decider: Any = DecisionProcess(spec(url))
        else:
            runtime = decision_runtime(url, None, None)
            decider = DecisionBatcher(runtime.engine, checkpoint=runtime.save_features)
        answers = decide(decider, documents)
        decider.close()
        assert all(isinstance(a, Decided) for a in answers)
        bodies[how] = [msgspec.json.decode(a.body) for a in answers]
        database = open_database(url)
        with database.reading() as conn:
            stored = conn.exec_driver_sql("select count(*) from decisions").scalar()
        database.dispose()
        assert stored == len(documents)  # each answer's decision was committed
    assert bodies["process"] == bodies["thread"]
    assert [b["decision"] for b in bodies["process"]][:3] == ["allow"] * 3


def test_closing_checkpoints_the_feature_state_the_process_learnt(
    sqlite_url: str, events: EventFactory
) -> None:
    decider = DecisionProcess(spec(sqlite_url))
    decide(decider, story(events))
    decider.close()
    restarted = decision_runtime(sqlite_url, None, None)
    try:
        assert restarted.restored[0] > 0  # windows and profiles came back from the database
    finally:
        restarted.close()


def test_features_are_checkpointed_while_the_process_is_busy(
    sqlite_url: str, events: EventFactory
) -> None:
    decider = DecisionProcess(spec(sqlite_url, checkpoint_seconds=0.05, max_batch=16))
    try:
        futures = [decider.submit(decode_event(events.login(f"u{i}"))) for i in range(6000)]
        saved = 0
        while not saved and not futures[-1].done():  # a checkpoint while events still wait
            saved = checkpointed(sqlite_url)
            time.sleep(0.01)
        busy = not futures[-1].done()
        for future in futures:
            future.result(timeout=120)
    finally:
        decider.close()
    assert saved > 0
    assert busy  # it was written with events still waiting to be decided


def checkpointed(db_url: str) -> int:
    database = open_database(db_url)
    try:
        with database.reading() as conn:
            return int(conn.exec_driver_sql("select count(*) from feature_checkpoints").scalar())
    finally:
        database.dispose()


def test_a_list_change_reaches_the_process_before_the_next_event(
    decider: DecisionProcess, sqlite_url: str, events: EventFactory
) -> None:
    assert decide(decider, [events.register("carol")])[0].outcome == "allow"
    database = open_database(sqlite_url)
    uow = SqlUnitOfWork(database)
    uow.lists.add(
        ListEntry(ListKind.BLOCK, ListEntity.ACCOUNT, "carol", "stolen identity", None, "test"),
        at=datetime.now(UTC),
    )
    uow.commit()
    uow.close()
    database.dispose()
    # The engine re-reads lists hourly here: only the refresh sent down the pipe can tell it.
    decider.refresh_soon()
    blocked = decide(decider, [events.login("carol")])[0]
    assert blocked.outcome == "block"


def test_a_dead_process_is_replaced_and_retries_get_the_stored_answer(
    decider: DecisionProcess, events: EventFactory
) -> None:
    documents = story(events)
    first = decide(decider, documents)
    dead = decider.pid
    os.kill(dead, signal.SIGSTOP)  # the next event waits in the pipe...
    waiting_event = decode_event(events.payment("alice", amount="1.00"))
    waiting = decider.submit(waiting_event)
    os.kill(dead, signal.SIGKILL)  # ...and is never decided
    with pytest.raises(DecisionsUnavailable, match="retry the event"):
        waiting.result(timeout=60)
    deadline = time.monotonic() + 120
    while decider.pid == dead or decider.ready() is not None:
        assert time.monotonic() < deadline, "no new deciding process within 120 s"
        time.sleep(0.05)
    again = decide(decider, documents)  # a retry of every event: the stored answers
    assert [a.body for a in again] == [a.body for a in first]
    retried = decider.submit(waiting_event).result(timeout=60)  # the one that got a 503
    assert isinstance(retried, Decided)


def test_an_event_that_cannot_be_passed_on_fails_alone(
    decider: DecisionProcess, events: EventFactory
) -> None:
    broken = decode_event(events.login("dave"))
    broken.metadata = {"handle": threading.Lock()}  # cannot cross a process boundary
    before = decider.submit(decode_event(events.register("erin")))
    refused = decider.submit(broken)
    after = decider.submit(decode_event(events.register("frank")))
    with pytest.raises(RuntimeError, match="could not be passed on"):
        refused.result(timeout=60)
    assert [f.result(timeout=60).outcome for f in (before, after)] == ["allow", "allow"]


def test_a_request_given_up_on_still_gets_its_decision_and_others_go_on(
    decider: DecisionProcess, events: EventFactory
) -> None:
    abandoned = decider.submit(decode_event(events.register("gina")))
    assert not abandoned.cancel()  # a client gone away cannot un-send an event
    assert isinstance(abandoned.result(timeout=60), Decided)
    assert decide(decider, [events.register("hank")])[0].outcome == "allow"


def test_closing_while_a_dead_process_is_replaced_leaves_no_process_behind(
    sqlite_url: str,
) -> None:
    decider = DecisionProcess(spec(sqlite_url))
    os.kill(decider.pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while decider.ready() is None:  # the reader has seen the death and is restarting
        assert time.monotonic() < deadline, "the death went unnoticed"
        time.sleep(0.01)
    decider.close()
    assert multiprocessing.active_children() == []
    assert decider.ready() is not None


def test_a_service_exiting_without_closing_its_decider_still_ends_with_a_checkpoint(
    sqlite_url: str,
) -> None:
    script = (
        "from tests.integration.test_decision_process import decide, spec, story\n"
        "from tests.support import EventFactory\n"
        "from walletguard.api.decision_process import DecisionProcess\n"
        f"decide(DecisionProcess(spec({sqlite_url!r})), story(EventFactory()))\n"
    )  # and exits, never calling close()
    ended = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert ended.returncode == 0, ended.stderr
    restarted = decision_runtime(sqlite_url, None, None)
    try:
        assert restarted.restored[0] > 0
    finally:
        restarted.close()


def test_a_process_that_cannot_start_says_why(tmp_path: Any) -> None:
    with pytest.raises(RuntimeError, match=r"could not start: .*unable to open database"):
        DecisionProcess(spec(f"sqlite:///{tmp_path}"))  # a directory, not a database file


def test_a_failed_commit_leaves_nothing_counted_in_the_features(
    tmp_path: Any, events: EventFactory
) -> None:
    """The events of a batch whose commit failed were counted in the in-process features
    as they were decided; the deciding process is replaced and its successor rebuilds the
    features from the stored decisions, so the failed event counts nowhere (not until the
    next restart, nor once more when it is sent again)."""
    documents = story(events)
    failed = events.login("alice", success=False)

    def features_stored(url: str, refused: dict[str, Any] | None) -> dict[str, bytes]:
        decider = DecisionProcess(spec(url, refresh_seconds=3600.0))
        try:
            decide(decider, documents)
            if refused is not None:
                database = open_database(url)
                with database.writing() as conn:  # the database refuses to store it
                    conn.exec_driver_sql(
                        "CREATE TRIGGER refuse BEFORE INSERT ON decisions WHEN NEW.event_id = "
                        f"'{refused['event_id']}' BEGIN SELECT RAISE(ABORT, 'disk full'); END"
                    )
                first = decider.pid
                with pytest.raises(DecisionsUnavailable, match="disk full"):
                    decider.submit(decode_event(refused)).result(timeout=60)
                deadline = time.monotonic() + 120
                while decider.pid == first or decider.ready() is not None:
                    assert time.monotonic() < deadline, "the deciding process was not replaced"
                    time.sleep(0.05)
                with database.writing() as conn:
                    conn.exec_driver_sql("DROP TRIGGER refuse")
                database.dispose()
        finally:
            decider.close()
        database = open_database(url)
        try:
            with database.reading() as conn:
                rows = conn.exec_driver_sql("SELECT key, state FROM feature_checkpoints").all()
        finally:
            database.dispose()
        return {key: bytes(state) for key, state in rows}

    clean = features_stored(f"sqlite:///{tmp_path / 'clean.db'}", None)
    after_failure = features_stored(f"sqlite:///{tmp_path / 'failed.db'}", failed)
    assert clean
    assert after_failure == clean
