"""Exact percentiles per land unit of values too many to hold at once (streamed in chunks).

``unit_percentiles`` returns, for every unit, the same float64 as
``kernels.sdg_productivity.performance_ratio``'s whole-grid percentile: numpy's linear
interpolation ``a + (b - a) * (pos - lo)`` between the ``lo``-th and ``lo + 1``-th smallest
finite values of the unit, ``pos = (q / 100) * (n - 1)``, ``lo = floor(pos)``. Only those two
order statistics are needed, so they are found exactly by a radix selection over the values'
bits, never by holding a unit's values:

- every finite float64 maps to a uint64 key whose unsigned order is the numeric order
  (``sort_keys``: the sign bit flipped for positives, every bit for negatives; -0.0 counts as
  +0.0, which compares equal to it);
- pass 1 counts, per unit, the keys' top ``DIGIT`` bits (sign and exponent): the counts give
  each unit's ``n``, so its two ranks, and the bucket each rank falls in;
- each further pass counts the next ``DIGIT`` bits of only the keys that share a rank's bucket
  so far (its prefix), narrowing the bucket, until it holds at most ``GATHER`` values (or the
  prefix is the whole key: then every value in it is that value);
- the last pass gathers the values of the remaining buckets and selects the rank among them
  (``np.partition``): exact, so bit for bit the whole-grid result.

Memory: a pass holds one chunk plus ``units x 2^DIGIT`` counts (pass 1) or ``ranks x 2^DIGIT``
(later passes) and at most ``GATHER`` values per rank; typical data needs three passes (the
sign/exponent, 12 mantissa bits, then the gather).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
from numpy.typing import NDArray

from kernels.errors import KernelInputError

F64 = NDArray[np.float64]
U64 = NDArray[np.uint64]
I64 = NDArray[np.int64]
Chunks = Callable[[], Iterable[tuple[NDArray[np.integer], NDArray[np.floating]]]]

DIGIT = 12  # bits per pass
GATHER = 1 << 16  # a bucket this small is gathered and selected in memory
_SIGN = np.uint64(1 << 63)
_BITS = 64


def sort_keys(values: NDArray[np.floating]) -> U64:
    """uint64 keys in the numeric order of the (finite) float64 ``values``."""
    v = np.asarray(values, dtype=np.float64) + 0.0  # -0.0 -> +0.0
    b = v.view(np.uint64)
    return np.where(b >= _SIGN, ~b, b | _SIGN)


def from_keys(keys: U64) -> F64:
    """The float64 values of ``sort_keys``' keys."""
    k = np.asarray(keys, dtype=np.uint64)
    return np.where(k >= _SIGN, k & ~_SIGN, ~k).view(np.float64)


def _chunk(unit: NDArray[np.integer], values: NDArray[np.floating], n_units: int) -> tuple[I64, U64]:
    """Unit indices and keys of a chunk's finite values with a unit in ``[0, n_units)``."""
    u = np.asarray(unit).reshape(-1)
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if u.shape != v.shape:
        raise KernelInputError(f"unit: expected the shape of values {v.shape}, got {u.shape}.")
    if u.dtype.kind not in "iu":
        raise KernelInputError(f"unit: expected integer unit indices, got {u.dtype}.")
    keep = np.isfinite(v) & (u >= 0)
    if u.size and int(u.max(initial=-1)) >= n_units:
        raise KernelInputError(
            f"unit: expected indices below n_units = {n_units}, got {int(u.max())}. Map unit ids "
            "to 0 .. n_units - 1 first (np.searchsorted on the sorted ids)."
        )
    return u[keep].astype(np.int64), sort_keys(v[keep])


class _Ranks:
    """The order statistics being selected: unit, rank within the unit, and its bucket so far
    (the top ``bits`` of the key equal ``prefix``; ``rank`` counts within the bucket)."""

    def __init__(self, unit: I64, rank: I64, prefix: U64, bits: int, size: I64) -> None:
        self.unit, self.rank, self.prefix, self.size = unit, rank, prefix, size
        self.bits = np.full(unit.size, bits, dtype=np.int64)
        self.value = np.full(unit.size, np.nan)
        self.open = np.ones(unit.size, dtype=bool)

    def settle(self) -> None:
        """Ranks whose bucket is the whole key are found: every value in it is the key's."""
        full = self.open & (self.bits >= _BITS)
        self.value[full] = from_keys(self.prefix[full])
        self.open &= ~full

    def narrow(self, t: I64, hist: I64) -> None:
        """Move ranks ``t`` into the next digit's bucket from their ``hist`` (len(t), 2^w)."""
        cum = np.cumsum(hist, axis=1)
        d = np.argmax(cum > self.rank[t][:, None], axis=1)
        below = np.where(d > 0, cum[np.arange(t.size), d - 1], 0)
        w = np.minimum(DIGIT, _BITS - self.bits[t])
        self.rank[t] -= below
        self.size[t] = hist[np.arange(t.size), d]
        self.prefix[t] = (self.prefix[t] << w.astype(np.uint64)) | d.astype(np.uint64)
        self.bits[t] += w
        self.settle()


