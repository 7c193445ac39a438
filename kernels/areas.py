"""True cell areas of grids, never "one pixel = one unit".

A cell of a geographic (lon/lat) grid between latitudes phi1 < phi2 and longitudes lambda1 <
lambda2 on an ellipsoid with semi-minor axis b and eccentricity e has the area

    A = (lambda2 - lambda1) * (q(phi2) - q(phi1)) * b^2 / 2,
    q(phi) = sin(phi) / (1 - e^2 sin^2 phi) + ln((1 + e sin phi) / (1 - e sin phi)) / (2 e),

(the area of an ellipsoidal zone per radian of longitude; e.g. Snyder 1987, "Map projections:
a working manual", USGS PP 1395, eq. 3-12). Summed over the globe it is 4 pi R_q^2 with the
authalic radius R_q (WGS84: 510 065 621.7 km2). Equal-area grids have a constant cell area.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kernels._validate import as_float_array, check_range
from kernels.errors import KernelInputError

WGS84_A = 6378137.0
WGS84_F = 1.0 / 298.257223563


def _q(phi: NDArray[np.float64], e: float) -> NDArray[np.float64]:
    s = np.sin(phi)
    return np.asarray(s / (1.0 - e * e * s * s) + np.log((1.0 + e * s) / (1.0 - e * s)) / (2.0 * e))


def geographic_row_areas(
    lat_edges: ArrayLike,
    lon_step: float,
    *,
    a: float = WGS84_A,
    f: float = WGS84_F,
) -> NDArray[np.float64]:
    """Area (m2) of one cell in each row of a lon/lat grid.

    ``lat_edges`` holds the ny + 1 row edges in degrees (either order); ``lon_step`` the cell
    width in degrees. Returns ny areas in the order of the edges.
    """
    edges = np.atleast_1d(as_float_array("lat_edges", lat_edges))
    check_range("lat_edges", edges, -90.0, 90.0, unit="degrees")
    if edges.ndim != 1 or edges.size < 2:
        raise KernelInputError(f"lat_edges: expected >= 2 row edges, got shape {edges.shape}.")
    if not (0.0 < abs(lon_step) <= 360.0):
        raise KernelInputError(f"lon_step: expected a width in (0, 360] degrees, got {lon_step!r}.")
    e = np.sqrt(f * (2.0 - f))
    b = a * (1.0 - f)
    q = _q(np.radians(edges), e)
    return np.asarray(np.abs(np.diff(q)) * np.radians(abs(lon_step)) * b * b / 2.0)


def grid_cell_areas(
    transform: tuple[float, float, float, float, float, float],
    shape: tuple[int, int],
    *,
    geographic: bool = True,
) -> NDArray[np.float64]:
    """Per-row cell areas (m2) of a north-up grid with affine ``transform`` (a, b, c, d, e, f
    as in GDAL/rasterio: x = a*col + c, y = e*row + f; b = d = 0).

    For projected grids (``geographic=False``) the CRS must be equal-area: every row then has
    the area |a * e| (in squared CRS units, m2 for metre-based CRSs).
    """
    a_, b_, _, d_, e_, f_ = (float(v) for v in transform[:6])
    if b_ != 0.0 or d_ != 0.0:
        raise KernelInputError(
            f"transform: expected a north-up grid (no rotation), got {transform}. Warp it first."
        )
    ny = int(shape[0])
    if not geographic:
        return np.full(ny, abs(a_ * e_))
    edges = f_ + e_ * np.arange(ny + 1)
    return geographic_row_areas(edges, a_)
