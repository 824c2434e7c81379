"""A load generator run as its own process: POST prepared bodies at a fixed concurrency.

Usage: python bench/loadgen.py URL BODIES_FILE CONCURRENCY
BODIES_FILE holds one request a line: ``content-type<TAB>body`` (body bytes as latin-1 text).
Prints one JSON object: requests, seconds, per_second, p50_ms, p99_ms, status counts.
Each request opens its own connection (gunicorn's sync workers close after each answer).
"""

import asyncio
import json
import sys
import time
from collections import Counter
from urllib.parse import urlsplit


async def one(host: str, port: int, path: str, content_type: str, body: bytes) -> tuple[int, float]:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode("latin-1")
    writer.write(head + body)
    await writer.drain()
    status_line = await reader.readline()
    await reader.read()  # until the server closes
    writer.close()
    status = int(status_line.split()[1]) if status_line else 0
    return status, (time.perf_counter() - started) * 1000


async def main(url: str, bodies_path: str, concurrency: int) -> dict:
    parts = urlsplit(url)
    requests = []
    with open(bodies_path, encoding="latin-1") as handle:
        for line in handle:
            content_type, body = line.rstrip("\n").split("\t", 1)
            requests.append((content_type, body.encode("latin-1")))
    queue = iter(requests)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()

    async def worker() -> None:
        for content_type, body in queue:
            try:
                status, ms = await one(parts.hostname, parts.port, parts.path, content_type, body)
            except OSError:
                status, ms = 0, 0.0
            statuses[status] += 1
            latencies.append(ms)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(requests),
        "seconds": round(seconds, 3),
        "per_second": round(len(requests) / seconds, 1),
        "p50_ms": round(latencies[len(latencies) // 2], 1),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1),
        "statuses": {str(k): v for k, v in statuses.items()},
    }


if __name__ == "__main__":
    url, path, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print(json.dumps(asyncio.run(main(url, path, concurrency))))
