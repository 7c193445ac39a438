"""The unit registry, one case per source definition, and the shipped schemas."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import JobSpec, SourceDef, load_job, load_source
from pipeline.ingest.units import UnitError, conversion, convert

SOURCES = Path("catalogs/sources")


def canonical(source: str, variable: str, stored: float, *, stac_scale: float = 1.0) -> float:
    """What the pipeline makes of a stored number: STAC scale first, then the registry."""
    s = load_source(source)
    v = s.variables[variable]
    scale = v.scale if v.scale is not None else stac_scale
    offset = v.offset or 0.0
    return float(convert(np.array([stored * scale + offset], dtype=np.float64), v.unit, variable)[0])


@pytest.mark.parametrize(
    ("source", "variable", "stored", "stac_scale", "expected"),
    [
        # demo catalog: raster:bands carry SoilGrids' scale factors, the registry is identity
        ("demo-soilgrids", "soc", 123, 0.1, 12.3),
        ("demo-soilgrids", "bdod", 145, 0.01, 1.45),
        ("demo-soilgrids", "cfvo", 150, 0.001, 0.15),
        ("demo-soilgrids", "clay", 234, 0.1, 23.4),
        ("demo-worldcover", "landcover", 40, 1.0, 40),
        ("demo-ndvi", "ndvi", 6543, 0.0001, 0.6543),
        ("demo-climate", "tas", 1234, 0.01, 12.34),
        ("demo-climate", "pr", 654, 0.1, 65.4),
        # real catalogs
        ("openlandmap-soil", "soc", 12, 1.0, 60.0),  # "x 5 g/kg"
        ("pc-gnatsgo", "soc_stock_src", 4500, 1.0, 45.0),  # g C/m2 -> t C/ha
        # OpenLandMap-soildb SOC density 0-30 cm: 300 x 0.1 = 30 kg/m3 x 0.30 m = 9 kg/m2 = 90 t/ha
        ("openlandmap-soildb", "soc_stock_src", 300, 1.0, 90.0),
        ("pc-esa-worldcover", "landcover", 10, 1.0, 10),
        ("pc-modis-ndvi", "ndvi", 5000, 0.0001, 0.5),  # MODIS raster:bands scale
    ],
)
def test_each_source_converts_to_canonical_units(source, variable, stored, stac_scale, expected):
    assert canonical(source, variable, stored, stac_scale=stac_scale) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("unit", "variable", "value", "expected"),
    [
        ("dg/kg", "soc", 123.0, 12.3),  # SoilGrids soc integers
        ("cg/cm3", "bdod", 145.0, 1.45),  # SoilGrids bdod
        ("cm3/dm3", "cfvo", 150.0, 0.15),  # SoilGrids cfvo to a fraction
        ("g/kg", "clay", 234.0, 23.4),  # SoilGrids clay to %
        ("10 kg/m3", "bdod", 140.0, 1.4),  # OpenLandMap bulk density
        ("K", "tas", 283.15, 10.0),
        ("%", "soc", 1.2, 12.0),
    ],
)
def test_registry_conversions(unit, variable, value, expected):
    assert float(convert(np.array([value]), unit, variable)[0]) == pytest.approx(expected)


def test_registry_refuses_what_it_does_not_know():
    with pytest.raises(UnitError, match="Known units for ndvi: 1"):
        conversion("cm3/dm3", "ndvi")  # a cfvo unit, meaningless for NDVI
    with pytest.raises(UnitError, match="not a canonical variable"):
        conversion("g/kg", "nitrogen")
    assert np.isnan(convert(np.array([np.nan]), "dg/kg", "soc")[0])
    # a density over 0-30 cm is a stock only for the direct-stock variables
    with pytest.raises(UnitError, match="Known units for bdod"):
        conversion("kg C/m3 over 0-30 cm", "bdod")


def test_every_shipped_source_and_job_validates():
    names = sorted(p.stem for p in SOURCES.glob("*.yaml"))
    assert {
        "demo-soilgrids",
        "openlandmap-soil",
        "pc-gnatsgo",
        "pc-esa-worldcover",
        "pc-modis-ndvi",
        "earth-search-s2-ndvi",
    } <= set(names)
    for n in names:
        assert isinstance(load_source(n), SourceDef)
    for job in Path("catalogs/jobs").glob("*.yaml"):
        assert isinstance(load_job(job), JobSpec)


def test_committed_schemas_match_the_models():
    for name, model in (("job", JobSpec), ("source", SourceDef)):
        committed = json.loads(Path(f"catalogs/schemas/{name}.schema.json").read_text())
        assert committed == model.model_json_schema(), f"run `socobs schema` to refresh {name}"
