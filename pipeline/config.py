"""Typed configuration: source definitions (``catalogs/sources/*.yaml``) and job files.

Both are pydantic models with JSON Schema (``socobs schema`` writes them); a bad field gets an
error naming the field, what was expected and what was received. Nothing downstream handles
untyped dicts of options.

Reading is guarded before anything else happens: files larger than ``MAX_YAML_BYTES`` and
files that are not UTF-8 are refused, and YAML anchors/aliases are refused outright (a "billion
laughs" file of a few hundred bytes expands into billions of values; job files never need them).
Paths inside a job file are relative to the job file (see ``load_job``), never to the shell's
current directory. A job's grid may have at most ``MAX_GRID_CELLS`` cells (checked before
ingestion starts; ``SOCOBS_MAX_CELLS`` raises the bound for the command line).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import InputFileError, clip, quote
from pipeline.ingest.sign import SIGNERS
from pipeline.ingest.units import CANONICAL, conversion
from pipeline.paths import catalogs_dir

Resampling = Literal["nearest", "bilinear", "average", "mode", "cubic"]

MAX_YAML_BYTES = 1_000_000
"""Largest job or source file read (they are a few hundred bytes)."""
MAX_GRID_CELLS = 1_000_000_000
"""Largest grid a job may ask for (y x x cells): Africa at 250 m is about 5e8 cells. A typo in the
resolution (1e-7 instead of 1e-2) would otherwise ask for 1e18 cells."""


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
    unit: str = Field(
        description="Unit of the values after the STAC raster:bands scale/offset "
        "(or of the stored numbers, when the catalog has none)"
    )
    scale: float | None = Field(None, description="Overrides raster:bands scale")
    offset: float | None = Field(None, description="Overrides raster:bands offset")
    nodata: float | None = Field(None, description="Overrides raster:bands nodata")
    resampling: Resampling = "nearest"
    formula: Literal["ndvi_from_red_nir", "mean"] | None = Field(
        None,
        description="Combine the layers instead of stacking them by depth: "
        "ndvi_from_red_nir takes layers [red, nir] and gives (nir - red) / (nir + red); mean gives "
        "the mean of two or more layers, NaN where any is missing (e.g. TerraClimate tas from "
        "tmax and tmin)",
    )

    @model_validator(mode="after")
    def _formula(self) -> VariableDef:
        if self.formula == "ndvi_from_red_nir" and len(self.layers) != 2:
            raise ValueError("ndvi_from_red_nir needs exactly two layers: red, then nir")
        if self.formula == "mean" and len(self.layers) < 2:
            raise ValueError(f"mean needs at least two layers to average, got {len(self.layers)}")
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
    sign: Literal["planetary-computer"] | None = Field(
        None,
        description="How the found items' asset hrefs are signed before loading: planetary-computer "
        "(SAS tokens from the Planetary Computer token service; PC_SDK_SUBSCRIPTION_KEY, "
        "PC_SDK_SAS_URL) or unset (hrefs read as they are)",
    )

    @field_validator("sign", mode="before")
    @classmethod
    def _signer(cls, v: Any) -> Any:
        if v is not None and v not in SIGNERS:
            raise ValueError(
                f"expected one of {', '.join(SIGNERS)} (or no sign field for catalogs whose hrefs "
                "need no signing); write sign: planetary-computer for Planetary Computer collections"
            )
        return v

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
    """The target grid; at most ``MAX_GRID_CELLS`` (1e9) cells over the region, checked before
    any work (``SOCOBS_MAX_CELLS`` overrides the bound for ``socobs``)."""

    crs: str = Field("EPSG:4326", description="A CRS pyproj knows: EPSG:4326, EPSG:6933, a WKT ...")
    resolution: float = Field(
        gt=0,
        description=f"Cell size in CRS units (degrees for EPSG:4326); the grid over the region "
        f"may have at most {MAX_GRID_CELLS:.0e} cells (SOCOBS_MAX_CELLS overrides)",
    )

    @field_validator("crs")
    @classmethod
    def _known_crs(cls, v: str) -> str:
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            CRS.from_user_input(v)
        except CRSError:
            raise ValueError(
                "unknown CRS; expected an EPSG code pyproj knows (e.g. EPSG:4326, EPSG:6933) or a "
                "WKT/PROJ string"
            ) from None
        return v


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


SDG_LOOKUPS = ("gpg2", "gpg1")
SDG_MISSING = ("any", "degraded_wins")
SDG_SOC_THRESHOLD = 0.10  # GPG v2's +-10 % (kernels.sdg_tables.SOC_THRESHOLD; kept numba-free here)


def _years(value: tuple[int, int], what: str) -> None:
    if value[0] > value[1]:
        raise ValueError(f"{what}: expected [first year, last year] with first <= last, got {list(value)}")


class SdgJobSpec(Strict):
    """SDG 15.3.1 settings (``pipeline.indicators.sdg_periods.SdgSpec``); every field optional:
    the periods default to those derived from the cube's epochs."""

    baseline: tuple[int, int] | None = Field(
        None,
        description="[first year, last year] of the baseline, both epochs of the cube (default: derived)",
    )
    reporting: list[tuple[int, int]] | None = Field(
        None, description="Reporting periods [[first, last], ...] after the baseline; [] for none"
    )
    lookup: Literal["gpg2", "gpg1"] = Field("gpg2", description="Land productivity lookup (GPG v2 or v1)")
    missing: Literal["any", "degraded_wins"] = Field(
        "any", description="One out, all out with a missing sub-indicator: any -> missing; degraded_wins"
    )
    soc_threshold: float = Field(
        SDG_SOC_THRESHOLD, gt=0, lt=1, description="Relative SOC change counted as degradation/improvement"
    )
    land_cover_matrix: list[list[Literal[-1, 0, 1]]] | None = Field(
        None,
        description="7x7 matrix of -1/0/+1 (rows: baseline UNCCD class, columns: target class); "
        "default: GPG v2's",
    )
    skip: bool = Field(False, description="Compute no SDG 15.3.1 at all")

    @model_validator(mode="after")
    def _periods(self) -> SdgJobSpec:
        if self.baseline is not None:
            b0, b1 = self.baseline
            if b0 >= b1:
                raise ValueError(
                    f"baseline: expected [first year, last year] with first < last, got {[b0, b1]}"
                )
        for r in self.reporting or []:
            _years(r, "reporting period")
            if self.baseline is not None and r[0] <= self.baseline[1]:
                raise ValueError(
                    f"reporting period {list(r)}: expected it to start after the baseline "
                    f"{list(self.baseline)} ends ({self.baseline[1]})"
                )
        m = self.land_cover_matrix
        if m is not None and (len(m) != 7 or any(len(row) != 7 for row in m)):
            shape = f"{len(m)} rows of {sorted({len(row) for row in m})} values"
            raise ValueError(f"land_cover_matrix: expected 7 rows of 7 values (-1/0/+1), got {shape}")
        return self


