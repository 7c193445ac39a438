"""SDG 15.3.1 sub-indicators (land cover, SOC) and their "one out, all out" combination.

Method: UNCCD Good Practice Guidance for SDG indicator 15.3.1, version 2 (Sims et al. 2021,
UNCCD, Bonn, ISBN 978-92-95118-29-4), as transcribed by FAO's SEPAL module
``sepal-contrib/sdg_15.3.1`` at commit ``6131daa32b2983b0e6cbf7dd6328ff08eed1e589`` ("S"). The
rows followed, and the tables, are cited in ``kernels/sdg_tables.py``; land productivity is in
``kernels/sdg_productivity.py``. Codes are int8: -1 degraded, 0 stable, +1 improved, -128
(``NODATA``) missing.

- Land cover: each epoch's class codes (ESA WorldCover, overridable mapping) -> the 7 UNCCD
  classes -> ``matrix[baseline, target]`` (S ``land_cover.py``: transition = baseline * 100 +
  target, remapped through ``default_trans_matrix``). A code outside the mapping is missing.
- SOC: relative change of the stock against the baseline stock (S ``soil_organic_carbon.py``:
  ``soc_percent_change`` > 10 improved, < -10 degraded, strictly between stable). FLAG: S leaves
  a change of exactly +-10 % unassigned (class 0, i.e. no data: neither ``gt`` nor ``lt`` holds);
  TE's code counts it as degraded / improved (``<= -10``, ``>= 10``) although its own comment
  says "a decline of more than 10%". "More than 10 %" (the wording of TE's comment and of issue
  #20; the GPG PDF itself was not reachable here) is followed, so exactly +-10 % is **stable**:
  degraded iff ``stock < baseline * (1 - 0.10)``, improved iff ``stock > baseline * (1 + 0.10)`` (the product
  rounded once in float64, so a stock equal to ``baseline * 0.9`` or ``baseline * 1.1`` is stable).
  A missing (NaN) stock or baseline, or a baseline <= 0, is missing.
- One out, all out: any degraded -> degraded; else any improved -> improved; else stable.
  Missing: by default (``missing="any"``) a pixel with any sub-indicator missing is missing, as
  TE ``calc_deg_sdg`` does, and as S does except in its last three rows.
  FLAG: S ``run_15_3_1.indicator_15_3_1`` is not consistent here: it gives degraded when exactly
  one sub-indicator is present and degraded (its last three rows), but no data when one is
  degraded, one stable and one missing. ``missing="degraded_wins"`` offers the consistent
  version of S's intent: a degraded sub-indicator decides the pixel whatever is missing (one out,
  all out holds for any value of the missing ones); otherwise any missing -> missing.

Trends.Earth (TE, ``trends.earth-algorithms`` at ``35b2b7d7``) differs in productivity mostly
(see ``kernels/sdg_productivity.py``) and in SOC at exactly +-10 %; its missing rule is the
default here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from kernels.errors import KernelInputError
from kernels.sdg_tables import (
    DEFAULT_LC_MATRIX,
    NODATA,
    SOC_THRESHOLD,
    STATUS_EXPANDED,
    STATUS_SIMPLE,
    UNCCD_CLASSES,
    WORLDCOVER_TO_UNCCD,
)

I8 = NDArray[np.int8]
Missing = Literal["any", "degraded_wins"]


def _numeric(name: str, value: ArrayLike) -> NDArray[Any]:
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        raise KernelInputError(
            f"{name}: expected a numeric array (integer or float), got dtype {arr.dtype}. "
            f"Pass a numpy array of numbers."
        )
    return arr


def class_codes(name: str, value: ArrayLike) -> NDArray[np.int64]:
    """Integer class codes as int64; NaN (float input) becomes -1 (missing). Raise naming
    ``name`` on non-numeric or non-integral input."""
    arr = _numeric(name, value)
    if arr.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            bad = np.isfinite(arr) & (arr != np.round(arr))
        if bad.any() or np.isinf(arr).any():
            raise KernelInputError(
                f"{name}: expected whole class codes (NaN for missing), got "
                f"{int(bad.sum() + np.isinf(arr).sum())} non-integral or infinite values. "
                "Pass the class raster as integers."
            )
        return np.ascontiguousarray(np.where(np.isnan(arr), -1, arr).astype(np.int64))
    return np.ascontiguousarray(arr, dtype=np.int64)


def check_classes(name: str, value: ArrayLike, allowed: tuple[int, ...]) -> I8:
    """An int8 class array whose values are all in ``allowed`` (plus ``NODATA``)."""
    arr = _numeric(name, value)
    if arr.dtype.kind == "f" or arr.dtype.itemsize > 8:
        raise KernelInputError(
            f"{name}: expected an integer class array (int8 codes {allowed} or {NODATA} missing), "
            f"got dtype {arr.dtype}. Pass the output of the matching sdg kernel."
        )
    ok = np.isin(arr, (*allowed, NODATA))
    if not ok.all():
        bad = np.unique(arr[~ok])[:5].tolist()
        raise KernelInputError(
            f"{name}: expected codes {allowed} or {NODATA} (missing), got {bad}. Pass the output "
            "of the matching sdg kernel."
        )
    return np.ascontiguousarray(arr, dtype=np.int8)


def _lut(mapping: Mapping[int, int]) -> NDArray[np.int8]:
    try:
        items = [(int(k), int(v)) for k, v in mapping.items()]
    except (TypeError, ValueError, AttributeError) as exc:
        raise KernelInputError(
            f"mapping: expected {{class code: UNCCD class index 0-6}}, got {mapping!r} ({exc})."
        ) from exc
    bad = [(k, v) for k, v in items if k < 0 or k > 65535 or not 0 <= v < len(UNCCD_CLASSES)]
    if not items or bad:
        raise KernelInputError(
            f"mapping: expected codes in [0, 65535] mapped to UNCCD class indices 0-6 "
            f"({', '.join(UNCCD_CLASSES)}), got {bad or 'an empty mapping'}."
        )
    lut = np.full(max(k for k, _ in items) + 1, NODATA, dtype=np.int8)
    for k, v in items:
        lut[k] = v
    return lut


def _matrix(matrix: ArrayLike | None) -> NDArray[np.int8]:
    if matrix is None:
        return DEFAULT_LC_MATRIX
    try:
        m = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise KernelInputError(f"matrix: expected a 7x7 array of -1/0/+1, got {matrix!r} ({exc}).") from exc
    if m.shape != (7, 7) or not np.isin(m, (-1, 0, 1)).all():
        raise KernelInputError(
            f"matrix: expected a 7x7 array of -1 (degraded), 0 (stable), +1 (improved), rows = "
            f"baseline class and columns = target class in the order {', '.join(UNCCD_CLASSES)}; "
            f"got shape {m.shape} with values {np.unique(m)[:7].tolist()}."
        )
    return np.ascontiguousarray(m, dtype=np.int8)


@nb.njit(parallel=True, cache=True, nogil=True)
def _to_unccd(codes: np.ndarray, lut: np.ndarray, out: np.ndarray) -> None:
    n_lut = lut.shape[0]
    for i in nb.prange(codes.shape[0]):
        c = codes[i]
        out[i] = lut[c] if 0 <= c < n_lut else -128


@nb.njit(parallel=True, cache=True, nogil=True)
def _lc_degradation(
    base: np.ndarray, target: np.ndarray, lut: np.ndarray, matrix: np.ndarray, out: np.ndarray
) -> None:
    n_lut = lut.shape[0]
    for i in nb.prange(base.shape[0]):
        b = base[i]
        t = target[i]
        cb = lut[b] if 0 <= b < n_lut else -128
        ct = lut[t] if 0 <= t < n_lut else -128
        out[i] = -128 if (cb < 0 or ct < 0) else matrix[cb, ct]


def to_unccd(codes: ArrayLike, mapping: Mapping[int, int] | None = None) -> I8:
    """UNCCD class index (0-6, ``UNCCD_CLASSES`` order) of each code; ``NODATA`` if unmapped."""
    c = class_codes("codes", codes)
    out = np.empty(c.size, dtype=np.int8)
    _to_unccd(c.reshape(-1), _lut(mapping or WORLDCOVER_TO_UNCCD), out)
    return out.reshape(c.shape)


def land_cover_degradation(
    baseline: ArrayLike,
    target: ArrayLike,
    *,
    matrix: ArrayLike | None = None,
    mapping: Mapping[int, int] | None = None,
) -> I8:
    """Land-cover sub-indicator: ``matrix[unccd(baseline), unccd(target)]`` per pixel.

    ``baseline`` / ``target``: class codes of the two epochs (ESA WorldCover by default; NaN or an
    unmapped code is missing). ``matrix``: 7x7 of -1/0/+1, rows baseline, columns target
    (default ``DEFAULT_LC_MATRIX``, GPG v2 as in SEPAL). ``mapping``: code -> UNCCD class index.
    """
    b = class_codes("baseline", baseline)
    t = class_codes("target", target)
    if b.shape != t.shape:
        raise KernelInputError(
            f"target: expected the shape of baseline {b.shape}, got {t.shape}. Both epochs must be "
            "on the same grid."
        )
    out = np.empty(b.size, dtype=np.int8)
    _lc_degradation(b.reshape(-1), t.reshape(-1), _lut(mapping or WORLDCOVER_TO_UNCCD), _matrix(matrix), out)
    return out.reshape(b.shape)


@nb.njit(parallel=True, cache=True, nogil=True)
def _soc_degradation(stock: np.ndarray, base: np.ndarray, lo: float, hi: float, out: np.ndarray) -> None:
    for i in nb.prange(stock.shape[0]):
        s = stock[i]
        s0 = base[i]
        if not (np.isfinite(s) and np.isfinite(s0) and s0 > 0.0):
            out[i] = -128
        elif s < s0 * lo:
            out[i] = -1
        elif s > s0 * hi:
            out[i] = 1
        else:
            out[i] = 0


def soc_degradation(stock: ArrayLike, baseline: ArrayLike, *, threshold: float = SOC_THRESHOLD) -> I8:
    """SOC sub-indicator: degraded when ``stock < baseline * (1 - threshold)``, improved when
    ``stock > baseline * (1 + threshold)``, else stable (exactly +-threshold is stable); NaN or
    a baseline <= 0 is missing. ``threshold`` is a fraction (0.10 = 10 %)."""
    s = _numeric("stock", stock).astype(np.float64)
    b = _numeric("baseline", baseline).astype(np.float64)
    if s.shape != b.shape:
        raise KernelInputError(f"baseline: expected the shape of stock {s.shape}, got {b.shape}.")
    thr = float(threshold)
    if not 0.0 < thr < 1.0:
        raise KernelInputError(f"threshold: expected a fraction in (0, 1) (0.10 = 10 %), got {threshold!r}.")
    if np.any(s < 0):
        raise KernelInputError(
            f"stock: expected non-negative stocks (t C/ha), got {int((s < 0).sum())} negative. "
            "Pass stocks, not stock changes."
        )
    out = np.empty(s.size, dtype=np.int8)
    _soc_degradation(
        np.ascontiguousarray(s).reshape(-1), np.ascontiguousarray(b).reshape(-1), 1.0 - thr, 1.0 + thr, out
    )
    return out.reshape(s.shape)


@nb.njit(parallel=True, cache=True, nogil=True)
def _one_out_all_out(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, degraded_wins: bool, out: np.ndarray
) -> None:
    for i in nb.prange(a.shape[0]):
        x, y, z = a[i], b[i], c[i]
        missing = x == -128 or y == -128 or z == -128
        degraded = x == -1 or y == -1 or z == -1
        if degraded and (degraded_wins or not missing):
            out[i] = -1
        elif missing:
            out[i] = -128
        elif x == 1 or y == 1 or z == 1:
            out[i] = 1
        else:
            out[i] = 0


def sdg15_3_1(
    land_cover: ArrayLike,
    productivity: ArrayLike,
    soc: ArrayLike,
    *,
    missing: Missing = "any",
) -> I8:
    """Combine the three sub-indicators (int8 -1/0/+1/``NODATA``) by "one out, all out".

    ``missing="any"``: any missing sub-indicator -> missing. ``"degraded_wins"``: a degraded
    sub-indicator gives degraded even when another is missing (see the module docstring).
    """
    if missing not in ("any", "degraded_wins"):
        raise KernelInputError(f"missing: expected 'any' or 'degraded_wins', got {missing!r}.")
    arrs = [
        check_classes(n, v, (-1, 0, 1))
        for n, v in (("land_cover", land_cover), ("productivity", productivity), ("soc", soc))
    ]
    for name, arr in zip(("productivity", "soc"), arrs[1:], strict=True):
        if arr.shape != arrs[0].shape:
            raise KernelInputError(
                f"{name}: expected the shape of land_cover {arrs[0].shape}, got {arr.shape}. The "
                "three sub-indicators must be on the same grid."
            )
    out = np.empty(arrs[0].size, dtype=np.int8)
    lc, prod, soc_ = (a.reshape(-1) for a in arrs)
    _one_out_all_out(lc, prod, soc_, missing == "degraded_wins", out)
    return out.reshape(arrs[0].shape)


def status(baseline: ArrayLike, reporting: ArrayLike, *, expanded: bool = False) -> I8:
    """A reporting period's status against the baseline (int8 -1/0/+1/``NODATA``, or with
    ``expanded`` the codes 1-7 of ``STATUS_NAMES``, 0 missing): ``STATUS_EXPANDED[baseline, reporting]``
    (the GPG v2 status matrix, see ``kernels.sdg_tables``); missing in either -> missing."""
    b = check_classes("baseline", baseline, (-1, 0, 1))
    r = check_classes("reporting", reporting, (-1, 0, 1))
    if b.shape != r.shape:
        raise KernelInputError(f"reporting: expected the shape of baseline {b.shape}, got {r.shape}.")
    missing = (b == NODATA) | (r == NODATA)
    code = STATUS_EXPANDED[np.where(missing, 1, b + 1), np.where(missing, 1, r + 1)]
    code = np.where(missing, 0, code).astype(np.int8)
    return code if expanded else STATUS_SIMPLE[code]
