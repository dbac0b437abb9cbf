"""One connection to Redis that runs the feature store's scripts, counting requests.

A script can be *queued* instead of run: it goes out in the same write as the
connection's next request, and both replies come back in that one round trip. Redis
runs one connection's requests in the order it received them, so the next request
always sees the queued one's effect; a queued script is only sent early by `flush`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import redis
from redis.exceptions import NoScriptError, ResponseError

from walletguard.features.redis_lua import sha1

Reply = Any
"""What redis-py parsed a reply into: bytes, int, None, or lists of them."""


class _Connection(Protocol):
    """The part of redis-py's (untyped) `Connection` used here."""

    def send_packed_command(self, command: list[bytes]) -> None: ...
    def pack_commands(self, commands: Sequence[tuple[str | bytes | int, ...]]) -> list[bytes]: ...
    def read_response(self) -> Reply: ...
    def disconnect(self) -> None: ...


@dataclass(frozen=True, slots=True)
class _Call:
    command: tuple[str | bytes, ...]
    changes_state: bool


def _no_callback(reply: Reply) -> None:
    return None


class ScriptChannel:
    """Runs scripts by EVALSHA on a connection of its own; loads a script when Redis says
    NOSCRIPT (first use, or after a restart or SCRIPT FLUSH) and sends the call again."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._conn = cast(_Connection, client.connection_pool.get_connection())
        self._sources: dict[str, str] = {}
        self._queued: tuple[_Call, Callable[[Reply], None]] | None = None
        self.requests = 0
        """Round trips so far (requests written together count once)."""

    def script(self, source: str) -> str:
        """Register a script; returns the id to run it by."""
        sha = sha1(source)
        self._sources[sha] = source
        return sha

    def run(
        self, sha: str, keys: Sequence[str], args: Sequence[str | bytes], *, changes_state: bool
    ) -> Reply:
        """Run a script and wait for its reply, in one round trip with the queued one."""
        call = _Call(self._evalsha(sha, keys, args), changes_state)
        queued, self._queued = self._queued, None
        if queued is None:
            return self._exchange([call])[0]
        first, this = self._exchange([queued[0], call])
        queued[1](first)
        return this

    def queue(
        self,
        sha: str,
        keys: Sequence[str],
        args: Sequence[str | bytes],
        on_reply: Callable[[Reply], None] = _no_callback,
    ) -> None:
        """Send a state-changing script with the next request; `on_reply` gets its reply
        then, before that request's own reply is returned."""
        self.flush()
        self._queued = (_Call(self._evalsha(sha, keys, args), True), on_reply)

    def flush(self) -> None:
        """Send the queued script, if any, now, and hand its reply over."""
        queued, self._queued = self._queued, None
        if queued is not None:
            queued[1](self._exchange([queued[0]])[0])

    def call_many(self, commands: Sequence[tuple[str | bytes | int, ...]]) -> list[Reply]:
        """Send plain commands in one batch and wait for all their replies."""
        self.flush()
        replies = self._round_trip(commands)
        failure = next((r for r in replies if isinstance(r, ResponseError)), None)
        if failure is not None:
            raise failure
        return replies

    def close(self) -> None:
        """Send anything queued, then give the connection back."""
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

    def _round_trip(self, commands: Sequence[tuple[str | bytes | int, ...]]) -> list[Reply]:
        """Write `commands` at once and read every reply; an error reply is returned in its
        place (read in full, so the connection stays in step), a lost connection raises."""
        conn = self._conn
        try:
            conn.send_packed_command(conn.pack_commands(commands))
            self.requests += 1
            replies: list[Reply] = []
            for _ in commands:
                try:
                    replies.append(conn.read_response())
                except ResponseError as exc:
                    replies.append(exc)
        except (redis.ConnectionError, redis.TimeoutError):
            conn.disconnect()
            raise
        return replies

    def _exchange(self, calls: list[_Call]) -> list[Reply]:
        """Run script calls in order, in one round trip unless Redis lacks a script.

        Then every script is loaded and, from the first call that did not run, the calls
        that did not run are sent again, with the read-only ones after them (which ran
        without seeing it); a state-changing call that did run is never sent twice."""
        replies = self._round_trip([c.command for c in calls])
        missing = [i for i, r in enumerate(replies) if isinstance(r, NoScriptError)]
        if missing:
            self._round_trip([("SCRIPT", "LOAD", source) for source in self._sources.values()])
            again = [
                i
                for i in range(missing[0], len(calls))
                if i in missing or not calls[i].changes_state
            ]
            sent_again = self._round_trip([calls[i].command for i in again])
            for i, reply in zip(again, sent_again, strict=True):
                replies[i] = reply
        failure = next((r for r in replies if isinstance(r, ResponseError)), None)
        if failure is not None:
            raise failure
        return replies
