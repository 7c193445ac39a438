"""Argument checks shared by the numpy entry points (run in Python, before any JIT code)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kernels.errors import KernelInputError


def as_float_array(name: str, value: ArrayLike, dtype: Any = np.float64) -> NDArray[Any]:
    """Return ``value`` as a C-contiguous float array, or raise naming ``name``."""
    try:
        arr = np.ascontiguousarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise KernelInputError(
            f"{name}: expected numbers convertible to {np.dtype(dtype).name}, got "
            f"{type(value).__name__} ({exc}). Pass a numpy array or a number."
        ) from exc
    return arr


def _first_bad(arr: NDArray[Any], bad: NDArray[np.bool_]) -> str:
    idx = np.argwhere(bad)[0]
    where = tuple(int(i) for i in idx) if arr.ndim else ()
    return f"{arr[tuple(idx)] if arr.ndim else arr.item()!r} at index {where}"


def check_finite(name: str, arr: NDArray[Any], fix: str) -> None:
    """Raise if ``arr`` holds NaN or infinite values."""
    bad = ~np.isfinite(arr)
    if bad.any():
        raise KernelInputError(
            f"{name}: expected finite values, got {int(bad.sum())} NaN/inf "
            f"(first: {_first_bad(arr, bad)}). {fix}"
        )


def check_range(
    name: str,
    arr: NDArray[Any],
    lo: float | None = None,
    hi: float | None = None,
    *,
    unit: str = "",
    fix: str = "",
    allow_nan: bool = False,
) -> None:
    """Raise if any value of ``arr`` lies outside ``[lo, hi]`` (NaN allowed only if asked)."""
    if not allow_nan:
        check_finite(name, arr, fix or f"Fill or mask missing {name} values first.")
    with np.errstate(invalid="ignore"):
        bad = np.zeros(arr.shape, dtype=bool)
        if lo is not None:
            bad |= arr < lo
        if hi is not None:
            bad |= arr > hi
    if bad.any():
        span = f"[{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}]"
        raise KernelInputError(
            f"{name}: expected values in {span}{' ' + unit if unit else ''}, got "
            f"{int(bad.sum())} outside (first: {_first_bad(arr, bad)}). {fix}".rstrip()
        )


def check_shape(name: str, arr: NDArray[Any], shape: tuple[int, ...], fix: str = "") -> None:
    """Raise if ``arr.shape`` differs from ``shape``."""
    if arr.shape != shape:
        raise KernelInputError(
            f"{name}: expected shape {shape}, got {arr.shape}. "
            f"{fix or 'All per-pixel inputs must have the same shape.'}"
        )
