"""Refuse request bodies larger than a limit, before they are read into memory."""

from __future__ import annotations

import json
from contextlib import suppress

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """ASGI middleware: 413 for a declared or streamed body over `max_bytes`, or over the
    limit of the first of `larger` (path prefix → bytes) whose prefix the path starts with.

    A streamed (chunked) body is counted as it is received; once over the limit, the 413
    is the answer whether the app lets the error through or answers it itself."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}

    def limit_for(self, path: str) -> int:
        return next(
            (n for prefix, n in self.larger.items() if path.startswith(prefix)), self.max_bytes
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        seen = 0
        started = False
        too_large = False  # the body went over the limit: whatever the app answers is a 413
        replaced = False  # the app's answer was replaced by the 413

        async def limited_receive() -> Message:
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    too_large = True
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            # The app may catch `_TooLarge` itself: FastAPI, reading a body it parses,
            # answers any exception with 400 "There was an error parsing the body". Its
            # answer is replaced by the 413 (and nothing of it is sent).
            nonlocal started, replaced
            if replaced:
                return
            if too_large and not started:
                started = replaced = True
                await self._refuse(send, limit)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with suppress(_TooLarge):
            await self.app(scope, limited_receive, tracking_send)
        if too_large and not started:
            await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "PayloadTooLarge",
                "status": 413,
                "code": "payload_too_large",
                "detail": f"the request body is larger than {limit} bytes",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
