"""A real walletguard HTTP service on a free local port, for end-to-end tests."""

from __future__ import annotations

import dataclasses
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from walletguard.access.keys import issue_key
from walletguard.access.roles import Role
from walletguard.api.app import ApiSettings, create_app, writer_thread
from walletguard.composition import build_runtime
from walletguard.features.store import FeatureStore
from walletguard.keys import KeyStore
from walletguard.storage.uow import SqlUnitOfWork


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveService:
    url: str
    app: Any
    keys: dict[Role, str] = field(default_factory=dict)
    keys_dir: Path = Path()
    """The service's own key store (freeze-link secret, audit signing key)."""

    def client(self, role: Role | None = None) -> httpx.Client:
        return self.client_with(self.keys[role] if role else None)

    def client_with(self, key: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def new_key(self, role: Role, owner: str = "") -> str:
        uow = SqlUnitOfWork(self.app.state.database)
        _, plaintext = issue_key(
            uow.keys,
            owner=owner or f"test-{role.value}",
            role=role,
            at=datetime.now(UTC),
            created_by="test",
        )
        uow.commit()
        uow.close()
        self.app.state.keys.reload()  # usable at once, not within the refresh interval
        return plaintext


@contextmanager
def live_service(
    db_url: str,
    *,
    redis: Any = None,
    settings: ApiSettings | None = None,
    features: FeatureStore | None = None,
    keys: bool = True,
) -> Iterator[LiveService]:
    """A real server (uvicorn in a thread) over `db_url`; `features`: a shared store (Redis)
    as several workers use; `keys`: create one API key per role."""
    runtime = build_runtime(db_url, exclusive=False, follow_stored_rulesets=True, features=features)
    # Rate-limit counters in Redis are this service's own: tests in other workers that use
    # the same client address must not count against it.
    settings = dataclasses.replace(
        settings or ApiSettings(), rate_limit_namespace=f"wg:rl:test-{uuid.uuid4().hex[:8]}"
    )
    keys_dir = Path(tempfile.mkdtemp(prefix="wg-keys-"))
    app = create_app(
        runtime.database,
        settings,
        redis,
        decider=writer_thread(runtime, settings),
        keys=KeyStore(keys_dir),
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test service did not start")
        time.sleep(0.02)
    service = LiveService(f"http://127.0.0.1:{port}", app, keys_dir=keys_dir)
    if keys:
        service.keys = {role: service.new_key(role) for role in Role}
    try:
        yield service
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        runtime.close()
        shutil.rmtree(keys_dir, ignore_errors=True)


PROBLEM = "application/problem+json"


def new_account(name: str = "acct") -> str:
    """An account id no other test uses (tests share a module's database)."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def decide(service: LiveService, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Submit events as the integrator would; their decisions, in order."""
    with service.client(Role.INTEGRATOR) as http:
        answers = [http.post("/v1/events", json=doc) for doc in documents]
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    return [a.json() for a in answers]


def refused(answer: httpx.Response, status: int, reason_code: str | None = None) -> dict[str, Any]:
    """The problem document of a refused call, checked."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = answer.json()
    if reason_code is not None:
        assert problem.get("reason_code") == reason_code, problem
    return problem
