"""A small HTTP/1.1 keep-alive load generator (asyncio streams + uvloop), run in its own process:
``python -m tests.benchmarks.loadgen URL_BASE [PATH ...] [--paths-file F] --connections 50 --seconds 10``
(``--stop-file F``: after the seconds, go on until F exists).

Prints one JSON line: requests, errors, requests/s, latency p50/p99 (ms), the snapshots the
answers named and how many answers named a snapshot in their body other than the one in their
``X-Snapshot-Id`` header (``mixed``: must be 0). With ``--record F``, the distinct (path,
snapshot, body) of the paths listed in ``--verify`` are written to F for the caller to check
against the store. Raw streams rather than an HTTP client library: at thousands of requests per
second on a 2-core machine, a client library's own CPU time would be what gets measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

_BODY_SNAPSHOT = re.compile(rb'"snapshot_id":"([A-Z0-9]+)"')


class Tally:
    def __init__(self, verify: set[str]) -> None:
        self.lat: list[float] = []
        self.errs: list[int] = []
        self.snapshots: Counter[str] = Counter()
        self.mixed = 0
        self.verify = verify
        self.recorded: dict[tuple[str, str], str] = {}
        self.took = 0.0
        self.when: list[float] = []
        self.t0 = 0.0


async def _conn(
    host: str, port: int, paths: list[str], stop: asyncio.Event, tally: Tally, offset: int
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    k = offset
    try:
        while not stop.is_set():
            path = paths[k % len(paths)]
            k += 1
            t0 = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            snapshot = None
            for line in head.split(b"\r\n"):
                low = line.lower()
                if low.startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
                elif low.startswith(b"x-snapshot-id:"):
                    snapshot = line.split(b":", 1)[1].strip().decode()
            body = await reader.readexactly(length)
            tally.lat.append(time.perf_counter() - t0)
            tally.when.append(t0)
            if status != 200:
                tally.errs.append(status)
                continue
            if snapshot is not None:
                tally.snapshots[snapshot] += 1
                m = _BODY_SNAPSHOT.search(body[:4096])
                if m is not None and m.group(1).decode() != snapshot:
                    tally.mixed += 1
                if path in tally.verify:
                    tally.recorded.setdefault((path, snapshot), body.decode())
    finally:
        writer.close()


async def _stop_after(seconds: float, stop_file: Path | None, stop: asyncio.Event) -> None:
    await asyncio.sleep(seconds)
    while stop_file is not None and not stop_file.exists():
        await asyncio.sleep(0.1)
    stop.set()


async def run(
    base: str,
    paths: list[str],
    connections: int,
    seconds: float,
    verify: set[str],
    stop_file: Path | None = None,
) -> Tally:
    u = urlsplit(base)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    warm = asyncio.Event()
    conns = [_conn(host, port, paths, warm, Tally(set()), i) for i in range(connections)]
    await asyncio.gather(_stop_after(1.0, None, warm), *conns)
    tally = Tally(verify)
    t0 = tally.t0 = time.perf_counter()
    stop = asyncio.Event()
    stride = max(1, len(paths) // connections)
    conns = [_conn(host, port, paths, stop, tally, i * stride) for i in range(connections)]
    await asyncio.gather(_stop_after(seconds, stop_file, stop), *conns)
    tally.took = time.perf_counter() - t0
    return tally


def _windows(t: Tally, width: float) -> list[float]:
    """p99 latency (ms) of the requests started in each ``width``-second window."""
    out: dict[int, list[float]] = {}
    for start, lat in zip(t.when, t.lat, strict=True):
        out.setdefault(int((start - t.t0) // width), []).append(lat)
    return [round(sorted(v)[int(0.99 * (len(v) - 1))] * 1e3, 1) for _, v in sorted(out.items())]


def summary(t: Tally, connections: int) -> dict[str, object]:
    lat = sorted(t.lat)
    took = t.took
    return {
        "requests": float(len(lat)),
        "errors": float(len(t.errs)),
        "error_statuses": dict(Counter(t.errs)),
        "rps": len(lat) / took,
        "p50_ms": statistics.median(lat) * 1e3 if lat else float("nan"),
        "p99_ms": lat[int(0.99 * (len(lat) - 1))] * 1e3 if lat else float("nan"),
        "connections": float(connections),
        "p99_ms_by_5s": _windows(t, 5.0),
        "snapshots": dict(t.snapshots),
        "mixed": float(t.mixed),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--paths-file", type=Path)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--verify", nargs="*", default=[])
    ap.add_argument("--record", type=Path)
    ap.add_argument("--stop-file", type=Path, help="after --seconds, go on until this file exists")
    a = ap.parse_args()
    paths = list(a.paths) + (a.paths_file.read_text().split() if a.paths_file else [])
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        factory = asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        tally = runner.run(run(a.base, paths, a.connections, a.seconds, set(a.verify), a.stop_file))
    if a.record:
        a.record.write_text(json.dumps([[p, s, b] for (p, s), b in tally.recorded.items()]))
    print(json.dumps(summary(tally, a.connections)))


if __name__ == "__main__":
    main()
