"""Reading map arrays chunk by chunk: a request touches only the chunks it needs.

Decoded chunks are kept in one byte-bounded LRU per snapshot (``observatory_api.caches``),
keyed by (array path, chunk index). Cold chunks are read in parallel on a small thread pool
(each read is a zarr read of exactly one chunk). When the store moves to a new commit, the
chunks the commit did not touch are carried over to the new snapshot's cache (Icechunk's diff
of the two snapshots names every chunk written), and the touched ones that were cached are read
again before the swap, so the first request after a commit finds them warm.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import zarr

from observatory_api.caches import LRUCache
from observatory_api.errors import StoreUnavailable

log = logging.getLogger("observatory_api")
CHUNK_CACHE_BYTES = 256 * 2**20
PREFETCH_MAX = 512  # chunks re-read ahead of a swap
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="chunk-read")

Key = tuple[str, tuple[int, ...]]


@dataclass(frozen=True)
class MapArray:
    """One stored array with dims (..., y, x): its path in the store and its chunk grid."""

    path: str
    array: zarr.Array

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)

    @property
    def chunks(self) -> tuple[int, ...]:
        return tuple(self.array.chunks)

    @property
    def fill(self) -> Any:
        return np.nan if self.array.dtype.kind == "f" else self.array.fill_value

    def chunk_slices(self, idx: tuple[int, ...]) -> tuple[slice, ...]:
        return tuple(
            slice(i * c, min((i + 1) * c, n)) for i, c, n in zip(idx, self.chunks, self.shape, strict=True)
        )


class ChunkCache:
    """Decoded chunks of one snapshot's arrays, bounded in bytes, shared by every request."""

    def __init__(self, max_bytes: int = CHUNK_CACHE_BYTES) -> None:
        self.lru: LRUCache[Key, np.ndarray] = LRUCache("chunks", max_bytes)

    def chunk(self, a: MapArray, idx: tuple[int, ...]) -> np.ndarray:
        return self.lru.get_or_load((a.path, idx), lambda: _read(a, idx))

    def chunks(self, a: MapArray, idxs: list[tuple[int, ...]]) -> list[np.ndarray]:
        """Several chunks, the cold ones read in parallel."""
        self.warm([(a, i) for i in idxs])
        return [self.chunk(a, i) for i in idxs]

    def warm(self, wanted: list[tuple[MapArray, tuple[int, ...]]]) -> None:
        """Read the cold ones of ``wanted`` in parallel (one zarr read per chunk)."""
        cold = [(a, i) for a, i in wanted if (a.path, i) not in self.lru]
        if len(cold) > 1:
            list(_POOL.map(lambda ai: self.chunk(*ai), cold))

    def series_chunks(self, a: MapArray, row: int, col: int) -> list[tuple[MapArray, tuple[int, ...]]]:
        """The chunks holding every leading index (e.g. every epoch) of one cell."""
        cy, cx = a.chunks[-2:]
        lead_chunks = [range(math.ceil(n / c)) for n, c in zip(a.shape[:-2], a.chunks[:-2], strict=True)]
        return [(a, (*li, row // cy, col // cx)) for li in _product(lead_chunks)]

    def window(
        self,
        a: MapArray,
        lead: tuple[int, ...],
        rows: tuple[int, int],
        cols: tuple[int, int],
        periodic: bool = False,
    ) -> np.ndarray:
        """Rows r0..r1 (inside the grid) and columns c0..c1 of the 2-D slice ``lead`` of ``a``;
        columns wrap around when ``periodic``, else those outside the grid hold the fill value."""
        (r0, r1), (c0, c1) = rows, cols
        nx = a.shape[-1]
        cy, cx = a.chunks[-2:]
        lead_idx = tuple(i // c for i, c in zip(lead, a.chunks[:-2], strict=True))
        lead_off = tuple(i % c for i, c in zip(lead, a.chunks[:-2], strict=True))
        out = np.full((r1 - r0, c1 - c0), a.fill, dtype=a.array.dtype)
        col = np.arange(c0, c1)
        gcol = np.mod(col, nx) if periodic else col
        ok = (gcol >= 0) & (gcol < nx)
        if r1 <= r0 or not ok.any():
            return out
        pieces = _runs(gcol, ok)  # (window offset, grid start, length), contiguous in the grid
        need = sorted(
            {
                (iy, ix)
                for iy in range(r0 // cy, (r1 - 1) // cy + 1)
                for _, g0, n in pieces
                for ix in range(g0 // cx, (g0 + n - 1) // cx + 1)
            }
        )
        got = dict(zip(need, self.chunks(a, [(*lead_idx, iy, ix) for iy, ix in need]), strict=True))
        for (iy, ix), block in got.items():
            plane = block[lead_off] if lead_off else block
            br0, bc0 = iy * cy, ix * cx
            rr0, rr1 = max(r0, br0), min(r1, br0 + plane.shape[0])
            for w0, g0, n in pieces:
                gg0, gg1 = max(g0, bc0), min(g0 + n, bc0 + plane.shape[1])
                if rr1 > rr0 and gg1 > gg0:
                    out[rr0 - r0 : rr1 - r0, w0 + gg0 - g0 : w0 + gg1 - g0] = plane[
                        rr0 - br0 : rr1 - br0, gg0 - bc0 : gg1 - bc0
                    ]
        return out

    def series(self, a: MapArray, row: int, col: int) -> np.ndarray:
        """The values of every leading index (e.g. every epoch) at one cell."""
        cy, cx = a.chunks[-2:]
        blocks = self.chunks(a, [i for _, i in self.series_chunks(a, row, col)])
        return np.concatenate([b[..., row % cy, col % cx].reshape(-1) for b in blocks])

    def carry_from(
        self,
        old: ChunkCache,
        arrays: dict[str, MapArray],
        changed: dict[str, set[tuple[int, ...]]],
        replaced: set[str],
    ) -> int:
        """Take over ``old``'s chunks that this snapshot holds unchanged; re-read (at most
        ``PREFETCH_MAX``) the changed chunks at positions ``old`` had cached. Returns the number
        of chunks carried over."""
        carried = 0
        positions: dict[str, set[tuple[int, ...]]] = {}
        for (path, idx), block in old.lru.items():
            a = arrays.get(path)
            if a is None or path in replaced or a.array.dtype != block.dtype:
                continue
            positions.setdefault(path, set()).add(idx[-2:])
            if idx not in changed.get(path, set()):
                self.lru.put((path, idx), block)
                carried += 1
        # what the commit wrote where chunks were cached: rewritten chunks, a new epoch's chunks
        refetch = [
            (arrays[path], idx)
            for path, idxs in changed.items()
            if path in positions
            for idx in sorted(idxs)
            if idx[-2:] in positions[path]
        ]
        if refetch:
            with contextlib.suppress(StoreUnavailable):  # then read on demand later
                list(_POOL.map(lambda ai: self.chunk(*ai), refetch[:PREFETCH_MAX]))
        return carried


def _read(a: MapArray, idx: tuple[int, ...]) -> np.ndarray:
    try:
        return np.asarray(a.array[a.chunk_slices(idx)])
    except Exception as exc:  # any storage failure: the store, not the request, is at fault
        log.warning("reading chunk %s of %s failed: %s: %s", idx, a.path, type(exc).__name__, exc)
        raise StoreUnavailable() from exc


def _runs(gcol: np.ndarray, ok: np.ndarray) -> list[tuple[int, int, int]]:
    """Maximal runs of consecutive grid columns: (offset in the window, first column, length)."""
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return []
    brk = np.flatnonzero((np.diff(idx) != 1) | (np.diff(gcol[idx]) != 1)) + 1
    starts, ends = np.r_[0, brk], np.r_[brk, idx.size]
    return [(int(idx[s]), int(gcol[idx[s]]), int(e - s)) for s, e in zip(starts, ends, strict=True)]


def _product(ranges: list[range]) -> Iterable[tuple[int, ...]]:
    if not ranges:
        yield ()
        return
    for i in ranges[0]:
        for rest in _product(ranges[1:]):
            yield (i, *rest)
