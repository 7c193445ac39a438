"""Whole answers kept per snapshot: a repeated GET (a dashboard's tiles, summaries, series,
points) is answered from memory by ``Front`` without going through routing and validation.

An answer is kept only when its route is listed in ``ROUTES`` (pure functions of the snapshot
and the URL), its status is 200, it names its snapshot (``X-Snapshot-Id``) and that snapshot is
the one served; the key holds the snapshot, the path, the query string and the headers that
change an answer (``Accept`` for CSV, ``Origin`` for CORS). Requests whose answer depends on
more (rate-limited region geometries, public URLs, the store's state) are never kept.
``If-None-Match`` is answered 304 from the kept ``ETag``.

Before the store's tip is swapped in, ``prepare`` asks the app (in process) for the most
recently kept answers again, from the new snapshot, and keeps them under it: a commit does not
send every client to a cold cache at once (at most ``PREPARE_MAX`` answers, ``PREPARE_SECONDS``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message

from observatory_api.caches import LRUCache

log = logging.getLogger("observatory_api")
PREPARE_MAX = 5_000
PREPARE_SECONDS = 5.0
PREPARE_CONCURRENCY = 4

RESPONSE_CACHE_BYTES = 64 * 2**20
MAX_KEPT = 2**20  # bytes of one answer
ROUTES = frozenset(
    {
        "/v1/tiles/{indicator}/{z}/{x}/{y}.png",
        "/v1/tiles/{indicator}/legend",
        "/v1/point",
        "/v1/regions",
        "/v1/regions/{region_id}",
        "/v1/regions/{region_id}/summary",
        "/v1/regions/{region_id}/indicators/{indicator}",
        "/v1/rankings/{indicator}",
        "/v1/indicators",
    }
)
COSTLY = frozenset({"/v1/tiles/{indicator}/{z}/{x}/{y}.png", "/v1/point"})
Key = tuple[str, str, bytes, bytes, bytes]


@dataclass(frozen=True)
class Kept:
    route: str
    snapshot: str
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    etag: bytes | None

    @property
    def nbytes(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + 200


class ResponseCache:
    def __init__(self, max_bytes: int = RESPONSE_CACHE_BYTES) -> None:
        self.lru: LRUCache[Key, Kept] = LRUCache("responses", max_bytes)

    @staticmethod
    def key(snapshot: str, path: str, query: bytes, headers: dict[bytes, bytes]) -> Key | None:
        if b"geometry" in query:  # rate-limited per client: always through the route
            return None
        return (snapshot, path, query, headers.get(b"accept", b""), headers.get(b"origin", b""))

    def get(self, key: Key) -> Kept | None:
        return self.lru.get(key)

    def offer(
        self, key: Key, route: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> bool:
        """Keep the answer if it may be kept (see the module docstring); True if kept."""
        if status != 200 or route not in ROUTES or len(body) > MAX_KEPT:
            return False
        snapshot = next((v for k, v in headers if k == b"x-snapshot-id"), None)
        if snapshot is None or snapshot.decode() != key[0]:
            return False
        etag = next((v for k, v in headers if k == b"etag"), None)
        self.lru.put(key, Kept(route, key[0], tuple(headers), body, etag))
        return True

    async def prepare(self, app: ASGIApp, new: Any, old: Any) -> int:
        """Ask ``app`` for the answers kept for ``old`` again, from ``new``; keep them. Returns
        the number kept."""
        kept_old = [(k, v.route) for k, v in self.lru.items() if k[0] == old.snapshot_id][::-1]
        # the costly answers first (rendered tiles, point reads), the most recently used first
        keys = [k for k, route in kept_old if route in COSTLY] + [
            k for k, route in kept_old if route not in COSTLY
        ]
        keys = keys[:PREPARE_MAX]
        deadline = time.monotonic() + PREPARE_SECONDS
        gate = asyncio.Semaphore(PREPARE_CONCURRENCY)
        kept = 0

        async def one(key: Key) -> None:
            nonlocal kept
            async with gate:
                if time.monotonic() > deadline:
                    return
                _, path, query, accept, origin = key
                headers = [(n, v) for n, v in ((b"accept", accept), (b"origin", origin)) if v]
                scope: dict[str, Any] = {
                    "type": "http",
                    "asgi": {"version": "3.0"},
                    "http_version": "1.1",
                    "method": "GET",
                    "scheme": "http",
                    "path": path,
                    "raw_path": path.encode(),
                    "root_path": "",
                    "query_string": query,
                    "headers": headers,
                    "client": None,
                    "server": None,
                    "state": {"snapshot": new, "prepare": True, "request_id": "prepare", "client": "prepare"},
                }
                got: dict[str, Any] = {"body": []}

                async def receive() -> Message:
                    return {"type": "http.request", "body": b"", "more_body": False}

                async def send(message: Message) -> None:
                    if message["type"] == "http.response.start":
                        got["status"], got["headers"] = message["status"], list(message.get("headers", []))
                    elif message["type"] == "http.response.body":
                        got["body"].append(message.get("body", b""))

                try:
                    await app(scope, receive, send)
                except Exception as exc:  # that answer is computed on demand later
                    log.warning("preparing %s failed: %s: %s", path, type(exc).__name__, exc)
                    return
                route = getattr(scope.get("route"), "path", "")
                if "status" in got:
                    body = b"".join(got["body"])
                    kept += self.offer(
                        (new.snapshot_id, *key[1:]), route, got["status"], got["headers"], body
                    )

        t0 = time.monotonic()
        await asyncio.gather(*(one(k) for k in keys))
        log.info("snapshot %s: %d answers prepared in %.1f s", new.snapshot_id, kept, time.monotonic() - t0)
        return kept
