"""Per-client limits on expensive endpoints: a token bucket per client address and a cap on the
requests computed at once. Over either, the answer is 429 with ``Retry-After`` at once, never a
queue that grows. Client addresses come from the connection, or from ``X-Forwarded-For`` when
the connection is from a trusted proxy (``SOCOBS_TRUSTED_PROXIES``)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

MAX_CLIENTS = 10_000  # buckets kept (least recently seen dropped first: a new bucket is full)


class ClientLimiter:
    """``per_minute`` requests per client on average, in bursts of up to ``burst`` (default: a
    minute's worth)."""

    def __init__(self, per_minute: float, burst: float | None = None) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst if burst is not None else max(1.0, per_minute)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str, now: float | None = None) -> float:
        """0 when ``client`` may go on (one token taken), else the seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, then = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate
            self._buckets[client] = (tokens - 1.0 if wait == 0.0 else tokens, now)
            while len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)
            return wait


class Gate:
    """At most ``limit`` holders at once; ``try_enter`` never waits."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.inside = 0
        self._lock = threading.Lock()

    def try_enter(self) -> bool:
        with self._lock:
            if self.inside >= self.limit:
                return False
            self.inside += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self.inside -= 1


def client_address(peer: str | None, forwarded_for: str | None, trusted: frozenset[str]) -> str:
    """The client's address: the peer, or the nearest untrusted hop of X-Forwarded-For when the
    peer is a trusted proxy."""
    if peer is None:
        return "unknown"
    if peer not in trusted or not forwarded_for:
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop[:64]
    return peer
