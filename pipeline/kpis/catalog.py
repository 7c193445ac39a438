"""The Strategic Plan's objectives and their KPIs (``catalogs/kpis/objectives.yaml``), read and checked.

The file is data: the 24 objectives A1-F3 with the baseline 2020 and the targets 2030 and 2050
quoted as written, each with at least one KPI (definition, unit, how it is obtained, baseline
value and numeric targets where the text gives them, observations). Its JSON Schema is
``catalogs/schemas/kpis.schema.json``, generated from the models below (``socobs kpi schema``).
Beyond the schema, ``load_catalog`` checks what a schema cannot: the 24 codes in order, each KPI
id under its objective and unique, ``computed`` KPIs naming a known computation, ranges in order.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.errors import PipelineError, clip, quote
from pipeline.paths import catalogs_dir

CODES = tuple(
    f"{goal}{n}"
    for goal, count in (("A", 6), ("B", 4), ("C", 4), ("D", 4), ("E", 3), ("F", 3))
    for n in range(1, count + 1)
)
# what the observatory computes itself (pipeline.kpis.computed implements each)
COMPUTATIONS = (
    "countries_with_soc_data",
    "countries_on_4p1000_path",
    "cropland_significant_increase",
    "global_soc_change_rate",
    "mrv_systems",
    "mrv_operators",
    "objectives_with_kpi_value",
    # from the registry of projects (pipeline.registry.kpis)
    "registry_projects_registered",
    "registry_projects_assessed",
    "registry_projects_in_line",
    "registry_project_area_ha",
    "registry_expected_removals",
    "registry_projects_observed",
    "registry_observed_rate_difference",
)
DATE_PATTERN = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"
SCHEMA_PATH = Path("schemas") / "kpis.schema.json"


class KpiCatalogError(PipelineError):
    """The objectives file is missing, malformed, or breaks the catalog's rules."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Baseline(_Strict):
    """The KPI's value in the baseline as the text gives it: a number, a range, or only words."""

    value: float | None = Field(None, description="The baseline as a number, where the text gives one")
    low: float | None = Field(None, description='Lower bound where the text gives a range ("5 to 10")')
    high: float | None = Field(None, description="Upper bound of the range")
    out_of: float | None = Field(None, description="The population counted (A1: 196 NDCs)")
    date: str = Field(pattern=DATE_PATTERN, description="When it held: YYYY, YYYY-MM or YYYY-MM-DD")
    quote: str = Field(min_length=1, description="The sentence of the source the value comes from")


class Target(_Strict):
    """A numeric target and the words it is read from."""

    value: float = Field(description="The number progress is measured against")
    low: float | None = None
    high: float | None = None
    basis: str = Field(min_length=1, description="The words of the target this number is read from")


class Observation(_Strict):
    """One recorded value of a KPI."""

    value: float
    date: str = Field(pattern=DATE_PATTERN, description="YYYY, YYYY-MM or YYYY-MM-DD")
    source: str = Field(min_length=1)
    note: str = ""
    recorded_by: str = Field(min_length=1)


class Kpi(_Strict):
    id: str = Field(pattern=r"^[a-f][1-6]_[a-z0-9_]{1,60}$")
    name: str = Field(min_length=1)
    definition: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    obtained: Literal["computed", "recorded"]
    computation: str | None = Field(None, description="For computed KPIs: what computes it")
    baseline: Baseline | None = None
    target_2030: Target | None = None
    target_2050: Target | None = None
    observations: list[Observation] = Field(default_factory=list)


class Source(_Strict):
    document: Literal["plan", "task forces"] = Field(
        description="plan: the Strategic Plan 2022; task forces: the page creating the Task Forces"
    )
    section: str = Field(min_length=1)
    pages: str | None = None


class Objective(_Strict):
    code: str = Field(pattern=r"^[A-F][1-6]$")
    goal: Literal["A", "B", "C", "D", "E", "F"]
    title: str = Field(min_length=1)
    aim: str | None = Field(None, description="The plan's TITLE sentence (goals A, E, F)")
    facility: Literal["CF", "GF"] = Field(description="CF: Core Facility, GF: Global Facility")
    description: str = Field(min_length=1)
    baseline_2020: str = Field(min_length=1, description="As written in the source")
    target_2030: str = Field(min_length=1, description="As written in the source")
    target_2050: str = Field(min_length=1, description="As written in the source")
    source: Source
    notes: str | None = None
    kpis: list[Kpi] = Field(min_length=1)