def _matches(r: _Ranks, t: I64, slot_of_unit: I64, u: I64, k: U64) -> tuple[I64, I64]:
    """(positions in the chunk, index into ``t``) of the keys in the buckets of ranks ``t``;
    ``slot_of_unit`` (units, 2): the index into ``t`` of each unit's ranks, -1 for none."""
    pos_out, tix_out = [], []
    for j in range(slot_of_unit.shape[1]):
        s = slot_of_unit[u, j]
        has = np.flatnonzero(s >= 0)
        if not has.size:
            continue
        sj = s[has]
        shift = (_BITS - r.bits[t[sj]]).astype(np.uint64)
        hit = (k[has] >> shift) == r.prefix[t[sj]]
        pos_out.append(has[hit])
        tix_out.append(sj[hit])
    if not pos_out:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(pos_out), np.concatenate(tix_out)


def _slots(r: _Ranks, t: I64, n_units: int) -> I64:
    slot = np.full((n_units, 2), -1, dtype=np.int64)
    for i, unit in enumerate(r.unit[t]):
        j = 0 if slot[unit, 0] < 0 else 1
        slot[unit, j] = i
    return slot


def unit_percentiles(n_units: int, chunks: Chunks, q: float = 90.0) -> F64:
    """The ``q``-th percentile (numpy linear interpolation) of the finite values of each unit
    ``0 .. n_units - 1`` (NaN for a unit without any); ``chunks()`` yields a fresh pass over
    the data as (unit index, values) pairs of equal shape, index -1 for none. See the module
    docstring; ``chunks`` is called once per pass."""
    if not 0.0 <= q <= 100.0:
        raise KernelInputError(f"q: expected a percentile in [0, 100], got {q!r}.")
    top = np.zeros((n_units, 1 << DIGIT), dtype=np.int64)
    for unit, values in chunks():
        u, k = _chunk(unit, values, n_units)
        top += np.bincount(
            u * (1 << DIGIT) + (k >> np.uint64(_BITS - DIGIT)).astype(np.int64), minlength=top.size
        ).reshape(top.shape)
    counts = top.sum(axis=1)
    has = np.flatnonzero(counts > 0)
    pos = (q / 100.0) * (counts[has] - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, counts[has] - 1)
    r = _Ranks(
        np.concatenate([has, has]),
        np.concatenate([lo, hi]),
        np.zeros(2 * has.size, dtype=np.uint64),
        0,
        np.concatenate([counts[has], counts[has]]),
    )
    r.narrow(np.arange(r.unit.size), top[r.unit])
    del top
    while True:
        t = np.flatnonzero(r.open)
        if not t.size:
            break
        slot = _slots(r, t, n_units)
        refine = r.size[t] > GATHER
        hist = np.zeros((t.size, 1 << DIGIT), dtype=np.int64)
        found: list[tuple[I64, F64]] = []
        for unit, values in chunks():
            u, k = _chunk(unit, values, n_units)
            pos_, tix = _matches(r, t, slot, u, k)
            fine = refine[tix]
            if fine.any():
                tr, kr = tix[fine], k[pos_[fine]]
                w = np.minimum(DIGIT, _BITS - r.bits[t[tr]])
                shift = (_BITS - r.bits[t[tr]] - w).astype(np.uint64)
                digit = ((kr >> shift) & ((np.uint64(1) << w.astype(np.uint64)) - np.uint64(1))).astype(
                    np.int64
                )
                hist += np.bincount(tr * (1 << DIGIT) + digit, minlength=hist.size).reshape(hist.shape)
            if (~fine).any():
                found.append((tix[~fine], from_keys(k[pos_[~fine]])))
        small = np.flatnonzero(~refine)
        if small.size:
            tix = np.concatenate([f[0] for f in found]) if found else np.empty(0, np.int64)
            vals = np.concatenate([f[1] for f in found]) if found else np.empty(0)
            order = np.argsort(tix, kind="stable")
            tix, vals = tix[order], vals[order]
            bounds = np.searchsorted(tix, small)
            ends = np.searchsorted(tix, small, side="right")
            for i, b, e in zip(small, bounds, ends, strict=True):
                ti = t[i]
                assert e - b == r.size[ti], "the data changed between passes"
                r.value[ti] = np.partition(vals[b:e], r.rank[ti])[r.rank[ti]]
                r.open[ti] = False
        if refine.any():
            rows = np.flatnonzero(refine)
            r.narrow(t[rows], hist[rows])
    out = np.full(n_units, np.nan)
    m = has.size
    a, b = r.value[:m], r.value[m:]
    out[has] = a + (b - a) * (pos - lo)
    return out


def ratio_to(mean: NDArray[np.floating], p: NDArray[np.floating]) -> F64:
    """``mean / p`` where ``mean`` is finite and ``p > 0``, else NaN (``p``: each cell's unit
    percentile), as ``kernels.sdg_productivity.performance_ratio``."""
    m = np.asarray(mean, dtype=np.float64)
    valid = np.isfinite(m)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(valid & (p > 0), m / np.where(p > 0, p, 1.0), np.nan)


__all__ = ["DIGIT", "GATHER", "from_keys", "ratio_to", "sort_keys", "unit_percentiles"]
