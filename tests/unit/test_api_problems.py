"""Every error the API answers is a problem document, whatever raised it (api/problems.py)."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
from fastapi import Body, FastAPI

from walletguard.api import problems


def app_with_routes() -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.get("/broken")
    def broken() -> None:
        raise OverflowError("int too big to convert")

    @app.post("/shaped")
    def shaped(reason: str = Body(embed=True)) -> dict[str, str]:
        return {"reason": reason}

    return app


def call(method: str, path: str, **request: Any) -> httpx.Response:
    """One request through the app in process (its exceptions answered, not raised)."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app_with_routes(), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            return await http.request(method, path, **request)

    return anyio.run(send)


def test_an_unexpected_error_is_a_500_problem_that_gives_nothing_away() -> None:
    answer = call("GET", "/broken")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == problems.PROBLEM
    assert answer.json()["code"] == "internal_error"
    assert "int too big" not in answer.text


def test_a_body_that_is_not_json_is_named_as_such_not_as_an_array_index() -> None:
    answer = call(
        "POST", "/shaped", content=b'{"reason":', headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["path"] == "$"
    assert error["message"].startswith("not valid JSON at character 10")


def test_a_field_error_keeps_its_path() -> None:
    answer = call("POST", "/shaped", json={"reason": ["not", "text"]})
    assert answer.status_code == 422
    assert [e["path"] for e in answer.json()["errors"]] == ["$.reason"]
