"""Response and request models (they are the OpenAPI schema; schemathesis checks answers against it)."""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from observatory_api.render import COLORMAPS
from pipeline.indicators.registry import INDICATORS, STRATA
from pipeline.regions.hierarchy import LEVELS

# Indicators with region-table values (series, rankings); climate_zone is a map only.
IndicatorId = Enum("IndicatorId", {i.id: i.id for i in INDICATORS if i.table_vars}, type=str)  # type: ignore[misc]
MapIndicator = Enum("MapIndicator", {i.id: i.id for i in INDICATORS if i.map_var}, type=str)  # type: ignore[misc]
Stratum = Enum("Stratum", {s: s for s in STRATA}, type=str)  # type: ignore[misc]
LevelName = Enum("LevelName", {v: v for v in LEVELS}, type=str)  # type: ignore[misc]
Colormap = Enum("Colormap", {c: c for c in COLORMAPS}, type=str)  # type: ignore[misc]


class Region(BaseModel):
    """A region of the hierarchy."""

    region_id: str
    name: str
    level: str
    parent_id: str | None
    bbox: list[float] | None = Field(
        None,
        min_length=4,
        max_length=4,
        description=(
            "[west, south, east, north] in degrees (EPSG:4326): the smallest box covering the whole "
            "region. GeoJSON/STAC convention: a box that crosses the antimeridian has west > east "
            "(Fiji: [174.6, -21.7, -178.2, -12.5]); [-180, s, 180, n] when no meridian is free of "
            "land. null for a region without geometry."
        ),
    )
    main_bbox: list[float] | None = Field(
        None,
        min_length=4,
        max_length=4,
        description=(
            "[west, south, east, north] like bbox, covering the main parts only (the box to zoom a "
            "map to): far outlying islands are left out. Parts closer than max(2, sqrt(area)/4) "
            "degrees form one cluster (area in square degrees on the sphere); the box covers the "
            "largest cluster and every cluster holding at least 25 % of the area. Africa: "
            "Madagascar, Cape Verde and Mauritius in, Saint Helena and Kerguelen out; France: "
            "Corsica in, French Guiana and Reunion out."
        ),
    )


class RegionList(BaseModel):
    count: int
    regions: list[Region]


class RegionDetail(Region):
    parent: Region | None
    children: list[Region]
    geometry: dict[str, Any] | None = Field(
        None, description="GeoJSON geometry (EPSG:4326) with ?geometry=true"
    )


class InputNotes(BaseModel):
    """What the indicator job took from the cube, what it assumed and what it could not compute
    (the indicator group's provenance attributes; ``pipeline.indicators.inputs``)."""

    stock_method: str | None = Field(None, description="content x bulk density, or direct (VARIABLE)")
    stock_inputs: list[str] = Field(default_factory=list, description="The cube variables behind the stock")
    assumptions: list[str] = Field(default_factory=list)
    not_available: dict[str, str] = Field(
        default_factory=dict, description="Indicator id (or bounds, strata, sdg15_3_1) -> why not"
    )


class IndicatorInfo(BaseModel):
    """One indicator of the registry."""

    id: str
    unit: str
    title: str
    definition: str
    reference: str
    map: bool
    columns: list[str]
    bounds: list[str] | None
    epochs: list[int]
    strata: list[str]
    not_available: str | None = Field(None, description="Why the store has no values of it (NaN)")
    bounds_not_available: str | None = Field(None, description="Why its bounds are NaN")


class MonthlySignalInfo(BaseModel):
    """One monthly signal from NDVI and its map's tiles (the newest month; ?month=YYYY-MM for another)."""

    id: str
    unit: str
    title: str
    definition: str
    map: bool
    colormap: str
    rescale: list[float] = Field(..., min_length=2, max_length=2)
    tiles: str
    tilejson: str
    legend: str
    series: str


class MonthlyCatalogue(BaseModel):
    months: list[str]
    first_month: str
    newest_month: str
    baseline: list[int]
    signals: list[MonthlySignalInfo]


