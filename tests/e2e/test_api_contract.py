"""The API against its own OpenAPI document: every endpoint with every role, and a
property-based fuzzing run (schemathesis) that must find no server error and no response
outside the documented schema."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from redis.asyncio import Redis as AsyncRedis

from tests.conftest import fresh_pg_database
from tests.e2e.api_support import LiveService, decide, live_service
from tests.support import EventFactory
from walletguard.access.roles import Permission, Role, allows
from walletguard.api.app import ROUTERS


@pytest.fixture(scope="module")
def service() -> Iterator[LiveService]:
    with live_service(fresh_pg_database(), redis=AsyncRedis()) as live:
        yield live


def seed(service: LiveService) -> dict[str, list[str]]:
    """Accounts with cards, money, a held withdrawal, a case and approvals, so that fuzzing
    also reaches things that exist (not only 404s): the ids, by path parameter."""
    f = EventFactory(prefix=f"fz{uuid.uuid4().hex[:6]}")
    found: dict[str, list[str]] = {"account_id": [], "case_id": [], "hold_id": [], "token": []}
    for name in ("alice", "bob"):
        account = f"{name}-{uuid.uuid4().hex[:6]}"
        decide(service, f.funded(account, "99000.00", ref=f"ref-{account}"))
        f.advance(hours=2)
        (held,) = decide(service, [f.withdraw(account, "60000.00", token=f"card-{account}")])
        found["account_id"].append(account)
        found["case_id"].append(held["case_id"])
        found["hold_id"].append(held["hold_id"])
        found["token"].append(f"card-{account}")
    with service.client(Role.ANALYST) as analyst:
        bob = found["account_id"][1]
        analyst.post(f"/v1/accounts/{bob}/freeze", json={"reason": "seed"})
        analyst.post(f"/v1/accounts/{bob}/unfreeze", json={"reason": "seed", "verified_by": "face"})
        found["approval_id"] = [a["id"] for a in analyst.get("/v1/approvals").json()]
    return found


def dictionaries(found: dict[str, list[str]]) -> str:
    """schemathesis configuration: path parameters take a seeded id 70 % of the time."""
    lines = []
    for name, values in found.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}"]
    lines.append("[parameters]")
    lines += [f'"path.{name}" = {{ dictionary = "{name}", probability = 0.7 }}' for name in found]
    return "\n".join(lines) + "\n"


def api_routes() -> list[APIRoute]:
    routes = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) >= 10
    return routes


def protected_routes(app: Any) -> list[tuple[str, str, Permission]]:
    """(method, path, permission) of every endpoint that needs a key."""
    found = []
    for route in api_routes():
        permissions = [getattr(d.call, "permission", None) for d in route.dependant.dependencies]
        permission = next((p for p in permissions if p is not None), None)
        for method in route.methods - {"HEAD", "OPTIONS"}:
            if permission is not None:
                found.append((method, route.path_format, permission))
    return found


PUBLIC = {"/v1/self-service/freeze"}
"""The only versioned endpoints without an API key: their credential is in the body."""


def test_every_versioned_endpoint_requires_a_permission(service: LiveService) -> None:
    """(Over ROUTERS: FastAPI includes routers lazily, so `app.routes` does not list them.)"""
    public = set()
    versioned = [r for r in api_routes() if r.path.startswith("/v1/")]
    assert len(versioned) > 40
    for route in versioned:
        calls = [d.call for d in route.dependant.dependencies]
        if any(getattr(call, "public", False) for call in calls):
            public.add(route.path)
            continue
        assert any(getattr(call, "permission", None) for call in calls), route.path
    assert public == PUBLIC


@pytest.mark.parametrize("role", list(Role))
def test_every_endpoint_with_every_role(service: LiveService, role: Role) -> None:
    """A role is refused (403, saying why) exactly where it lacks the permission."""
    routes = protected_routes(service.app)
    assert routes
    with service.client(role) as http:
        for method, path, permission in routes:
            url = re.sub(r"\{[^}]+\}", "0", path)
            answer = http.request(method, url, json={})
            if allows(role, permission):
                assert answer.status_code != 403, (role, method, path, answer.text)
            else:
                assert answer.status_code == 403, (role, method, path, answer.status_code)
                assert permission.value in answer.json()["detail"]


def test_openapi_document_is_complete(service: LiveService) -> None:
    with service.client() as http:
        document = http.get("/openapi.json").json()
    operations = [(m.upper(), p) for p, item in document["paths"].items() for m in item]
    routes = {(m, p) for m, p, _ in protected_routes(service.app)}
    assert routes <= set(operations)
    submit = document["paths"]["/v1/events"]["post"]
    body = submit["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["required"]) == {"event_id", "type", "occurred_at", "account_id"}
    assert "409" in submit["responses"]


def test_fuzzing_finds_no_server_error_and_nothing_outside_the_schema(
    service: LiveService, tmp_path: Any
) -> None:
    """schemathesis (its command-line runner) over every operation of /openapi.json, with an
    admin key, valid and invalid inputs, on ids that exist as well as on made-up ones."""
    config = tmp_path / "schemathesis.toml"
    config.write_text(dictionaries(seed(service)))
    result = subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "--config-file", str(config),
            "run", f"{service.url}/openapi.json",
            "--header", f"Authorization: Bearer {service.keys[Role.ADMIN]}",
            "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
            "response_schema_conformance",
            "--max-examples", "25", "--seed", "7", "--phases", "examples,coverage,fuzzing",
            "--report-dir", str(tmp_path),
        ],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
