"""A small HTTP/1.1 keep-alive load generator (asyncio streams + uvloop), run in its own process:
``python -m tests.benchmarks.loadgen URL_BASE PATH [PATH ...] --connections 50 --seconds 10``.

Prints one JSON line: requests, errors, requests/s, latency p50/p99 (ms). Raw streams rather
than an HTTP client library: at thousands of requests per second on a 2-core machine, a client
library's own CPU time would be what gets measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from urllib.parse import urlsplit


async def _conn(
    host: str, port: int, paths: list[str], until: float, lat: list[float], errs: list[int], offset: int
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    k = offset
    try:
        while time.perf_counter() < until:
            path = paths[k % len(paths)]
            k += 1
            t0 = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            lat.append(time.perf_counter() - t0)
            if status != 200:
                errs.append(status)
    finally:
        writer.close()


async def run(base: str, paths: list[str], connections: int, seconds: float) -> dict[str, float]:
    u = urlsplit(base)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    lat: list[float] = []
    errs: list[int] = []
    warm_until = time.perf_counter() + 1.0
    await asyncio.gather(*(_conn(host, port, paths, warm_until, [], [], i) for i in range(connections)))
    t0 = time.perf_counter()
    until = t0 + seconds
    await asyncio.gather(*(_conn(host, port, paths, until, lat, errs, i) for i in range(connections)))
    took = time.perf_counter() - t0
    lat.sort()
    return {
        "requests": float(len(lat)),
        "errors": float(len(errs)),
        "rps": len(lat) / took,
        "p50_ms": statistics.median(lat) * 1e3 if lat else float("nan"),
        "p99_ms": lat[int(0.99 * (len(lat) - 1))] * 1e3 if lat else float("nan"),
        "connections": float(connections),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0)
    a = ap.parse_args()
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        factory = asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        print(json.dumps(runner.run(run(a.base, a.paths, a.connections, a.seconds))))


if __name__ == "__main__":
    main()
