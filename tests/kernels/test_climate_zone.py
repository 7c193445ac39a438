"""Climate zones against hand-worked cells of the IPCC decision tree (Vol. 4 Ch. 3 Annex 3A.5)."""

from __future__ import annotations

import numpy as np
import pytest

from kernels.climate_zone import ZONES, climate_zone, zone_name
from kernels.errors import KernelInputError


def _cell(mat: float, map_mm: float, pet_mm: float, warm: float | None = None) -> tuple:
    """12 months whose mean is exactly ``mat`` (the warmest at ``warm`` when given, one month as
    much below), the year's rain and PET in one month (sums exact in floating point)."""
    t = np.full(12, mat, dtype=float)
    if warm is not None:
        t[0], t[1] = warm, 2 * mat - warm
    p, e = np.zeros(12), np.zeros(12)
    p[6], e[6] = map_mm, pet_mm
    return t, p, e


# (MAT, MAP, PET, warmest month, elevation) -> zone, each worked by hand from the thresholds
CASES = [
    ((26.0, 2500.0, 1500.0, None, 200.0), "tropical_wet"),
    ((26.0, 1500.0, 1500.0, None, np.nan), "tropical_moist"),
    ((26.0, 600.0, 1800.0, None, 300.0), "tropical_dry"),
    ((22.0, 600.0, 1800.0, None, 1800.0), "tropical_montane"),  # elevation decides before rain
    ((18.0, 2500.0, 900.0, None, 10.0), "warm_temperate_moist"),  # MAT 18 is not > 18
    ((14.0, 400.0, 1200.0, None, 10.0), "warm_temperate_dry"),
    ((10.0, 800.0, 600.0, None, 10.0), "cool_temperate_moist"),  # MAT 10 is not > 10
    ((5.0, 300.0, 700.0, None, 10.0), "cool_temperate_dry"),
    ((-3.0, 500.0, 300.0, 14.0, 10.0), "boreal_moist"),  # a month above 10 °C
    ((-3.0, 200.0, 400.0, 14.0, 10.0), "boreal_dry"),
    ((-12.0, 300.0, 100.0, 8.0, 10.0), "polar_moist"),  # no month above 10 °C
    ((-12.0, 100.0, 200.0, 8.0, 10.0), "polar_dry"),
    ((0.0, 100.0, 200.0, 15.0, 10.0), "boreal_dry"),  # MAT 0 is not > 0
    ((5.0, 700.0, 700.0, None, 10.0), "cool_temperate_dry"),  # MAP/PET = 1 is not > 1
    ((5.0, 100.0, 0.0, None, 10.0), "cool_temperate_moist"),  # PET 0: moist
    ((26.0, 2000.0, 1500.0, None, 10.0), "tropical_moist"),  # MAP 2000 is not > 2000
    ((26.0, 1000.0, 1500.0, None, 10.0), "tropical_dry"),  # MAP 1000 is not > 1000
]


@pytest.mark.parametrize(("args", "zone"), CASES)
def test_each_zone_by_hand(args: tuple, zone: str) -> None:
    mat, map_mm, pet_mm, warm, elev = args
    t, p, e = _cell(mat, map_mm, pet_mm, warm)
    code = climate_zone(t[:, None], p[:, None], e[:, None], np.array([elev]))
    assert zone_name(int(code[0])) == zone


def test_grid_of_all_cases_and_nodata() -> None:
    cells = [_cell(*a[:4]) for a, _ in CASES]
    t = np.stack([c[0] for c in cells], axis=1).reshape(12, 1, len(CASES))
    p = np.stack([c[1] for c in cells], axis=1).reshape(12, 1, len(CASES))
    e = np.stack([c[2] for c in cells], axis=1).reshape(12, 1, len(CASES))
    elev = np.array([[a[4] for a, _ in CASES]])
    t[5, 0, 2] = np.nan  # one missing month: no data
    got = climate_zone(t, p, e, elev)
    want = [ZONES.index(z) + 1 for _, z in CASES]
    want[2] = 0
    assert got.dtype == np.uint8 and got.shape == (1, len(CASES))
    assert got[0].tolist() == want


def test_without_elevation_no_cell_is_montane() -> None:
    t, p, e = _cell(22.0, 600.0, 1800.0)
    assert zone_name(int(climate_zone(t[:, None], p[:, None], e[:, None])[0])) == "tropical_dry"


def test_bad_input_names_the_argument() -> None:
    t, p, e = _cell(5.0, 500.0, 400.0)
    with pytest.raises(KernelInputError, match="12 monthly"):
        climate_zone(t[:11, None], p[:11, None], e[:11, None])
    with pytest.raises(KernelInputError, match="pet: expected the shape"):
        climate_zone(t[:, None], p[:, None], e[:, None, None])
    with pytest.raises(KernelInputError, match="negative"):
        climate_zone(t[:, None], -p[:, None], e[:, None])
    assert zone_name(0) is None and zone_name(13) is None


def test_codes_name_the_assessment_vocabulary() -> None:
    """The kernel's zone names are the ex-ante vocabulary (pipeline.assess.tables), in its order."""
    from pipeline.assess.tables import CLIMATE_ZONES

    assert ZONES == CLIMATE_ZONES
