"""The what-if kernel against a plain numpy loop and cells worked by hand from the IPCC tables.

Values used (IPCC 2019 Refinement Vol. 4; catalogs/ipcc/tier1_2019.yaml):
- Table 5.5, long-term cultivated F_LU, tropical moist: 0.83; full tillage F_MG: 1.00; no-till F_MG,
  tropical moist: 1.10; medium input F_I: 1.00.
- Table 6.2, grassland F_LU: 1.00; nominally managed F_MG: 1.00; high intensity grazing F_MG: 0.90.
- Table 2.3, SOC_REF tropical moist HAC: 40 t C/ha; cool temperate moist HAC: 81 t C/ha.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from kernels.climate_zone import ZONES
from kernels.errors import KernelInputError
from kernels.whatif import whatif_delta

TM = ZONES.index("tropical_moist") + 1
CTM = ZONES.index("cool_temperate_moist") + 1
CROP, GRASS, TREE = 40, 30, 10  # ESA WorldCover codes


def _lookups(values: dict[int, float]) -> np.ndarray:
    a = np.full(len(ZONES) + 1, np.nan)
    for z, v in values.items():
        a[z] = v
    return a


# no-till on long-term cultivated cropland, medium input: from 0.83 x 1.00 x 1.00, to 0.83 x 1.10 x 1.00
NOTILL_FROM = _lookups({TM: 0.83 * 1.00 * 1.00})
NOTILL_TO = _lookups({TM: 0.83 * 1.10 * 1.00})
# improved grazing: from grassland high intensity grazing 1.00 x 0.90, to nominally managed 1.00 x 1.00
GRAZE_FROM = _lookups({TM: 0.90, CTM: 0.90})
GRAZE_TO = _lookups({TM: 1.00, CTM: 1.00})
REF_HAC = _lookups({TM: 40.0, CTM: 81.0})


def _one(
    zone: int, stock: float, lc: int, classes: tuple[int, ...], ff: np.ndarray, ft: np.ndarray, **kw
) -> float:
    z = np.array([zone], np.uint8)
    return float(
        whatif_delta(z, np.array([stock], np.float32), np.array([lc], np.uint8), classes, ff, ft, **kw)[0]
    )


def test_hand_worked_cells() -> None:
    # measured reference: 50 / 0.83 x (0.913 - 0.83) / 20 = 50 x 0.10 / 20 = 0.25 t C/ha/yr
    assert _one(TM, 50.0, CROP, (CROP,), NOTILL_FROM, NOTILL_TO) == pytest.approx(0.25, rel=1e-6)
    # IPCC default reference: 40 x (0.913 - 0.83) / 20 = 40 x 0.083 / 20 = 0.166
    got = _one(TM, 50.0, CROP, (CROP,), NOTILL_FROM, NOTILL_TO, soc_ref=REF_HAC)
    assert got == pytest.approx(0.166, rel=1e-6)
    # grassland, measured 36: reference 36 / 0.90 = 40, x (1.00 - 0.90) / 20 = 0.2
    assert _one(TM, 36.0, GRASS, (GRASS,), GRAZE_FROM, GRAZE_TO) == pytest.approx(0.2, rel=1e-6)
    # grassland, default cool temperate moist HAC: 81 x 0.10 / 20 = 0.405
    got = _one(CTM, 36.0, GRASS, (GRASS,), GRAZE_FROM, GRAZE_TO, soc_ref=REF_HAC)
    assert got == pytest.approx(0.405, rel=1e-6)
    # D = 10 years doubles the annual change
    assert _one(TM, 50.0, CROP, (CROP,), NOTILL_FROM, NOTILL_TO, years=10.0) == pytest.approx(0.5, rel=1e-6)


@pytest.mark.parametrize(
    ("zone", "stock", "lc"),
    [
        (TM, 50.0, GRASS),  # outside the class
        (CTM, 50.0, CROP),  # the factors are not defined in that zone (NaN)
        (0, 50.0, CROP),  # zone code 0 (no data)
        (255, 50.0, CROP),  # zone code past the look-up (the store's no-data class)
        (TM, np.nan, CROP),  # no measured stock
        (TM, 0.0, CROP),  # a zero stock is no reference
    ],
)
def test_not_applicable_is_nan(zone: int, stock: float, lc: int) -> None:
    assert np.isnan(_one(zone, stock, lc, (CROP,), NOTILL_FROM, NOTILL_TO))


def _loop(zone, stock, lc, classes, ff, ft, ref, years):  # the plain reference, cell by cell
    out = np.full(zone.shape, np.nan, dtype=np.float32)
    for i in np.ndindex(zone.shape):
        z = int(zone[i])
        if int(lc[i]) not in classes or z < 1 or z >= len(ff):
            continue
        if ref is None:
            s = float(stock[i])
            r = s / ff[z] if s > 0 else np.nan
        else:
            r = ref[z]
        out[i] = np.float32(r * (ft[z] - ff[z]) / years)
    return out


@pytest.mark.parametrize("classes", [(40,), (30, 40)])  # one code (a compare) or several (a look-up)
@pytest.mark.parametrize("measured", [True, False])
def test_equals_a_numpy_loop(measured: bool, classes: tuple[int, ...]) -> None:
    rng = np.random.default_rng(3)
    shape = (37, 53)
    zone = rng.integers(0, 14, shape).astype(np.uint8)
    zone[0, :5] = 255
    lc = rng.choice(np.array([10, 20, 30, 40, 50], np.uint8), shape)
    stock = rng.uniform(-5, 120, shape).astype(np.float32)
    stock[rng.random(shape) < 0.1] = np.nan
    ff = np.r_[np.nan, rng.uniform(0.5, 1.4, 12)]
    ft = np.r_[np.nan, rng.uniform(0.5, 1.4, 12)]
    ff[5], ft[9] = np.nan, np.nan  # undefined states in two zones
    ref = None if measured else np.r_[np.nan, rng.uniform(10, 150, 12)]
    got = whatif_delta(zone, stock, lc, classes, ff, ft, soc_ref=ref, years=20.0)
    want = _loop(zone, stock, lc, classes, ff, ft, ref, 20.0)
    assert got.dtype == np.float32 and got.shape == shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=3e-7, equal_nan=True)  # float32 arithmetic
    assert np.isfinite(got).sum() > 100  # the case is not vacuous


def test_reuses_out_buffer() -> None:
    z = np.full(4, TM, np.uint8)
    out = np.zeros(4, np.float32)
    got = whatif_delta(
        z, np.full(4, 50, np.float32), np.full(4, CROP, np.uint8), (CROP,), NOTILL_FROM, NOTILL_TO, out=out
    )
    assert got is out and np.allclose(out, 0.25)


@pytest.mark.parametrize(
    ("kw", "word"),
    [
        ({"zone": np.zeros(3, np.int32)}, "zone"),
        ({"stock": np.zeros(3, np.float64)}, "stock"),
        ({"landcover": np.zeros(2, np.uint8)}, "shape"),
        ({"f_from": np.array([np.nan, -1.0])}, "f_from"),
        ({"f_to": np.ones(5)}, "length"),
        ({"years": 0.0}, "years"),
        ({"classes": (300,)}, "classes"),
    ],
)
def test_bad_input_names_the_argument(kw: dict, word: str) -> None:
    args: dict[str, Any] = {
        "zone": np.zeros(3, np.uint8),
        "stock": np.zeros(3, np.float32),
        "landcover": np.zeros(3, np.uint8),
        "classes": (40,),
        "f_from": np.ones(3),
        "f_to": np.ones(3),
        "years": 20.0,
    }
    args.update(kw)
    years = args.pop("years")
    with pytest.raises(KernelInputError, match=word):
        whatif_delta(**args, years=years)
