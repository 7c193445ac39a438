"""What the indicator job takes from a cube (``pipeline.indicators.inputs``), on small in-memory
cubes: which stock, what is assumed, what is not available, and the refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from pipeline.errors import PipelineError
from pipeline.indicators.inputs import inputs_of
from pipeline.indicators.maps import all_maps, epoch_maps
from pipeline.ingest.units import conversion

SHAPE = (2, 3)


def _cube(
    names: set[str],
    epochs: list[int] | None = None,
    static: frozenset[str] = frozenset(),
    *,
    no_epoch: bool = False,
) -> xr.Dataset:
    """A 2 x 3 cube of ``names`` (two depth intervals 0-10, 10-30 cm), epochs 2015, 2016 by
    default; ``static`` variables have no epoch dimension."""
    epochs = None if no_epoch else (epochs or [2015, 2016])
    rng = np.random.default_rng(3)
    sizes = {"y": 2, "x": 3, "depth": 2, "epoch": len(epochs or [])}
    coords: dict[str, object] = {"y": [1.5, 0.5], "x": [0.5, 1.5, 2.5]}
    if epochs:
        coords["epoch"] = list(epochs)
    coords["depth_top"] = ("depth", [0.0, 10.0])
    coords["depth_bottom"] = ("depth", [10.0, 30.0])
    data: dict[str, tuple[tuple[str, ...], np.ndarray]] = {}
    base = {"soc": 20.0, "soc_q05": 10.0, "soc_q95": 30.0, "bdod": 1.3, "cfvo": 0.1, "clay": 25.0}
    for n in sorted(names):
        e = () if (not epochs or n in static) else ("epoch",)
        dims = (*e, "depth", "y", "x") if n in base else (*e, "y", "x")
        shape = tuple(sizes[d] for d in dims)
        if n in base:
            data[n] = (dims, (base[n] * (1 + 0.1 * rng.random(shape))).astype(np.float32))
        elif n == "landcover":
            data[n] = (dims, np.full(shape, 40, dtype=np.uint8))
        else:  # a direct stock
            data[n] = (dims, np.full(shape, 45.0, dtype=np.float32))
    ds = xr.Dataset(data, coords=coords)
    ds.attrs["provenance"] = json.dumps({})
    return ds


FULL = {"soc", "soc_q05", "soc_q95", "bdod", "cfvo", "clay", "landcover"}


def test_every_input_assumes_nothing():
    inp = inputs_of(_cube(FULL, [2015, 2016, 2017]))
    assert inp.method == "layers" and inp.assumptions() == [] and inp.not_available() == {}


def test_content_is_preferred_to_a_direct_stock_and_the_unused_stock_is_said():
    inp = inputs_of(_cube(FULL | {"soc_stock_src"}, [2015, 2016, 2017]))
    assert inp.method == "layers" and inp.direct is None
    assert any("soc_stock_src" in a and "not used" in a for a in inp.assumptions())


def test_a_direct_stock_without_content():
    inp = inputs_of(_cube({"soc_stock_src", "landcover"}))
    assert inp.method == "direct" and inp.names == ["soc_stock_src", "landcover"]
    na = inp.not_available()
    assert "bounds" in na and "soc_clay_ratio" in na and "soc_stock_change" not in na


def test_missing_cfvo_is_zero_and_recorded():
    cube = _cube(FULL - {"cfvo"})
    em = epoch_maps(cube, 2015, inputs_of(cube))
    sl = cube.sel(epoch=2015)
    w = np.array([10.0, 20.0])
    want = sum(sl["soc"].values[k] * sl["bdod"].values[k] * w[k] * 0.1 for k in range(2))
    np.testing.assert_allclose(em.stock, want, rtol=1e-6)
    assert any(a.startswith("cfvo:") for a in inputs_of(cube).assumptions())


def test_a_static_stock_under_land_cover_epochs_has_no_change():
    cube = _cube({"soc", "bdod", "clay", "landcover"}, static=frozenset({"soc", "bdod", "clay"}))
    inp = inputs_of(cube)
    assert inp.static_stock and not inp.changes
    assert "static source" in inp.not_available()["soc_stock_change"]
    assert "sdg15_3_1" in inp.not_available()
    em = epoch_maps(cube, 2016, inp)
    maps = all_maps(em, em.stock, 1.0, {}, inp.changes)
    assert np.isfinite(maps["soc_stock"]).all() and np.isnan(maps["soc_stock_change"]).all()


@pytest.mark.parametrize(
    ("names", "needle"),
    [
        ({"landcover"}, "it has neither"),
        ({"soc", "clay"}, "soc without bdod"),
        ({"bdod"}, "bdod without soc"),
    ],
)
def test_no_stock_is_refused_in_one_paragraph(names, needle):
    with pytest.raises(PipelineError) as err:
        inputs_of(_cube(names))
    msg = str(err.value)
    assert needle in msg and "\n" not in msg and "socobs ingest" in msg and "soc_stock_src" in msg


def test_a_cube_without_epochs_and_dates_is_refused():
    with pytest.raises(PipelineError, match="no epoch"):
        inputs_of(_cube({"soc_stock_src"}, no_epoch=True))


def test_direct_stock_units():
    assert conversion("g C/m2", "soc_stock_src").factor == 0.01  # gNATSGO soc0_30
    assert conversion("t/ha", "soc_stock_src").factor == 1.0  # SoilGrids ocs
    assert conversion("kg C/m2", "soc_stock").factor == 10.0
