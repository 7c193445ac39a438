"""Typed configuration: source definitions (``catalogs/sources/*.yaml``) and job files.

Both are pydantic models with JSON Schema (``socobs schema`` writes them to
``catalogs/schemas/``); a bad field gets an error naming the field, what was expected and
what was received. Nothing downstream handles untyped dicts of options.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import InputFileError
from pipeline.regions import catalogs_dir
from pipeline.units import CANONICAL, conversion

Resampling = Literal["nearest", "bilinear", "average", "mode", "cubic"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LayerDef(Strict):
    """One asset of a variable: a depth interval (top/bottom, cm), a point depth, or neither."""

    asset: str
    top: float | None = None
    bottom: float | None = None
    depth: float | None = None

    @model_validator(mode="after")
    def _depths(self) -> LayerDef:
        if (self.top is None) != (self.bottom is None):
            raise ValueError("give both top and bottom (cm) for a depth interval, or neither")
        if self.top is not None and self.bottom is not None and not self.top < self.bottom:
            raise ValueError(f"top must be above bottom, got {self.top} >= {self.bottom}")
        if self.depth is not None and self.top is not None:
            raise ValueError("a layer is either an interval (top/bottom) or a point (depth)")
        return self


class VariableDef(Strict):
    """How a canonical variable comes out of a collection's assets."""

    layers: list[LayerDef] = Field(min_length=1)
    unit: str = Field(description="Unit of the values after the STAC raster:bands scale/offset "
                      "(or of the stored numbers, when the catalog has none)")  # fmt: skip
    scale: float | None = Field(None, description="Overrides raster:bands scale")
    offset: float | None = Field(None, description="Overrides raster:bands offset")
    nodata: float | None = Field(None, description="Overrides raster:bands nodata")
    resampling: Resampling = "nearest"
    formula: Literal["ndvi_from_red_nir"] | None = Field(
        None,
        description="Combine the layers instead of stacking them by depth: "
        "ndvi_from_red_nir takes layers [red, nir] and gives (nir - red) / (nir + red)",
    )

    @model_validator(mode="after")
    def _formula(self) -> VariableDef:
        if self.formula == "ndvi_from_red_nir" and len(self.layers) != 2:
            raise ValueError("ndvi_from_red_nir needs exactly two layers: red, then nir")
        return self


class SourceDef(Strict):
    """A collection of a STAC API and what the observatory takes from it."""

    name: str
    title: str = ""
    stac_url: str | None = Field(None, description="STAC API root; a job's stac_url overrides it")
    collection: str
    temporal: Literal["epoch", "monthly", "static"] = Field(
        description="epoch: one composite per year; monthly: monthly series or climatology; "
        "static: one composite of everything"
    )
    monthly_product: Literal["series", "climatology"] = "series"
    composite: Literal["median", "mean", "max"] = "median"
    variables: dict[str, VariableDef]
    query: dict[str, Any] | None = Field(None, description="STAC query filter, e.g. eo:cloud_cover")
    synthetic: bool = False
    notes: str = ""

    @field_validator("variables")
    @classmethod
    def _canonical(cls, v: dict[str, VariableDef]) -> dict[str, VariableDef]:
        for name, var in v.items():
            if name not in CANONICAL:
                raise ValueError(f"{name!r} is not a canonical variable ({', '.join(CANONICAL)})")
            conversion(var.unit, name)  # raises UnitError naming the known units
        return v

    def digest(self) -> str:
        """Stable hash of the definition (recorded in provenance)."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


class RegionSpec(Strict):
    """Exactly one of: a region id of the hierarchy, a bbox (W, S, E, N, degrees), a vector file."""

    region_id: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _one(self) -> RegionSpec:
        given = [k for k in ("region_id", "bbox", "file") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of region_id, bbox, file; got {given or 'none'}")
        if self.bbox is not None:
            w, s, e, n = self.bbox
            if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
                raise ValueError(f"bbox must be W,S,E,N within -180..180/-90..90, got {self.bbox}")
        return self


class GridSpec(Strict):
    crs: str = "EPSG:4326"
    resolution: float = Field(gt=0, description="Cell size in CRS units (degrees for EPSG:4326)")


class PeriodSpec(Strict):
    start: int = Field(ge=1900, le=2200)
    end: int = Field(ge=1900, le=2200)

    @model_validator(mode="after")
    def _order(self) -> PeriodSpec:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


class ChunkSpec(Strict):
    y: int = Field(512, ge=16)
    x: int = Field(512, ge=16)


class JobSpec(Strict):
    """An ingestion job: ``socobs ingest JOB.yaml``."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    region: RegionSpec
    sources: list[str] = Field(min_length=1, description="Names of catalogs/sources/*.yaml or paths")
    stac_url: str | None = Field(None, description="Overrides every source's STAC API (e.g. the demo server)")
    grid: GridSpec
    period: PeriodSpec
    store: str = Field("var/store", description="Icechunk repository: a local path or s3://bucket/prefix")
    scheduler: str | None = Field(None, description="Dask scheduler address; a LocalCluster if unset")
    chunks: ChunkSpec = ChunkSpec(y=512, x=512)


def _validation_message(path: Path, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        got = err.get("input")
        parts.append(f"{loc}: {err['msg']} (got {got!r})")
    return f"{path}: invalid fields -- " + "; ".join(parts) + ". Fix them and run again."


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read it ({exc.strerror}). Check the path.") from exc
    except yaml.YAMLError as exc:
        raise InputFileError(f"{path}: not valid YAML ({exc}).") from exc


def load_job(path: str | Path) -> JobSpec:
    """Parse and validate a job file."""
    p = Path(path)
    data = _read_yaml(p)
    try:
        return JobSpec.model_validate(data)
    except ValidationError as exc:
        raise InputFileError(_validation_message(p, exc)) from None


def load_source(name_or_path: str) -> SourceDef:
    """A source definition by name (``catalogs/sources/NAME.yaml``) or path."""
    p = Path(name_or_path)
    if not p.suffix:
        p = catalogs_dir() / "sources" / f"{name_or_path}.yaml"
    if not p.exists():
        known = sorted(q.stem for q in (catalogs_dir() / "sources").glob("*.yaml"))
        raise InputFileError(
            f"source {name_or_path!r}: no definition at {p}. Known sources: {', '.join(known)}."
        )
    try:
        return SourceDef.model_validate(_read_yaml(p))
    except ValidationError as exc:
        raise InputFileError(_validation_message(p, exc)) from None


def write_schemas(directory: Path) -> list[Path]:
    """JSON Schemas of the job file and the source definition."""
    import json

    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name, model in (("job", JobSpec), ("source", SourceDef)):
        path = directory / f"{name}.schema.json"
        path.write_text(json.dumps(model.model_json_schema(), indent=2) + "\n")
        out.append(path)
    return out
