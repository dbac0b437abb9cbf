"""A small open-loop HTTP load generator for `POST /v1/events`.

Pre-encodes one request per event, keeps N keep-alive connections, and either sends as
fast as the server answers (closed loop: throughput) or at a fixed rate (open loop:
latency at a given load, measured from the *scheduled* send time so a slow server is not
hidden). Raw asyncio streams keep the generator's own CPU use low on a 2-core machine.

    python -m benchmarks.loadgen EVENTS.jsonl --url http://127.0.0.1:8080 --key KEY \
        [--connections 32] [--rate 1000] [--duration 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    started: float = 0.0
    finished: float = 0.0

    def summary(self) -> dict[str, float | int | dict[int, int]]:
        ordered = sorted(self.latencies)
        n = len(ordered)

        def pct(p: float) -> float:
            return round(ordered[min(n - 1, int(p * n))] * 1000, 2) if n else 0.0

        seconds = self.finished - self.started
        return {
            "requests": n,
            "seconds": round(seconds, 2),
            "per_second": round(n / seconds, 1) if seconds else 0.0,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "max_ms": round(ordered[-1] * 1000, 2) if n else 0.0,
            "statuses": dict(sorted(self.statuses.items())),
        }


def build_requests(events: Path, host: str, key: str) -> list[bytes]:
    requests = []
    for line in events.read_bytes().splitlines():
        if not line.strip():
            continue
        body = json.dumps(json.loads(line), separators=(",", ":")).encode()
        head = (
            f"POST /v1/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        requests.append(head + body)
    return requests


async def read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def run(
    requests: list[bytes], url: str, connections: int, rate: float | None, duration: float
) -> Results:
    parts = urlsplit(url)
    results = Results()
    queue: asyncio.Queue[tuple[bytes, float] | None] = asyncio.Queue(maxsize=connections * 2)
    results.started = time.perf_counter()
    deadline = results.started + duration

    async def producer() -> None:
        # Events go out in file order; with several connections, order across connections is
        # best-effort (as with many clients in production).
        for i, request in enumerate(requests):
            now = time.perf_counter()
            if now >= deadline:
                break
            if rate:
                scheduled = results.started + i / rate
                if scheduled > now:
                    await asyncio.sleep(scheduled - now)
                await queue.put((request, scheduled))
            else:
                await queue.put((request, 0.0))
        for _ in range(connections):
            await queue.put(None)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
        while (item := await queue.get()) is not None:
            request, scheduled = item
            sent = time.perf_counter()
            writer.write(request)
            status = await read_response(reader)
            done = time.perf_counter()
            results.latencies.append(done - (scheduled or sent))
            results.statuses[status] = results.statuses.get(status, 0) + 1
        writer.close()

    await asyncio.gather(producer(), *(worker() for _ in range(connections)))
    results.finished = time.perf_counter()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("events", type=Path)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--key", required=True)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="requests/s (open loop); default: as fast as possible",
    )
    parser.add_argument("--duration", type=float, default=30.0)
    args = parser.parse_args()
    host = urlsplit(args.url).netloc
    requests = build_requests(args.events, host, args.key)
    results = asyncio.run(run(requests, args.url, args.connections, args.rate, args.duration))
    print(json.dumps(results.summary()))


if __name__ == "__main__":
    main()
