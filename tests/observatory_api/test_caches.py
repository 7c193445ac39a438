"""Caches under concurrent cold misses: one load per key, byte budgets that cannot drift; point
reads that touch only the chunks of their cell; chunks carried over from one commit to the next."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from observatory_api import Settings
from observatory_api.caches import LRUCache, TileCache
from observatory_api.reader import SEQ_POTENTIAL, carry_over, load_snapshot
from observatory_api.services import maps
from pipeline.store import open_repo


def _invariants(c: LRUCache) -> None:
    entries = list(c.items())
    assert c.bytes == sum(v.nbytes if isinstance(v, np.ndarray) else len(v) for _, v in entries)
    assert c.bytes <= c.max_bytes
    assert len({k for k, _ in entries}) == len(entries)


def test_concurrent_cold_misses_load_once_and_count_once():
    c: LRUCache[str, np.ndarray] = LRUCache("t", max_bytes=10_000)
    calls = []
    start = threading.Barrier(8)

    def load() -> np.ndarray:
        calls.append(1)
        time.sleep(0.05)  # a slow read: the other threads arrive while it runs
        return np.zeros(100)

    def ask(_: int) -> np.ndarray:
        start.wait()
        return c.get_or_load("k", load)

    with ThreadPoolExecutor(8) as ex:
        got = list(ex.map(ask, range(8)))
    assert len(calls) == 1 and all(g is got[0] for g in got)
    assert c.bytes == 800 and len(c) == 1 and c.misses == 1
    _invariants(c)


def test_budgets_hold_under_concurrent_loads_puts_and_replacements():
    c: LRUCache[int, np.ndarray] = LRUCache("t", max_bytes=20_000, max_items=30)
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 60, size=(16, 300))

    def work(row: np.ndarray) -> None:
        for k in row:
            if k % 3 == 0:
                c.put(int(k), np.zeros(int(k) * 10 + 8))  # replacing counts the new size only
            else:
                c.get_or_load(int(k), lambda k=k: np.zeros(int(k) * 10 + 8))

    with ThreadPoolExecutor(16) as ex:
        list(ex.map(work, keys))
    _invariants(c)
    assert len(c) <= 30
    c.put(1, np.zeros(10))
    c.put(1, np.zeros(10))
    _invariants(c)


def test_a_failed_load_is_not_cached_and_every_waiter_sees_it():
    c: LRUCache[str, bytes] = LRUCache("t", max_bytes=100)
    start = threading.Barrier(4)

    def load() -> bytes:
        time.sleep(0.05)
        raise OSError("store moved")

    def ask(_: int) -> str:
        start.wait()
        try:
            c.get_or_load("k", load)
        except OSError as exc:
            return str(exc)
        return "no error"

    with ThreadPoolExecutor(4) as ex:
        assert list(ex.map(ask, range(4))) == ["store moved"] * 4
    assert len(c) == 0 and c.bytes == 0
    assert c.get_or_load("k", lambda: b"ok") == b"ok"


def test_tile_cache_counts_bytes_and_tiles():
    t = TileCache(max_items=3, max_bytes=1_000)
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda i: t.put(f"k{i % 5}", b"x" * (100 + i)), range(200)))
    _invariants(t)
    assert len(t) <= 3
    t.put("big", b"x" * 2_000)  # larger than the budget: not kept
    assert "big" not in t
    _invariants(t)


@pytest.fixture()
def snap(api_store):
    return load_snapshot(Settings(store=api_store.store, registry=api_store.registry))


def test_eight_concurrent_cold_points_read_each_chunk_once(snap):
    start = threading.Barrier(8)

    def ask(_: int) -> dict:
        start.wait()
        return maps.point(snap, 48.3, 2.7)

    with ThreadPoolExecutor(8) as ex:
        bodies = list(ex.map(ask, range(8)))
    assert all(b == bodies[0] for b in bodies)
    lru = snap.chunks.lru
    keys = [k for k, _ in lru.items()]
    assert lru.misses == len(keys)  # every chunk was read once
    _invariants(lru)
    # the maps' values come from the point group (every map of a cell in one chunk per epoch)
    assert snap.point is not None and snap.point.static_values is not None
    arrays = [snap.point.values, snap.point.static_values]
    cy, cx = snap.point.values.chunks[-2:]
    row, col = bodies[0]["cell"]["row"], bodies[0]["cell"]["col"]
    spatial = {idx[-2:] for path, idx in keys if path.startswith("/point/")}
    assert spatial == {(row // cy, col // cx)}  # only the chunks of that cell
    assert not [path for path, _ in keys if path.startswith("/indicators/")]
    assert len(keys) == sum(
        int(np.prod([-(-n // c) for n, c in zip(a.shape[:-2], a.chunks[:-2], strict=True)]))
        for a in [*arrays, snap.extra[SEQ_POTENTIAL]]
    )


def test_chunks_the_commit_did_not_touch_are_carried_over(api_store):
    repo = open_repo(api_store.store)
    history = [s.id for s in repo.ancestry(branch="main")]
    settings = Settings(store=api_store.store, registry=api_store.registry)
    new, old = load_snapshot(settings, history[0]), load_snapshot(settings, history[1])  # RothC, indicators
    assert SEQ_POTENTIAL not in old.extra and SEQ_POTENTIAL in new.extra
    before = maps.point(old, -1.3, 36.8)
    carried = carry_over(repo, old, new)
    assert carried == len(old.chunks.lru) > 0
    misses = new.chunks.lru.misses
    after = maps.point(new, -1.3, 36.8)
    assert after["maps"] == before["maps"]  # same data, from the carried chunks
    rothc = new.extra[SEQ_POTENTIAL]
    assert new.chunks.lru.misses - misses == len(
        list(new.chunks.series_chunks(rothc, after["cell"]["row"], after["cell"]["col"]))
    )  # only the RothC chunk, new in that commit, was read
