"""A real walletguard HTTP service on a free local port, for end-to-end tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn

from walletguard.access.keys import issue_key
from walletguard.access.roles import Role
from walletguard.api.app import ApiSettings, create_app
from walletguard.composition import build_runtime
from walletguard.features.store import FeatureStore
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

    def client(self, role: Role | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[role]}"} if role else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def new_key(self, role: Role, owner: str = "") -> str:
        uow = SqlUnitOfWork(self.app.state.runtime.database)
        _, plaintext = issue_key(
            uow.keys,
            owner=owner or f"test-{role.value}",
            role=role,
            at=datetime.now(UTC),
            created_by="test",
        )
        uow.commit()
        uow.close()
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
    app = create_app(runtime, settings, redis)
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
    service = LiveService(f"http://127.0.0.1:{port}", app)
    if keys:
        service.keys = {role: service.new_key(role) for role in Role}
    try:
        yield service
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        runtime.close()
