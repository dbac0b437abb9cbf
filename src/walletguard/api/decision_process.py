"""Deciding in a process of its own, so that HTTP and deciding use two cores.

In one process the HTTP front (parsing, routing, validating, answering) and the decision
writer take turns on one interpreter lock: measured, that capped the service at one core
while the second stood idle. Here the service's process validates each event and hands
it over a pipe to a child process that owns the engine (and, on the embedded default, the
in-process feature state and its checkpoints); the child decides what has arrived in one
unit of work, commits, and sends the answers back.

Promises: an answer is sent only after its decision was committed; if the child dies,
every event it had not answered fails with `DecisionsUnavailable` (nothing stored, or
stored and found again by its event id on a retry), and a new child is started. The
child ignores SIGINT and SIGTERM: it stops when the service tells it to (deciding what
was sent, then checkpointing in-process features) or when the service is gone.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import pickle
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Protocol

from walletguard.api.batcher import (
    Answer,
    Decided,
    DecisionsUnavailable,
    decide_all,
    new_future,
    resolve,
    save_checkpoint,
)
from walletguard.decisions.engine import Failure
from walletguard.events.model import WalletEvent
from walletguard.features.memory import MemoryFeatureStore

log = logging.getLogger("walletguard.api")

START_SECONDS = 300.0
"""How long a child may take to start (restoring a large feature checkpoint is slow)."""
STOP_SECONDS = 600.0
"""How long a child may take to decide what it was sent and checkpoint, when stopping."""
RESTART_PAUSE = 1.0
"""The first pause between failed restarts; it doubles up to `MAX_RESTART_PAUSE`."""
MAX_RESTART_PAUSE = 30.0


class Checkpoints(Protocol):
    """How a deciding process keeps its in-process features: `periodic` every
    `checkpoint_seconds`, `final` when it stops."""

    def periodic(self) -> object: ...

    def final(self) -> object: ...


@dataclass(frozen=True)
class InlineCheckpoints:
    """Both kinds by one call, in the deciding loop (e.g. a shared store's no-op)."""

    save: Callable[[], object]

    def periodic(self) -> object:
        return self.save()

    def final(self) -> object:
        return self.save()


@dataclass(frozen=True)
class DeciderSpec:
    """What a child needs to build its engine: `build` is a module-level function (it is
    pickled by name) called with `options`, returning `(engine, checkpoints)`."""

    build: Callable[..., tuple[Any, Checkpoints]]
    options: dict[str, Any]
    max_batch: int = 256
    checkpoint_seconds: float = 60.0


class DecisionProcess:
    """A `Decider` whose engine runs in a child process (see the module's promises)."""

    def __init__(self, spec: DeciderSpec) -> None:
        self._spec = spec
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._pending: dict[int, Future[Answer]] = {}
        self._next = 0
        self._outbox: list[tuple[int, bytes] | str] = []
        self._wake = threading.Condition(self._lock)
        self._closing = threading.Event()
        self._down: str | None = "starting"
        self._conn, self._process = self._start()  # raises if the child cannot start
        self._down = None
        self._sender = threading.Thread(target=self._send_loop, name="decider-send", daemon=True)
        self._reader = threading.Thread(target=self._read_loop, name="decider-read", daemon=True)
        self._sender.start()
        self._reader.start()
        # Never closed (the interpreter exiting after an error): multiprocessing would wait
        # for the child forever, and the child for the service.
        atexit.register(self._stop)

    # -- the service's side ------------------------------------------------------------

    def submit(self, event: WalletEvent) -> Future[Answer]:
        future = new_future()
        try:  # here, so that an event that cannot cross the pipe fails alone
            packed = pickle.dumps(event, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            log.exception("an event could not be passed to the deciding process")
            future.set_exception(RuntimeError(f"the event could not be passed on: {exc}"))
            return future
        with self._lock:
            if self._down is not None or self._closing.is_set():
                why = self._down or "the service is stopping"
                future.set_exception(DecisionsUnavailable(f"not deciding: {why}"))
                return future
            seq = self._next
            self._next += 1
            self._pending[seq] = future
            self._outbox.append((seq, packed))
            self._wake.notify()
        return future

    def refresh_soon(self) -> None:
        with self._lock:
            self._outbox.append("refresh")
            self._wake.notify()

    def ready(self) -> str | None:
        if self._down is None and not (self._sender.is_alive() and self._reader.is_alive()):
            return "the service's link to the deciding process has stopped"
        return self._down

    @property
    def pid(self) -> int:
        """The deciding process's id (a new one after a restart)."""
        return int(self._process.pid)

    def close(self) -> None:
        self._stop()
        atexit.unregister(self._stop)

    def _stop(self) -> None:
        with self._lock:
            self._closing.set()
            self._outbox.append("stop")
            self._wake.notify()
        self._sender.join(timeout=10)
        # The reader ends when the child, told to stop, has decided what it was sent,
        # checkpointed and exited (or when a restart under way has seen the service close).
        self._reader.join(timeout=STOP_SECONDS)
        with self._lock:
            process = self._process
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join(timeout=10)
        self._fail_pending("the service stopped")

    # -- threads -----------------------------------------------------------------------

    def _start(self) -> tuple[Connection, Any]:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=_child_main, args=(theirs, self._spec), name="walletguard-decider", daemon=True
        )
        process.start()
        theirs.close()
        if not ours.poll(START_SECONDS):
            process.kill()
            process.join(timeout=10)
            raise RuntimeError(f"the deciding process did not start in {START_SECONDS:.0f} s")
        try:
            kind, detail = ours.recv()
        except EOFError:
            process.join(timeout=5)
            raise RuntimeError(
                f"the deciding process exited while starting (exit code {process.exitcode})"
            ) from None
        if kind != "ready":
            process.join(timeout=5)
            raise RuntimeError(f"the deciding process could not start: {detail}")
        return ours, process

    def _send_loop(self) -> None:
        while True:
            with self._lock:
                while not self._outbox:
                    self._wake.wait()
                items, self._outbox = self._outbox, []
                conn = self._conn
            try:
                conn.send_bytes(pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL))
            except OSError:  # the child is gone: the reader fails what it had and restarts it
                seqs = [item[0] for item in items if isinstance(item, tuple)]
                self._fail(seqs, DecisionsUnavailable("not decided: lost; retry the event"))
            if "stop" in items:
                return

    def _read_loop(self) -> None:
        while True:
            try:
                answers = pickle.loads(self._conn.recv_bytes())
            except (EOFError, OSError):
                if self._closing.is_set():
                    return
                self._restart()
                continue
            except Exception:  # unreadable answers: which events they were is lost with them
                log.exception("unreadable answers from the deciding process; replacing it")
                self._process.kill()  # its pending events fail as unavailable, to be retried
                continue
            for seq, answer in answers:
                with self._lock:
                    future = self._pending.pop(seq, None)
                if future is not None:
                    resolve(future, answer)

    def _restart(self) -> None:
        self._process.join(timeout=5)
        exit_code = self._process.exitcode
        log.error("the deciding process stopped (exit code %s); starting another", exit_code)
        with self._lock:
            self._down = f"the deciding process stopped (exit code {exit_code}); restarting"
        self._fail_pending(self._down)
        pause = RESTART_PAUSE
        while not self._closing.is_set():
            try:
                conn, process = self._start()
            except Exception as exc:
                log.error(
                    "could not restart the deciding process (next try in %.0f s): %s", pause, exc
                )
                self._closing.wait(pause)
                pause = min(pause * 2, MAX_RESTART_PAUSE)
                continue
            with self._lock:
                self._conn, self._process = conn, process
                if not self._closing.is_set():
                    self._outbox = [item for item in self._outbox if not isinstance(item, tuple)]
                    self._down = None
                    return
            conn.close()  # closed while starting: the new child sees the pipe end and exits
            process.join(timeout=STOP_SECONDS)
            return

    def _fail_pending(self, why: str) -> None:
        with self._lock:
            lost, self._pending = list(self._pending.values()), {}
        for future in lost:
            resolve(future, DecisionsUnavailable(f"not decided: {why}; retry the event"))

    def _fail(self, seqs: list[int], error: Exception) -> None:
        with self._lock:
            lost = [f for s in seqs if (f := self._pending.pop(s, None)) is not None]
        for future in lost:
            resolve(future, error)