class IndicatorsJobSpec(Strict):
    """Settings of ``socobs indicators`` (and of ``update``/``watch``'s indicator pass)."""

    sdg15_3_1: SdgJobSpec = SdgJobSpec()


class JobSpec(Strict):
    """An ingestion job: ``socobs ingest JOB.yaml``."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    region: RegionSpec
    sources: list[str] = Field(
        min_length=1, description="Names of catalogs/sources/*.yaml, or paths relative to the job file"
    )
    stac_url: str | None = Field(None, description="Overrides every source's STAC API (e.g. the demo server)")
    grid: GridSpec
    period: PeriodSpec
    store: str = Field(
        "var/store",
        description="Icechunk repository: s3://bucket/prefix, gs://..., or a local path relative to "
        "the job file; when omitted, VAR/store (socobs --var, default $SOCOBS_VAR or ./var)",
    )
    scheduler: str | None = Field(None, description="Dask scheduler address; a LocalCluster if unset")
    chunks: ChunkSpec = ChunkSpec(y=512, x=512)
    indicators: IndicatorsJobSpec = Field(
        IndicatorsJobSpec(), description="Indicator settings: SDG 15.3.1 periods, lookup, matrix"
    )


def _validation_message(path: Path, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:10]:
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg} (got {quote(err.get('input'))})")
    more = f"; and {exc.error_count() - 10} more" if exc.error_count() > 10 else ""
    return f"{path}: invalid fields -- " + "; ".join(parts) + more + ". Fix them and run again."


class _AliasRefused(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


class _NoAliasLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses anchors (``&a``) and aliases (``*a``) as soon as it meets
    one, before anything is expanded."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _AliasRefused(event.start_mark.line + 1)
        return super().compose_node(parent, index)


def _read_yaml(path: Path, what: str = "job file") -> Any:
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_YAML_BYTES + 1)
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read the {what} ({exc.strerror}). Check the path.") from None
    if len(raw) > MAX_YAML_BYTES:
        raise InputFileError(
            f"{path}: expected a {what} of at most {MAX_YAML_BYTES // 1000} kB (they are a few hundred "
            f"bytes), got a larger file. Check that this is the {what} you meant."
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path}: expected UTF-8 text, got byte 0x{raw[exc.start]:02x} at offset {exc.start}. "
            f"Save the {what} as UTF-8 (it may not be a YAML file at all)."
        ) from None
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader subclass
    except _AliasRefused as exc:
        raise InputFileError(
            f"{path}:{exc.line}: YAML anchors and aliases (&name, *name) are not accepted in a {what}: "
            "a few of them can expand a small file into billions of values. Write the values out."
        ) from None
    except yaml.YAMLError as exc:
        raise InputFileError(f"{path}: not valid YAML ({clip(exc, 400)}). Fix the syntax.") from None


def _local(value: str) -> bool:
    return "://" not in value


def _beside(base: Path, value: str) -> str:
    """``value`` (a path) relative to ``base`` unless it is absolute."""
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else Path(os.path.abspath(base / p)))


def _shipped(path: Path) -> bool:
    """Whether ``path`` is one of the job files shipped inside the package."""
    try:
        return path.resolve().is_relative_to(catalogs_dir().resolve())
    except OSError:
        return False


def load_job(path: str | Path, *, var: Path | None = None, default_store: str | None = None) -> JobSpec:
    """Parse and validate a job file; paths in it are resolved here, once.

    - ``sources`` given as paths (``my/source.yaml``) and ``region.file`` are relative to the
      job file's folder;
    - ``store``: a URI as it is; a local path relative to the job file's folder; when the job
      gives none, ``default_store``, else ``VAR/store`` (``var`` defaults to ``./var``). The
      job files shipped inside
      the package (``catalogs/jobs/``) are not the user's folder: a relative store there is
      placed under ``VAR`` by its last part (``var/store-kenya`` -> ``VAR/store-kenya``).
    """
    p = Path(path)
    data = _read_yaml(p, "job file")
    try:
        job = JobSpec.model_validate(data)
    except ValidationError as exc:
        raise InputFileError(_validation_message(p, exc)) from None
    base, home = p.parent, var if var is not None else Path("var")
    upd: dict[str, Any] = {
        "sources": [_beside(base, s) if Path(s).suffix else s for s in job.sources],
    }
    if "store" not in job.model_fields_set:
        upd["store"] = default_store or str(home / "store")
    elif _local(job.store) and not Path(job.store).expanduser().is_absolute():
        upd["store"] = str(home / Path(job.store).name) if _shipped(p) else _beside(base, job.store)
    if job.region.file is not None:
        region = job.region.model_copy(update={"file": Path(_beside(base, str(job.region.file)))})
        upd["region"] = region
    return job.model_copy(update=upd)


def load_source(name_or_path: str) -> SourceDef:
    """A source definition by name (``catalogs/sources/NAME.yaml``) or path."""
    p = Path(name_or_path)
    if not p.suffix:
        p = catalogs_dir() / "sources" / f"{name_or_path}.yaml"
    if not p.exists():
        known = sorted(q.stem for q in (catalogs_dir() / "sources").glob("*.yaml"))
        raise InputFileError(
            f"source {quote(name_or_path)}: no definition at {clip(p)}. Known sources: {', '.join(known)}."
        )
    try:
        return SourceDef.model_validate(_read_yaml(p, "source definition"))
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
