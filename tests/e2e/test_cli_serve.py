"""`walletguard serve` as an operator runs it: a real process on a real port, on the embedded
default with no other set-up, and with PostgreSQL + Redis in several workers."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import fresh_pg_database
from tests.e2e.api_support import free_port
from tests.e2e.test_cli_replay import CLI
from tests.support import EventFactory
from tests.support import serving as serve_process
from walletguard.api.server import decision_runtime
from walletguard.features.redis_store import RedisFeatureStore

REDIS_URL = os.environ.get("WALLETGUARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WALLETGUARD_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)


@contextmanager
def serving(
    home: Path, *args: str, scratch: Path | None = None, interrupt: bool = False
) -> Iterator[str]:
    """`walletguard serve ARGS` until the block ends; yields its URL once it is ready.
    `scratch`: the service's temporary directory; `interrupt`: stopped as by Ctrl-C."""
    port = free_port()
    env = {**os.environ, "WALLETGUARD_HOME": str(home)}
    if scratch is not None:
        env["TMPDIR"] = str(scratch)
    url = f"http://127.0.0.1:{port}"
    command = [*CLI, "serve", "--port", str(port), *args]
    with serve_process(command, env, url, interrupt=interrupt):
        yield url


def submit(url: str, key: str, documents: list[dict[str, object]]) -> list[httpx.Response]:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as http:
        return [http.post("/v1/events", json=doc) for doc in documents]


@pytest.mark.parametrize("decide_in", [None, "thread"])
def test_serve_runs_on_the_embedded_default_with_no_other_setup(
    tmp_path: Path, events: EventFactory, decide_in: str | None
) -> None:
    key = cli(tmp_path, "keys", "create", "--role", "integrator").stdout.strip()
    documents = [*events.funded("alice", "100.00"), events.payment("alice", amount="30.00")]
    with serving(tmp_path, *(["--decide-in", decide_in] if decide_in else [])) as url:
        answers = submit(url, key, documents)
        assert [a.status_code for a in answers] == [200] * len(documents)
        assert answers[-1].json()["decision"] == "allow"
        again = submit(url, key, documents[-1:])[0]  # same event: same stored answer
        assert again.json() == answers[-1].json()
        ready = httpx.get(url + "/ready").json()
    assert ready["checks"] == {"database": "ok", "decider": "ok"}
    assert (tmp_path / "walletguard.db").exists()  # the embedded database, in the data dir
    balance = cli(tmp_path, "ledger", "balance", "alice")  # what the server's decisions did
    assert balance.returncode == 0, balance.stderr
    assert "70.00" in balance.stdout  # 100.00 topped up and confirmed, 30.00 paid


def test_ctrl_c_stops_the_service_and_its_deciding_process_after_a_checkpoint(
    tmp_path: Path, events: EventFactory
) -> None:
    key = cli(tmp_path, "keys", "create", "--role", "integrator").stdout.strip()
    documents = [*events.funded("alice", "100.00"), events.payment("alice", amount="30.00")]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "WALLETGUARD_HOME": str(tmp_path)}
    command = [*CLI, "serve", "--port", str(port)]
    with serve_process(command, env, url, interrupt=True) as service:
        assert [a.status_code for a in submit(url, key, documents)] == [200] * len(documents)
        children = subprocess.run(["pgrep", "-P", str(service.pid)], capture_output=True)
        helpers = [int(pid) for pid in children.stdout.split()]
        assert helpers  # the deciding process (and multiprocessing's resource tracker)
    assert service.returncode == 0
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in helpers):  # they go with the service
        assert time.monotonic() < deadline, "the service's processes outlived it"
        time.sleep(0.1)
    restarted = decision_runtime(f"sqlite:///{tmp_path / 'walletguard.db'}", None, None)
    try:
        assert restarted.restored[0] > 0  # what the service learnt was checkpointed
    finally:
        restarted.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (ProcessLookupError, FileNotFoundError):
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


@pytest.mark.postgres
def test_serve_runs_several_workers_on_postgresql_and_redis(
    tmp_path: Path, events: EventFactory
) -> None:
    db = fresh_pg_database()
    prefix = f"wg:test:serve:{uuid.uuid4().hex[:8]}:"
    key = cli(tmp_path, "keys", "create", "--role", "integrator", "--db", db).stdout.strip()
    accounts = [f"w{i}" for i in range(6)]
    documents = [doc for a in accounts for doc in events.funded(a, "50.00")]
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    try:
        with serving(
            tmp_path,
            *("--db", db, "--redis", REDIS_URL, "--redis-prefix", prefix, "--workers", "2"),
            scratch=scratch,
        ) as url:
            answers = submit(url, key, documents)
            ready = httpx.get(url + "/ready").json()
            metrics = httpx.get(url + "/metrics").text
            assert list(scratch.glob("walletguard-metrics-*"))  # the workers' metric files
    finally:
        store = RedisFeatureStore(REDIS_URL, prefix=prefix)
        kept = store.clear()
        store.close()
    assert [a.status_code for a in answers] == [200] * len(documents)
    assert ready["checks"] == {"database": "ok", "decider": "ok", "redis": "ok"}
    assert kept > 0  # the workers kept their feature state in Redis, under the prefix
    decided = [
        line for line in metrics.splitlines() if line.startswith("walletguard_decisions_total")
    ]
    assert sum(float(line.split()[-1]) for line in decided) == len(documents)  # both workers
    assert not list(scratch.glob("walletguard-metrics-*"))  # removed when the service stopped


def test_serve_refuses_several_workers_without_shared_state(tmp_path: Path) -> None:
    refused = cli(tmp_path, "serve", "--workers", "2")
    assert refused.returncode != 0
    assert "several workers need a shared database" in refused.stdout + refused.stderr
