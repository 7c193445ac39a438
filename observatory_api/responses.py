"""Whole answers kept per snapshot: a repeated GET (a dashboard's tiles, summaries, series,
points) is answered from memory by ``Front`` without going through routing and validation.

An answer is kept only when its route is listed in ``ROUTES`` (pure functions of the snapshot
and the URL), its status is 200, it names its snapshot (``X-Snapshot-Id``) and that snapshot is
the one served; the key holds the snapshot, the path, the query string and the headers that
change an answer (``Accept`` for CSV, ``Origin`` for CORS). Requests whose answer depends on
more (rate-limited region geometries, public URLs, the store's state) are never kept.
``If-None-Match`` is answered 304 from the kept ``ETag``.
"""

from __future__ import annotations

from dataclasses import dataclass

from observatory_api.caches import LRUCache

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
    ) -> None:
        """Keep the answer if it may be kept (see the module docstring)."""
        if status != 200 or route not in ROUTES or len(body) > MAX_KEPT:
            return
        snapshot = next((v for k, v in headers if k == b"x-snapshot-id"), None)
        if snapshot is None or snapshot.decode() != key[0]:
            return
        etag = next((v for k, v in headers if k == b"etag"), None)
        self.lru.put(key, Kept(route, key[0], tuple(headers), body, etag))
