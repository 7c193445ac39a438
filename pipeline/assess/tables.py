"""The IPCC 2019 Tier 1 tables (``catalogs/ipcc/tier1_2019.yaml``): loaded, validated, looked up."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipeline.errors import PipelineError
from pipeline.paths import catalogs_dir

# The vocabulary (issue #17), declared once (kernels.climate_zone.ZONES names the same zones in the
# same order; a test checks): the Literal types validate files and requests,
# the tuples list the allowed values in messages.
ClimateZone = Literal[
    "tropical_montane",
    "tropical_wet",
    "tropical_moist",
    "tropical_dry",
    "warm_temperate_moist",
    "warm_temperate_dry",
    "cool_temperate_moist",
    "cool_temperate_dry",
    "boreal_moist",
    "boreal_dry",
    "polar_moist",
    "polar_dry",
]
SoilType = Literal["HAC", "LAC", "sandy", "spodic", "volcanic", "wetland", "organic"]
LandUse = Literal[
    "cropland_annual",
    "cropland_paddy_rice",
    "cropland_perennial",
    "cropland_set_aside",
    "grassland",
    "forest",
]
CLIMATE_ZONES: tuple[str, ...] = get_args(ClimateZone)
ORGANIC = "organic"
SOIL_TYPES: tuple[str, ...] = tuple(s for s in get_args(SoilType) if s != ORGANIC)  # mineral soils
LAND_USES: tuple[str, ...] = get_args(LandUse)
FactorKind = Literal["F_LU", "F_MG", "F_I"]


class AssessError(PipelineError):
    """Bad input to an assessment: names the ``parameter`` at fault and the ``allowed`` values."""

    def __init__(self, message: str, *, parameter: str | None = None, allowed: Any = None) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.allowed = allowed


def unknown(parameter: str, got: object, allowed: tuple[str, ...] | list[str], fix: str = "") -> AssessError:
    """The error for a name outside the vocabulary: lists the allowed values."""
    shown = repr(got)[:100]
    return AssessError(
        f"{parameter}: expected one of {', '.join(allowed)}; got {shown}. "
        + (fix or "Use one of the listed names (IPCC 2019 vocabulary, see catalogs/ipcc/tier1_2019.yaml)."),
        parameter=parameter,
        allowed=list(allowed),
    )


class Citation(BaseModel):
    model_config = ConfigDict(extra="allow")
    volume: int
    chapter: int
    table: str
    row: str | None = None
    title: str | None = None
    edition: str | None = None


Pair = tuple[float, float]


class SocRef(BaseModel):
    citation: Citation
    unit: str
    values: dict[str, dict[str, Pair]]

    @model_validator(mode="after")
    def _names(self) -> SocRef:
        for zone, row in self.values.items():
            if zone not in CLIMATE_ZONES:
                raise ValueError(f"soc_ref: unknown climate zone {zone!r}")
            for soil, (value, pct) in row.items():
                if soil not in SOIL_TYPES or not (0 < value < 500) or not (0 <= pct <= 200):
                    raise ValueError(f"soc_ref.{zone}.{soil}: bad entry {value}, {pct}")
        return self


class FactorRecord(BaseModel):
    factor: FactorKind
    land_use: str
    level: str
    citation: Citation
    values: dict[str, Pair]
    disputed: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _names(self) -> FactorRecord:
        if self.land_use not in LAND_USES:
            raise ValueError(f"factor record: unknown land use {self.land_use!r}")
        for zone, (value, pct) in self.values.items():
            if zone not in CLIMATE_ZONES or not (0 < value < 3) or not (0 <= pct <= 200):
                raise ValueError(f"{self.factor} {self.level}: bad entry {zone}: {value}, {pct}")
        return self


class LandUseLevels(BaseModel):
    management: list[str]
    input: list[str]
    input_only_with: str | None = None


class TablesFile(BaseModel):
    edition: str
    equation: str
    depth_cm: int
    transition_years: int = Field(gt=0)
    uncertainty: str
    soc_ref: SocRef
    factors: list[FactorRecord]
    land_uses: dict[str, LandUseLevels]


class Factor(BaseModel):
    """One default used: its value, ± % (95 %), and where it comes from."""

    factor: str
    level: str
    value: float
    uncertainty_pct: float
    reference: str
    disputed: str | None = None


class Tables:
    """The validated tables and their look-ups."""

    def __init__(self, data: TablesFile) -> None:
        self.data = data
        self.D = data.transition_years
        self.edition = data.edition
        self._factors: dict[tuple[str, str, str], FactorRecord] = {
            (r.factor, r.land_use, r.level): r for r in data.factors
        }

    def _ref(self, c: Citation) -> str:
        row = f", row '{c.row}'" if c.row else ""
        return f"{self.edition} Ch. {c.chapter} Table {c.table}{row}"

    def soc_ref(self, climate_zone: str, soil_type: str) -> Factor:
        """SOC_REF (t C/ha, 0-30 cm) for a climate zone and a soil class (Table 2.3)."""
        check_zone(climate_zone)
        if soil_type == ORGANIC:
            raise AssessError(
                "soil_type: 'organic' soils are not mineral soils: IPCC Tier 1 gives them an emission "
                "factor per hectare of drained organic soil (2019 Refinement Vol. 4 Ch. 2 Table 2.5), "
                "not Eq. 2.25's stock-change factors, and this tool does not assess them. Give a "
                f"mineral soil class ({', '.join(SOIL_TYPES)}) or assess the organic soil separately.",
                parameter="soil_type",
                allowed=list(SOIL_TYPES),
            )
        if soil_type not in SOIL_TYPES:
            raise unknown("soil_type", soil_type, SOIL_TYPES)
        row = self.data.soc_ref.values.get(climate_zone, {})
        if soil_type not in row:
            raise AssessError(
                f"soil_type: Table 2.3 (2019) gives no reference stock for {soil_type} soils in the "
                f"{climate_zone} zone (the cell is empty); expected one of {', '.join(row)} there. "
                "Check the soil class or the climate zone.",
                parameter="soil_type",
                allowed=list(row),
            )
        value, pct = row[soil_type]
        c = self.data.soc_ref.citation
        ref = f"{self.edition} Ch. {c.chapter} Table {c.table}, row '{climate_zone}', column '{soil_type}'"
        return Factor(factor="SOC_REF", level=soil_type, value=value, uncertainty_pct=pct, reference=ref)

    def factor(self, kind: str, land_use: str, level: str, climate_zone: str, parameter: str) -> Factor:
        rec = self._factors[(kind, land_use, level)]  # levels were checked by state_factors
        if climate_zone not in rec.values:
            raise AssessError(
                f"{parameter}: Table {rec.citation.table} gives no {kind} for {land_use} "
                f"'{level}' in the {climate_zone} zone; it covers {', '.join(rec.values)}. Choose "
                "another land use or check the climate zone.",
                parameter=parameter,
                allowed=list(rec.values),
            )
        value, pct = rec.values[climate_zone]
        return Factor(
            factor=kind,
            level=level,
            value=value,
            uncertainty_pct=pct,
            reference=self._ref(rec.citation),
            disputed=rec.disputed.get(climate_zone),
        )

    def state_factors(self, state: dict[str, Any], climate_zone: str, where: str) -> list[Factor]:
        """F_LU, F_MG, F_I of a state ``{land_use, management?, input?}``; refuses unknown names
        and combinations the tables do not define (never defaults them)."""
        check_zone(climate_zone)
        lu = state.get("land_use")
        if lu not in LAND_USES:
            raise unknown(f"{where}.land_use", lu, LAND_USES)
        levels = self.data.land_uses[lu]
        mg, inp = state.get("management"), state.get("input")
        out = [self.factor("F_LU", lu, lu, climate_zone, f"{where}.land_use")]
        if not levels.management:
            for key, val in (("management", mg), ("input", inp)):
                if val is not None:
                    raise AssessError(
                        f"{where}.{key}: the IPCC tables define no {key} factor for {lu} (Table 5.5 "
                        f"applies tillage and input factors to annual cropland, Table 6.2 to "
                        f"grassland); got {val!r}. Leave {key} out for {lu}.",
                        parameter=f"{where}.{key}",
                        allowed=[],
                    )
            return out
        if mg is None:
            raise AssessError(
                f"{where}.management: required for {lu}; expected one of {', '.join(levels.management)}.",
                parameter=f"{where}.management",
                allowed=levels.management,
            )
        if mg not in levels.management:
            raise unknown(
                f"{where}.management",
                mg,
                levels.management,
                f"These are the {lu} management levels the IPCC tables define (a tillage factor for "
                "grassland, or a grazing factor for cropland, is not defined).",
            )
        out.append(self.factor("F_MG", lu, mg, climate_zone, f"{where}.management"))
        if levels.input_only_with is not None and mg != levels.input_only_with:
            if inp is not None:
                raise AssessError(
                    f"{where}.input: Table 6.2 gives {lu} input factors for '{levels.input_only_with}' "
                    f"management only; got input {inp!r} with management {mg!r}. Leave input out, or "
                    f"use management '{levels.input_only_with}'.",
                    parameter=f"{where}.input",
                    allowed=[],
                )
            return out
        if inp is None:
            raise AssessError(
                f"{where}.input: required for {lu} with management {mg!r}; expected one of "
                f"{', '.join(levels.input)}.",
                parameter=f"{where}.input",
                allowed=levels.input,
            )
        if inp not in levels.input:
            raise unknown(f"{where}.input", inp, levels.input)
        out.append(self.factor("F_I", lu, inp, climate_zone, f"{where}.input"))
        return out


def check_zone(climate_zone: object) -> None:
    if climate_zone not in CLIMATE_ZONES:
        raise unknown("climate_zone", climate_zone, CLIMATE_ZONES, "IPCC 2019 Vol. 4 Ch. 3 Annex 3A.5 zones.")


def soil_classes(zone: str, clay_pct: float | None = None, t: Tables | None = None) -> tuple[list[str], str]:
    """The mineral soil classes Table 2.3 (2019) gives a reference stock for in ``zone``, less the
    sandy class where a clay content of >= 8 % rules it out (IPCC's sandy: > 70 % sand and < 8 %
    clay; the cube holds no sand, so it cannot rule sandy in), and a sentence saying so (empty if
    nothing was ruled out). The rule of the ex-ante assessment's soil-class range
    (``pipeline.assess.run``, soil_type not given)."""
    check_zone(zone)
    row = (t or load_tables()).data.soc_ref.values[zone]
    soils = [s for s in SOIL_TYPES if s in row]
    if clay_pct is not None and clay_pct >= 8.0 and "sandy" in soils and len(soils) > 1:
        soils.remove("sandy")
        return soils, (
            f" The location's clay ({clay_pct:.1f} %) rules out the sandy class (IPCC: < 8 % clay and > 70 % sand)."
        )
    return soils, ""


def tables_path() -> Path:
    return catalogs_dir() / "ipcc" / "tier1_2019.yaml"


@functools.cache
def load_tables(path: Path | None = None) -> Tables:
    """The validated tables (cached); a malformed file is a PipelineError naming it."""
    p = path or tables_path()
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        return Tables(TablesFile.model_validate(raw))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise PipelineError(
            f"the IPCC tables {p} could not be read: {str(exc)[:300]}. Expected the file shipped in "
            "catalogs/ipcc; reinstall the package or fix the file."
        ) from None