class Catalog(_Strict):
    """The objectives file: ``catalogs/kpis/objectives.yaml``."""

    objectives: list[Objective] = Field(min_length=1)

    def kpi(self, kpi_id: str) -> tuple[Objective, Kpi] | None:
        for o in self.objectives:
            for k in o.kpis:
                if k.id == kpi_id:
                    return o, k
        return None

    @property
    def kpi_ids(self) -> list[str]:
        return [k.id for o in self.objectives for k in o.kpis]


def default_path() -> Path:
    return catalogs_dir() / "kpis" / "objectives.yaml"


def _problems(cat: Catalog) -> list[str]:
    out = []
    codes = tuple(o.code for o in cat.objectives)
    if codes != CODES:
        out.append(
            f"objectives: expected the 24 codes {', '.join(CODES)} in this order, got {', '.join(codes)}"
        )
    seen: set[str] = set()
    for o in cat.objectives:
        if o.goal != o.code[0]:
            out.append(f"{o.code}: goal {o.goal!r} does not match the code")
        for k in o.kpis:
            where = f"{o.code}.{k.id}"
            if not k.id.startswith(o.code.lower() + "_"):
                out.append(f"{where}: a KPI id starts with its objective's code ({o.code.lower()}_)")
            if k.id in seen:
                out.append(f"{where}: the id is used twice")
            seen.add(k.id)
            if (k.obtained == "computed") != (k.computation is not None):
                out.append(f"{where}: a computed KPI names its computation, a recorded one none")
            if k.computation is not None and k.computation not in COMPUTATIONS:
                out.append(f"{where}: computation {k.computation!r} is not one of {', '.join(COMPUTATIONS)}")
            ranges = [
                (k.baseline, "baseline"),
                (k.target_2030, "target_2030"),
                (k.target_2050, "target_2050"),
            ]
            for r, name in ranges:
                if r is not None and r.low is not None and r.high is not None and r.low > r.high:
                    out.append(f"{where}.{name}: low {r.low:g} is above high {r.high:g}")
            if k.baseline is not None and k.baseline.value is None and k.baseline.low is None:
                out.append(f"{where}.baseline: give a value or a low/high range (or leave the baseline out)")
    return out


def parse_catalog(data: Any, where: str = "the objectives file") -> Catalog:
    """Validate ``data`` (the parsed YAML) as the catalog; KpiCatalogError names every problem."""
    try:
        cat = Catalog.model_validate(data)
    except ValidationError as exc:
        parts = []
        for err in exc.errors()[:10]:
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            parts.append(f"{loc}: {err['msg']} (got {quote(err.get('input'), 80)})")
        more = f"; and {exc.error_count() - 10} more" if exc.error_count() > 10 else ""
        raise KpiCatalogError(
            f"{where}: expected the objectives and KPIs described by catalogs/schemas/kpis.schema.json; "
            f"invalid fields -- {'; '.join(parts)}{more}. Fix them (or restore the shipped file)."
        ) from None
    problems = _problems(cat)
    if problems:
        raise KpiCatalogError(
            f"{where}: the objectives file breaks the catalog's rules -- {'; '.join(problems[:10])}. "
            "Fix these entries (or restore the shipped file)."
        )
    return cat


def read_catalog(path: Path) -> Catalog:
    """The catalog at ``path``, read and checked."""
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        raise KpiCatalogError(
            f"{clip(path)}: no objectives file there. Expected catalogs/kpis/objectives.yaml (shipped "
            "with the package, or under $SOCOBS_CATALOGS); reinstall or unset SOCOBS_CATALOGS."
        ) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KpiCatalogError(
            f"{clip(path)}: expected the objectives file as UTF-8 YAML, could not read it "
            f"({clip(exc, 200)}). Fix the file or restore the shipped one."
        ) from None
    return parse_catalog(data, clip(str(path)))


@functools.cache
def load_catalog() -> Catalog:
    """The shipped (or ``$SOCOBS_CATALOGS``) catalog, read once per process."""
    return read_catalog(default_path())


def schema() -> dict[str, Any]:
    """The JSON Schema of the objectives file."""
    out = Catalog.model_json_schema()
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["title"] = "The 4 per 1000 Strategic Plan's objectives and KPIs"
    return out


def write_schema(directory: Path) -> Path:
    """Write ``kpis.schema.json`` into ``directory``."""
    path = directory / SCHEMA_PATH.name
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise KpiCatalogError(
            f"--out {clip(directory)}: expected a directory this user can write, could not write "
            f"{path.name} there ({exc.strerror or exc}). Choose another --out."
        ) from None
    return path
