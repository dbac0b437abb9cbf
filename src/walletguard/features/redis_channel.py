"""One connection to Redis that runs the feature store's scripts, counting requests.

Requests on one connection are executed by Redis in the order they were sent. `send`
relies on that: it writes a request and returns without waiting, and the reply is read
(and handed to its callback) before the connection is used for anything else, so a
later request on the same store always sees the earlier one's effect.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast

import redis
from redis.exceptions import NoScriptError, ResponseError

from walletguard.features.redis_lua import sha1

Reply = Any
"""What redis-py parsed a reply into: bytes, int, None, or lists of them."""


class _Connection(Protocol):
    """The part of redis-py's (untyped) `Connection` used here."""

    def send_command(self, *args: str | bytes | int) -> None: ...
    def send_packed_command(self, command: list[bytes]) -> None: ...
    def pack_commands(self, commands: Sequence[tuple[str | bytes | int, ...]]) -> list[bytes]: ...
    def read_response(self) -> Reply: ...
    def disconnect(self) -> None: ...


class ScriptChannel:
    """Runs scripts by EVALSHA on a connection of its own; loads a script when Redis says
    NOSCRIPT (first use, or after a restart or SCRIPT FLUSH) and sends the call again."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._conn = cast(_Connection, client.connection_pool.get_connection())
        self._sources: dict[str, str] = {}
        self._pending: tuple[tuple[str | bytes, ...], Callable[[Reply], None]] | None = None
        self.requests = 0
        """Requests sent so far (a pipelined batch counts once)."""

    def script(self, source: str) -> str:
        """Register a script; returns the id to run it by."""
        sha = sha1(source)
        self._sources[sha] = source
        return sha

    def run(self, sha: str, keys: Sequence[str], args: Sequence[str | bytes]) -> Reply:
        """Run a script and wait for its reply."""
        self.flush()
        return self._exchange(self._evalsha(sha, keys, args))

    def send(
        self,
        sha: str,
        keys: Sequence[str],
        args: Sequence[str | bytes],
        on_reply: Callable[[Reply], None],
    ) -> None:
        """Run a script without waiting: `on_reply` gets its reply at the next `flush`
        (which every other request does first)."""
        self.flush()
        command = self._evalsha(sha, keys, args)
        self._write(command)
        self._pending = (command, on_reply)

    def flush(self) -> None:
        """Wait for the reply of a request sent by `send`, if any, and hand it over."""
        if self._pending is None:
            return
        command, on_reply = self._pending
        self._pending = None
        try:
            reply = self._conn.read_response()
        except NoScriptError:
            reply = self._exchange(command)
        except (redis.ConnectionError, redis.TimeoutError):
            self._conn.disconnect()
            raise
        on_reply(reply)

    def call_many(self, commands: Sequence[tuple[str | bytes | int, ...]]) -> list[Reply]:
        """Send plain commands in one batch and wait for all their replies."""
        self.flush()
        conn = self._conn
        try:
            conn.send_packed_command(conn.pack_commands(commands))
            self.requests += 1
            replies: list[Reply] = []
            failure: ResponseError | None = None
            for _ in commands:
                try:
                    replies.append(conn.read_response())
                except ResponseError as exc:  # read the rest, so the connection stays in step
                    failure = failure or exc
                    replies.append(None)
        except (redis.ConnectionError, redis.TimeoutError):
            conn.disconnect()
            raise
        if failure is not None:
            raise failure
        return replies

    def close(self) -> None:
        """Wait for anything in flight, then give the connection back."""
        try:
            self.flush()
        finally:
            self._client.connection_pool.release(self._conn)  # type: ignore[arg-type]

    # -- internals ------------------------------------------------------------------------

    @staticmethod
    def _evalsha(
        sha: str, keys: Sequence[str], args: Sequence[str | bytes]
    ) -> tuple[str | bytes, ...]:
        return ("EVALSHA", sha, str(len(keys)), *keys, *args)

    def _write(self, command: tuple[str | bytes, ...]) -> None:
        try:
            self._conn.send_command(*command)
        except (redis.ConnectionError, redis.TimeoutError):
            self._conn.disconnect()
            raise
        self.requests += 1

    def _read(self) -> Reply:
        try:
            return self._conn.read_response()
        except (redis.ConnectionError, redis.TimeoutError):
            self._conn.disconnect()
            raise

    def _exchange(self, command: tuple[str | bytes, ...]) -> Reply:
        self._write(command)
        try:
            return self._read()
        except NoScriptError:
            self._write(("SCRIPT", "LOAD", self._sources[str(command[1])]))
            self._read()
            self._write(command)
            return self._read()
