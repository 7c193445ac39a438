"""A project: activities (area and three states each), the phases, and what the user says about
costs. Read from a dict (the API's JSON, a YAML file) and checked before anything is computed."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipeline.assess.tables import AssessError, ClimateZone, LandUse, SoilType

MAX_AREA_HA = 1e9  # more than any country's agricultural land (China's is ~5.3e8 ha)
MAX_YEARS = 100
MAX_ACTIVITIES = 100
MAX_DRAWS = 10_000
MAX_FILE_BYTES = 1_000_000

Adoption = Literal["linear", "immediate", "exponential"]


class State(BaseModel):
    """A land-use state; management and input as the tables define them for the land use."""

    model_config = ConfigDict(extra="forbid")
    land_use: LandUse
    management: str | None = Field(default=None, max_length=64)
    input: str | None = Field(default=None, max_length=64)


class Activity(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="activity", max_length=200)
    area_ha: float = Field(gt=0, le=MAX_AREA_HA, description="Area in hectares, > 0 and <= 1e9.")
    climate_zone: ClimateZone | None = None
    soil_type: SoilType | None = None
    baseline: State
    without_project: State | None = Field(
        default=None, description="Business as usual; the baseline when absent."
    )
    project: State


class Location(BaseModel):
    """A point (WGS84 degrees): the climate zone and, with ``reference: measured``, the reference
    stock come from the observatory's cube there (``pipeline.assess.location``)."""

    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


Reference = Literal["ipcc_default", "measured"]


class SocioEconomic(BaseModel):
    """What the user gives; reported, and divided by area or balance, never invented."""

    model_config = ConfigDict(extra="forbid")
    currency: str = Field(default="USD", max_length=8)
    cost_total: float | None = Field(default=None, ge=0, le=1e13)
    yield_change_pct: float | None = Field(default=None, ge=-100, le=1000)
    labour_days_per_ha_yr: float | None = Field(default=None, ge=0, le=366)
    notes: str | None = Field(default=None, max_length=2000)


class Project(BaseModel):
    """A project: one or more activities over ``years`` (= implementation + capitalisation)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="project", max_length=200)
    climate_zone: ClimateZone | None = None
    soil_type: SoilType | None = Field(
        default=None,
        description="IPCC soil class; when absent (here and on an activity) the answer is the range over "
        "the classes Table 2.3 gives for the climate zone, with each class's result.",
    )
    location: Location | None = Field(
        default=None, description="A point: the climate zone (when not given) from the observatory's cube."
    )
    reference: Reference = Field(
        default="ipcc_default",
        description="SOC_REF from Table 2.3 (ipcc_default) or from the observatory's measured baseline "
        "stock at the location (measured; needs location).",
    )
    years: int = Field(ge=1, le=MAX_YEARS, description="Accounting period in years (1-100).")
    implementation_years: int = Field(default=0, ge=0, le=MAX_YEARS)
    adoption: Adoption = "linear"
    activities: list[Activity] = Field(min_length=1, max_length=MAX_ACTIVITIES)
    monte_carlo_draws: int = Field(default=1000, ge=0, le=MAX_DRAWS)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    socio_economic: SocioEconomic | None = None

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, data: Any) -> Any:
        """The minimal request: ``area_ha``, ``baseline``, ``project`` at the top = one activity."""
        if isinstance(data, dict) and "activities" not in data and "area_ha" in data:
            data = dict(data)
            act = {k: data.pop(k) for k in ("area_ha", "baseline", "without_project", "project") if k in data}
            data["activities"] = [act]
        return data

    @model_validator(mode="after")
    def _phases(self) -> Project:
        if self.implementation_years > self.years:
            raise ValueError(
                f"implementation_years ({self.implementation_years}) must not exceed years "
                f"({self.years}): years is the whole accounting period (implementation + capitalisation)"
            )
        if self.reference == "measured" and self.location is None:
            raise ValueError("reference 'measured' needs a location (lat, lon) to read the stock at")
        for i, a in enumerate(self.activities):
            if (a.climate_zone or self.climate_zone) is None and self.location is None:
                raise ValueError(
                    f"activities[{i}]: climate_zone is required (on the project or the activity), "
                    "or a location to take it from the observatory's cube"
                )
        return self

    @property
    def capitalisation_years(self) -> int:
        return self.years - self.implementation_years


def validation_message(exc: ValidationError, source: str = "the project") -> AssessError:
    """One paragraph from pydantic's errors: where, what was expected, what was received."""
    errs = exc.errors()
    parts = []
    for e in errs[:5]:
        loc = ".".join(str(p) for p in e.get("loc", ())) or "project"
        got = e.get("input")
        shown = "" if isinstance(got, (dict, list)) or got is None else f" (got {repr(got)[:80]})"
        parts.append(f"{loc}: {e.get('msg', 'invalid')}{shown}")
    more = f" and {len(errs) - 5} more" if len(errs) > 5 else ""
    loc0 = errs[0].get("loc", ()) if errs else ()
    ctx0 = (errs[0].get("ctx") or {}) if errs else {}
    param = ".".join(str(p) for p in loc0) or None
    return AssessError(
        f"{source} is not a valid project: "
        + "; ".join(parts)
        + more
        + ". See catalogs/projects/example.yaml "
        "for the expected form (areas in ha > 0 and <= 1e9, years 1-100, IPCC 2019 names).",
        parameter=param,
        allowed=ctx0.get("expected"),
    )


def parse_project(data: Any, source: str = "the project") -> Project:
    try:
        return Project.model_validate(data)
    except ValidationError as exc:
        raise validation_message(exc, source) from None


def read_project(path: Path) -> Project:
    """A project YAML (or JSON) file; a missing or malformed file is one paragraph."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise AssessError(
                f"the project file {path} has {size:,} bytes; expected at most {MAX_FILE_BYTES:,} "
                f"(a project holds at most {MAX_ACTIVITIES} activities). Check that this is the project file."
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AssessError(
            f"the project file {path} could not be read ({type(exc).__name__}: {str(exc)[:200]}). "
            "Expected a readable YAML file such as catalogs/projects/example.yaml."
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise AssessError(
            f"the project file {path} is not valid YAML: {str(exc)[:300]}. Fix the syntax "
            "(see catalogs/projects/example.yaml)."
        ) from None
    if not isinstance(data, dict):
        raise AssessError(
            f"the project file {path} should hold a mapping (name, climate_zone, soil_type, years, "
            f"activities ...); got {type(data).__name__}. See catalogs/projects/example.yaml."
        )
    return parse_project(data, f"the project file {path}")