# -- the child's side ------------------------------------------------------------------


def _child_main(conn: Connection, spec: DeciderSpec) -> None:
    # Ctrl-C or a service manager's SIGTERM reaches the whole process group: the service
    # stops this process itself, after its last answers, with a checkpoint ("stop"), and
    # if the service dies first the pipe's end says so.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        engine, checkpoints = spec.build(**spec.options)
    except BaseException as exc:  # reported to the parent, which refuses to start
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", None))
    _Child(conn, engine, checkpoints, spec).run()


class _Child:
    """The deciding loop: batches of at most `max_batch` events, answered after their
    commit; a checkpoint every `checkpoint_seconds`, busy or not, and a last one on the
    way out."""

    def __init__(
        self, conn: Connection, engine: Any, checkpoints: Checkpoints, spec: DeciderSpec
    ) -> None:
        self.conn, self.engine, self.checkpoints, self.spec = conn, engine, checkpoints, spec
        self.backlog: deque[tuple[int, bytes] | str] = deque()
        self.stale = False
        """A batch's commit failed after its events were learnt by in-process features."""

    def run(self) -> None:
        due = time.monotonic() + self.spec.checkpoint_seconds
        while True:
            going_on = self._decide_a_batch(until=due)
            if self.stale:
                # No checkpoint: the replacement restores the features from the last one
                # and the stored decisions, which the failed batch is not among.
                log.error(
                    "a batch's commit failed after its events were counted in the features: "
                    "this deciding process stops and its replacement rebuilds them"
                )
                return
            if not going_on:
                save_checkpoint(self.checkpoints.final)
                return
            if time.monotonic() >= due:  # due even under continuous load
                save_checkpoint(self.checkpoints.periodic)
                due = time.monotonic() + self.spec.checkpoint_seconds

    def _decide_a_batch(self, until: float) -> bool:
        """Decide the next batch (waiting for one until `until`) and send its answers;
        False once the service said stop or is gone."""
        conn, limit, backlog = self.conn, self.spec.max_batch, self.backlog
        try:
            if not backlog and conn.poll(max(0.0, until - time.monotonic())):
                backlog.extend(pickle.loads(conn.recv_bytes()))
            while len(backlog) < limit and conn.poll(0):
                backlog.extend(pickle.loads(conn.recv_bytes()))
        except (EOFError, OSError):  # the service is gone: keep what was decided
            return False
        batch: list[tuple[int, bytes]] = []
        stopping = False
        while backlog and len(batch) < limit and not stopping:
            item = backlog.popleft()
            if item == "stop":
                stopping = True  # the service sends nothing after it
            elif item == "refresh":
                self.engine.refresh_soon()
            else:
                batch.append(item)  # type: ignore[arg-type]
        if batch:
            answers = decide_all(self.engine, [pickle.loads(packed) for _, packed in batch])
            reply = [(seq, _portable(a)) for (seq, _), a in zip(batch, answers, strict=True)]
            try:
                conn.send_bytes(pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
            except OSError:
                return False
            # The whole batch failed (answers are exceptions): rolled back, but learnt.
            self.stale = isinstance(self.engine.features, MemoryFeatureStore) and any(
                isinstance(a, BaseException) for a in answers
            )
        return not stopping


def _portable(answer: Answer | BaseException) -> Answer | BaseException:
    """An answer that unpickles in the parent (exceptions of database drivers may not)."""
    if isinstance(answer, Decided | Failure | DecisionsUnavailable):
        return answer
    return RuntimeError(f"{type(answer).__name__}: {answer}")
