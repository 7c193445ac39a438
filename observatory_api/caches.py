"""One bounded, thread-safe LRU cache for everything the API keeps in memory.

Budgets cannot drift: an entry's size is counted once, when it is inserted under the lock, and
subtracted when it is replaced or evicted; a key that is already present is replaced, never
counted twice. ``get_or_load`` runs one load per key at a time (concurrent cold misses on the
same key wait for the first one instead of each reading and inserting its own copy). Loads run
outside the lock, so a slow read never blocks hits on other keys. It blocks while waiting: call
it from worker threads (sync endpoints), never from the event loop.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def sizeof(value: Any) -> int:
    """Bytes held by a cached value (arrays, bytes, strings, objects with ``nbytes``; else 64)."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, (bytes, bytearray, str)):
        return len(value)
    return int(getattr(value, "nbytes", 64))


class LRUCache(Generic[K, V]):
    """Least-recently-used entries, at most ``max_bytes`` (and ``max_items``, if given)."""

    def __init__(self, name: str, max_bytes: int, max_items: int | None = None) -> None:
        self.name = name
        self.max_bytes = max_bytes
        self.max_items = max_items
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._loading: dict[K, Future[V]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: K) -> bool:
        with self._lock:
            return key in self._items

    def get(self, key: K) -> V | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return hit[0]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._insert(key, value)

    def get_or_load(self, key: K, load: Callable[[], V]) -> V:
        """The cached value of ``key``, or ``load()`` run once however many threads ask at once."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return hit[0]
            pending = self._loading.get(key)
            if pending is None:
                self.misses += 1
                mine: Future[V] = Future()
                self._loading[key] = mine
        if pending is not None:
            return pending.result()
        try:
            value = load()
        except BaseException as exc:
            with self._lock:
                del self._loading[key]
            mine.set_exception(exc)
            raise
        with self._lock:
            self._insert(key, value)
            del self._loading[key]
        mine.set_result(value)
        return value

    def items(self) -> Iterator[tuple[K, V]]:
        """A copy of the entries, oldest first (for carrying them over to a new snapshot)."""
        with self._lock:
            pairs = [(k, v) for k, (v, _) in self._items.items()]
        return iter(pairs)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.bytes = 0

    def _insert(self, key: K, value: V) -> None:  # holding the lock
        size = sizeof(value)
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        if size > self.max_bytes or self.max_items == 0:
            return  # larger than the whole budget: served, not kept
        self._items[key] = (value, size)
        self.bytes += size
        while self.bytes > self.max_bytes or (
            self.max_items is not None and len(self._items) > self.max_items
        ):
            _, (_, old_size) = self._items.popitem(last=False)
            self.bytes -= old_size


class TileCache(LRUCache[str, bytes]):
    """Rendered PNGs by (snapshot, request) key."""

    def __init__(self, max_items: int, max_bytes: int = 128 * 2**20) -> None:
        super().__init__("tiles", max_bytes, max_items)
