"""The one unit registry: every conversion to the canonical units of DESIGN.md happens here.

A source states the unit of its values (after the STAC ``raster:bands`` scale/offset, if any);
``convert`` turns them into the canonical unit of the variable, ``canonical = value * factor +
offset``. A unit the registry does not know is an error that lists the ones it does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pipeline.errors import PipelineError

CANONICAL = {
    "soc": "g/kg",
    "soc_q05": "g/kg",
    "soc_q95": "g/kg",
    "bdod": "g/cm3",
    "cfvo": "1",
    "clay": "%",
    "landcover": "class",
    "ndvi": "1",
    "tas": "degC",
    "pr": "mm/month",
    "pet": "mm/month",
    "soc_stock": "t C/ha",  # a stock a product gives directly (0-30 cm), e.g. gNATSGO soc0_30
    "soc_stock_src": "t C/ha",  # the same, by DESIGN.md's name (the indicator job takes either)
}


class UnitError(PipelineError):
    """A unit the registry cannot convert."""


@dataclass(frozen=True)
class Conversion:
    factor: float
    offset: float = 0.0
    note: str = ""
    only: frozenset[str] = frozenset()  # variables it applies to (empty: any with that unit)


# (from unit, canonical unit) -> conversion. Sources in the notes.
_TABLE: dict[tuple[str, str], Conversion] = {
    ("g/kg", "g/kg"): Conversion(1.0),
    ("dg/kg", "g/kg"): Conversion(0.1, note="SoilGrids soc/ocd integers"),
    ("5 g/kg", "g/kg"): Conversion(5.0, note="OpenLandMap organic carbon, 'x 5 g / kg'"),
    ("%", "g/kg"): Conversion(10.0, note="mass percent"),
    ("g/cm3", "g/cm3"): Conversion(1.0),
    ("cg/cm3", "g/cm3"): Conversion(0.01, note="SoilGrids bdod integers"),
    ("10 kg/m3", "g/cm3"): Conversion(0.01, note="OpenLandMap bulk density, 'x 10 kg / m3'"),
    ("kg/m3", "g/cm3"): Conversion(0.001),
    ("1", "1"): Conversion(1.0),
    ("cm3/dm3", "1"): Conversion(
        0.001, note="SoilGrids cfvo integers (per mille) to a fraction", only=frozenset({"cfvo"})
    ),
    ("%", "1"): Conversion(0.01, note="volume percent to a fraction", only=frozenset({"cfvo"})),
    ("%", "%"): Conversion(1.0),
    ("g/kg", "%"): Conversion(0.1, note="SoilGrids clay integers, g/kg to mass percent"),
    ("class", "class"): Conversion(1.0),
    ("degC", "degC"): Conversion(1.0),
    ("K", "degC"): Conversion(1.0, -273.15),
    ("mm/month", "mm/month"): Conversion(1.0),
    ("t C/ha", "t C/ha"): Conversion(1.0, note="SoilGrids ocs 0-30 cm (t/ha)"),
    ("t/ha", "t C/ha"): Conversion(
        1.0, note="SoilGrids ocs, unit spelled t/ha", only=frozenset({"soc_stock", "soc_stock_src"})
    ),
    ("g C/m2", "t C/ha"): Conversion(0.01, note="gNATSGO soc0_30: 1 g/m2 = 0.01 t/ha"),
    ("kg C/m2", "t C/ha"): Conversion(10.0),
    # A carbon density (kg C per m3 of soil, coarse fragments excluded) that is a block mean over
    # 0-30 cm: x 0.30 m = kg C/m2 over the layer, x 10 = t C/ha. Only for the direct stock, and
    # the unit names its interval so the factor cannot be applied to another depth.
    ("kg C/m3 over 0-30 cm", "t C/ha"): Conversion(
        3.0,
        note="OpenLandMap-soildb SOC density 0-30 cm (oc_iso.10694.1995.mg.cm3, kg/m3 = mg/cm3)",
        only=frozenset({"soc_stock", "soc_stock_src"}),
    ),
}


def conversion(unit: str, variable: str) -> Conversion:
    """The conversion of ``unit`` to ``variable``'s canonical unit, or a UnitError."""
    if variable not in CANONICAL:
        raise UnitError(
            f"variable {variable!r} is not a canonical variable; expected one of {', '.join(CANONICAL)}."
        )
    target = CANONICAL[variable]
    conv = _TABLE.get((unit, target))
    if conv is not None and (not conv.only or variable in conv.only):
        return conv
    known = sorted(u for (u, t), c in _TABLE.items() if t == target and (not c.only or variable in c.only))
    raise UnitError(
        f"unit {unit!r} of {variable!r}: the registry cannot convert it to {target!r}. "
        f"Known units for {variable}: {', '.join(known)}. Fix the source definition's unit, "
        "or add the conversion to pipeline/ingest/units.py (with a test)."
    )


def convert(values: NDArray[np.floating], unit: str, variable: str) -> NDArray[np.floating]:
    """``values`` in ``unit`` as ``variable``'s canonical unit (NaN stays NaN)."""
    c = conversion(unit, variable)
    if c.factor == 1.0 and c.offset == 0.0:
        return values
    return values * values.dtype.type(c.factor) + values.dtype.type(c.offset)