class IndicatorList(BaseModel):
    snapshot_id: str
    baseline_epoch: int
    indicators: list[IndicatorInfo]
    monthly: MonthlyCatalogue | None = Field(
        None, description="The monthly signals from NDVI (absent when the store has none)"
    )
    inputs: InputNotes | None = Field(None, description="What the indicators were computed from")


class SeriesPoint(BaseModel):
    epoch: int
    value: float | None
    lower: float | None = None
    upper: float | None = None
    columns: dict[str, float | None]
    input_snapshot: str
    source_latest: str


class Series(BaseModel):
    region_id: str
    name: str
    indicator: str
    unit: str
    stratum: str
    snapshot_id: str
    series: list[SeriesPoint]
    not_available: str | None = Field(None, description="Why the values are null")
    bounds_not_available: str | None = Field(None, description="Why lower/upper are null")
    notes: list[str] = Field(default_factory=list, description="Assumptions behind the values")


class Value(BaseModel):
    value: float | None
    unit: str


class Summary(BaseModel):
    region_id: str
    name: str
    level: str
    parent_id: str | None
    stratum: str
    epoch: int
    baseline_epoch: int
    snapshot_id: str
    values: dict[str, Value]
    trend: dict[str, Value]
    progress_4p1000: Value
    on_4p1000_path: bool | None
    sh_class_shares: dict[str, float | None]
    freshness: dict[str, Any]
    inputs: InputNotes | None = Field(None, description="What the indicators were computed from")


class RankingRow(BaseModel):
    region_id: str
    name: str
    parent_id: str | None
    value: float | None
    unit: str
    rank: int | None
    tied: bool
    missing: bool


class Ranking(BaseModel):
    indicator: str
    column: str
    unit: str
    level: str
    epoch: int
    stratum: str
    order: Literal["desc", "asc"]
    snapshot_id: str
    n_missing: int
    rows: list[RankingRow]


class PointSeries(BaseModel):
    unit: str
    epochs: list[int]
    values: list[float | None]


class Point(BaseModel):
    lat: float
    lon: float
    cell: dict[str, float]
    snapshot_id: str
    maps: dict[str, PointSeries]
    seq_potential: dict[str, float | None] | None = None


class AoiRequest(BaseModel):
    """A project area and a period to assess (the impact-assessment door)."""

    geometry: dict[str, Any] = Field(..., description="GeoJSON Polygon/MultiPolygon, or a Feature of one")
    start_epoch: int | None = Field(None, description="Default: the baseline epoch")
    end_epoch: int | None = Field(None, description="Default: the latest epoch")
    ring_km: float = Field(10.0, gt=0, le=200, description="Width of the control ring around the polygon")


class AreaResult(BaseModel):
    area_km2: float
    valid_area_km2: float
    stock_start: float | None
    stock_end: float | None
    change: float | None
    rate: float | None
    rate_permille: float | None
    progress_4p1000: float | None


class AoiResult(BaseModel):
    snapshot_id: str
    start_epoch: int
    end_epoch: int
    landcover_class: int | None
    project: AreaResult
    control: AreaResult
    rate_difference: float | None = Field(None, description="project rate - control rate, t C/ha/yr")
    on_4p1000_path: bool | None
    units: dict[str, str]


class SystemChange(BaseModel):
    """Whether a system measures SOC change (catalogs/mrv_systems.yaml explains the values)."""

    measured: Literal["yes", "partly", "no", "unknown"]
    interval: str | None = Field(description="how often change is measured or estimated")
    how: str


class System(BaseModel):
    id: str
    name: str
    operator: str
    kind: str
    scale: str
    resolution: str
    period: str
    update_frequency: str
    access: list[str]
    licence: str
    indicators: list[str]
    uncertainty: str
    link: str
    link_kind: Literal["system", "organisation"]
    change: SystemChange
    unverified: list[str] = Field(description="fields not yet checked against the system's own pages")


class SystemList(BaseModel):
    count: int
    systems: list[System]


class SourceFreshness(BaseModel):
    source: str
    collection: str | None
    variables: list[str]
    latest_item: str | None
    age_days: float | None


