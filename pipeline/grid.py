"""The grid: one north-up raster grid (transform, shape, CRS), and how it is read off a cube's
cell-centre coordinates. Every part that needs a cube's grid (indicator job, zonal statistics,
the API's readers) derives it here, once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from affine import Affine
from pyproj import CRS

from kernels.areas import grid_cell_areas
from pipeline.errors import PipelineError

_EQUAL_AREA = (
    "equal area",
    "equal-area",
    "mollweide",
    "sinusoidal",
    "equal earth",
    "eckert iv",
    "eckert vi",
    "goode",
)


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid."""

    transform: Affine
    shape: tuple[int, int]
    crs: CRS

    @classmethod
    def from_coords(cls, x: np.ndarray, y: np.ndarray, crs: CRS | str | None = None) -> Grid:
        """The grid whose cell centres are ``x`` (columns) and ``y`` (rows); a single cell is taken
        as 1 unit wide. ``crs``: a CRS, WKT or any pyproj input; EPSG:4326 when absent."""
        rx = float(x[1] - x[0]) if x.size > 1 else 1.0
        ry = float(y[1] - y[0]) if y.size > 1 else -1.0
        transform = Affine(rx, 0, float(x[0]) - rx / 2, 0, ry, float(y[0]) - ry / 2)
        return cls(transform, (int(y.size), int(x.size)), CRS.from_user_input(crs or "EPSG:4326"))

    @classmethod
    def of(cls, ds: Any) -> Grid:
        """The grid of an xarray Dataset or DataArray with ``x``/``y`` coordinates and the cube's
        ``crs`` attribute (WKT)."""
        return cls.from_coords(ds["x"].values, ds["y"].values, ds.attrs.get("crs") or None)

    @property
    def geographic(self) -> bool:
        return bool(self.crs.is_geographic)

    def key(self) -> str:
        return f"{tuple(round(v, 12) for v in self.transform[:6])}|{self.shape}|{self.crs.to_wkt()}"

    def row_areas(self) -> np.ndarray:
        """True cell area (m2) of each row."""
        if not self.geographic:
            name = (self.crs.to_json_dict().get("conversion", {}).get("method", {}).get("name", "")).lower()
            if not any(k in name for k in _EQUAL_AREA):
                raise PipelineError(
                    f"grid CRS {self.crs.to_string()!r} is projected but not equal-area "
                    f"(method {name or 'unknown'!r}), so its cells have different true areas. "
                    "Reproject the raster to EPSG:4326 or to an equal-area CRS (e.g. EPSG:6933)."
                )
        t = self.transform
        return grid_cell_areas((t.a, t.b, t.c, t.d, t.e, t.f), self.shape, geographic=self.geographic)