class MonthlyFreshness(BaseModel):
    """The monthly signals from NDVI: their newest month is their freshness."""

    newest_month: str
    first_month: str
    months: int
    baseline: list[int]
    input_snapshot: str | None
    indicators: list[str]


class MonthlyPoint(BaseModel):
    month: str
    value: float | None
    valid_fraction: float | None


class MonthlySeries(BaseModel):
    region_id: str
    name: str
    indicator: str
    unit: str
    frequency: Literal["monthly"]
    definition: str
    baseline: list[int]
    input_snapshot: str | None
    snapshot_id: str
    series: list[MonthlyPoint]


class Status(BaseModel):
    snapshot_id: str
    committed_at: str
    message: str
    input_snapshot: str | None
    newest_source_item: str | None
    sources: list[SourceFreshness]
    monthly: MonthlyFreshness | None = None
    checked_at: str | None
    last_error: str | None
    poll_seconds: float
    indicator_inputs: InputNotes | None = Field(None, description="What the indicators were computed from")


class TileJson(BaseModel):
    """TileJSON 3.0.0 (https://github.com/mapbox/tilejson-spec/tree/master/3.0.0)."""

    tilejson: Literal["3.0.0"]
    name: str
    description: str
    version: str
    scheme: Literal["xyz"]
    tiles: list[str]
    minzoom: int
    maxzoom: int
    bounds: list[float] = Field(..., min_length=4, max_length=4)
    attribution: str
    tms: str


class LegendStop(BaseModel):
    value: float
    color: str = Field(..., pattern="^#[0-9a-f]{6}$")
    label: str | None = None


class Legend(BaseModel):
    indicator: str
    unit: str
    colormap: str
    stops: list[LegendStop]
    nodata: Literal["transparent"]


class StacCollection(BaseModel):
    """A STAC 1.1 collection (only the members checked here; the rest as published)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["Collection"]
    stac_version: str
    id: str
    description: str
    license: str
    extent: dict[str, Any]
    assets: dict[str, dict[str, Any]]
    links: list[dict[str, Any]]


class StacItem(BaseModel):
    """A STAC 1.1 item (only the members checked here; the rest as published)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["Feature"]
    stac_version: str
    id: str
    collection: str
    bbox: list[float]
    geometry: dict[str, Any]
    properties: dict[str, Any]
    assets: dict[str, dict[str, Any]]
    links: list[dict[str, Any]]


class StacItemCollection(BaseModel):
    """Every epoch's item (a GeoJSON FeatureCollection)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["FeatureCollection"]
    features: list[StacItem]
    links: list[dict[str, Any]]


class Health(BaseModel):
    status: str
    snapshot_id: str | None


class Refreshed(BaseModel):
    refreshed: bool
    snapshot_id: str


class Ready(BaseModel):
    status: Literal["ready"]
    snapshot_id: str


class Problem(BaseModel):
    """Every 4xx/5xx body (RFC 9457 application/problem+json)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(..., description="A tag URI naming the kind of problem")
    title: str
    status: int
    detail: str = Field(..., description="What was expected, what was received, how to fix it")
    request_id: str | None = Field(None, description="The id of the request in the server's logs")
    parameter: str | None = Field(None, description="The parameter at fault")
    allowed: Any = Field(None, description="What the parameter may be")
    errors: list[dict[str, Any]] | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown resource"},
    413: {"description": "Too large"},
    422: {"description": "Invalid parameter"},
    429: {"description": "Too many requests from this client (Retry-After)"},
    500: {"description": "Internal error; the body names the request id logged"},
    503: {"description": "No indicators to serve yet, or the store is not readable (Retry-After)"},
}


def problem_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Document every 4xx/5xx answer as application/problem+json with the Problem schema."""
    comps = schema.setdefault("components", {}).setdefault("schemas", {})
    comps["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name in ("HTTPValidationError", "ValidationError"):
        comps.pop(name, None)
    ref = {"$ref": "#/components/schemas/Problem"}
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            for code, resp in op.get("responses", {}).items():
                if code[0] in "45":
                    resp["content"] = {"application/problem+json": {"schema": ref}}
                    if code in ("429", "503"):
                        resp["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return schema
