"""RothC v2.0.0 kernel against the official example, a brute-force spin-up, and physics."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels.errors import KernelInputError
from kernels.rothc import (
    Forcing,
    Soil,
    clay_partition_ratio,
    equilibrium,
    forward,
    inverse_input,
    rate_modifiers,
    run_monthly,
    scenarios,
)

DATA = Path(__file__).parents[1] / "data" / "rothc"
TOL = 1e-4  # t C/ha: the official outputs are printed to 4 decimals


def official_input() -> tuple[Soil, Forcing, np.ndarray]:
    lines = (DATA / "RothC_input.dat").read_text().splitlines()
    clay, depth, iom, nsteps, *_ = (float(v) for v in lines[7].split())
    rows = np.array([[float(v) for v in ln.split()] for ln in lines[10 : 10 + int(nsteps)]])
    soil = Soil.build(clay, depth, iom, min_rm_moist=float(lines[7].split()[7]))
    f = Forcing.build(
        1,
        tas=rows[:, 3],
        rain=rows[:, 4],
        pet=rows[:, 5],
        c_in=rows[:, 6],
        fym=rows[:, 7],
        cover=rows[:, 8],
        dpm_rpm=rows[:, 9],
        allow_negative_pet=True,
    )
    return soil, f, rows


def read_out(name: str) -> np.ndarray:
    return np.genfromtxt(DATA / name, delimiter=",", skip_header=1)


@pytest.fixture(scope="module")
def official_run():
    soil, f, _ = official_input()
    eq = equilibrium(soil, f, method="official")
    run = run_monthly(soil, f.window(12, f.months), eq.pools, eq.smd)
    return eq, run


def test_official_equilibrium_row(official_run):
    eq, _ = official_run
    ref = read_out("year_results.out")[1]  # "1, 20916, DPM, RPM, BIO, HUM, IOM, SOC"
    assert eq.months[0] == ref[1] == 20916
    np.testing.assert_allclose(eq.pools[0], ref[2:7], atol=TOL)
    assert abs(eq.soc[0] - ref[7]) < TOL


def test_official_every_month(official_run):
    _, run = official_run
    ref = read_out("month_results.out")[2:]  # skip the initial and the equilibrium rows
    assert ref.shape[0] == run.soc.shape[1] == 828
    np.testing.assert_allclose(run.pools[0], ref[:, 12:17], atol=TOL)
    np.testing.assert_allclose(run.soc[0], ref[:, 17], atol=TOL)
    np.testing.assert_allclose(run.co2[0], ref[:, 18], atol=TOL)
    mods = run.modifiers
    np.testing.assert_allclose(mods.rm_tmp[0], ref[:, 5], atol=5.01e-5)
    np.testing.assert_allclose(mods.rm_moist[0], ref[:, 9], atol=5.01e-5)
    np.testing.assert_allclose(mods.smd[0], ref[:, 8], atol=5.01e-3)
    np.testing.assert_allclose(mods.rm_pc[0], ref[:, 11], atol=0.05)


def test_official_every_year(official_run):
    _, run = official_run
    ref = read_out("year_results.out")[2:]
    dec = np.arange(11, run.soc.shape[1], 12)
    np.testing.assert_allclose(run.pools[0, dec], ref[:, 2:7], atol=TOL)
    np.testing.assert_allclose(run.soc[0, dec], ref[:, 7], atol=TOL)
    np.testing.assert_allclose(run.co2[0, dec], ref[:, 8], atol=TOL)


def test_exact_fixed_point_is_a_fixed_point():
    soil, f, _ = official_input()
    eq = equilibrium(soil, f, method="exact")
    year = f.window(0, 12)
    run = run_monthly(soil, year, eq.pools, eq.smd)
    np.testing.assert_allclose(run.pools[0, -1], eq.pools[0], rtol=0, atol=1e-10)
    # The official shell stops 1e-6 t/ha/yr short of it: the exact state lies beyond, close.
    official = equilibrium(soil, f, method="official")
    assert 0 < eq.soc[0] - official.soc[0] < 5e-4


def brute_force_official(soil: Soil, f: Forcing, i: int = 0) -> tuple[np.ndarray, int]:
    """The official shell's spin-up, month by month, in plain Python (the reference)."""
    mods_soil = soil
    x = float(clay_partition_ratio(soil.clay[i]))
    p = np.zeros(4)
    smd = 0.0
    toc1 = 0.0
    k = 0
    months = 0
    while True:
        k = k + 1 if k < 12 else 1
        t = k - 1
        covered = f.cover[i, t] > 0.5
        df = f.rain[i, t] - 0.75 * f.pet[i, t]
        if covered:
            smd = max(mods_soil.smd_max[i], min(0.0, smd + df))
        else:
            smd = max(min(mods_soil.smd_bare[i], smd), min(0.0, smd + df))
        s1, s15, mn = soil.smd_1bar[i], soil.smd_15bar[i], soil.min_rm_moist[i]
        rm = 1.0 if smd > s1 else (mn + (1 - mn) * (s15 - smd) / (s15 - s1) if smd > s15 else mn)
        tas = f.tas[i, t]
        rt = 0.0 if tas < -5 else 47.91 / (math.exp(106.06 / (tas + 18.27)) + 1)
        rate = rt * rm * (0.6 if covered else 1.0)
        e = np.exp(-rate * np.array([10.0, 0.3, 0.66, 0.02]) / 12)
        d = (p * (1 - e)).sum()
        p = p * e
        p[2] += 0.46 * d / (x + 1)
        p[3] += 0.54 * d / (x + 1)
        fd = f.f_dpm[i, t]
        p[0] += fd * f.c_in[i, t] + 0.49 * f.fym[i, t]
        p[1] += (1 - fd) * f.c_in[i, t] + 0.49 * f.fym[i, t]
        p[3] += 0.02 * f.fym[i, t]
        months += 1
        if k == 12:
            toc0, toc1 = toc1, p.sum()
            if abs(toc1 - toc0) < 1e-6:
                return p, months


@settings(max_examples=6, deadline=None)
@given(
    clay=st.floats(2, 80),
    t_mean=st.floats(-2, 26),
    rain=st.floats(5, 150),
    bare_months=st.integers(0, 6),
    c_annual=st.floats(0.5, 8),
    seed=st.integers(0, 2**16),
)
def test_official_spinup_equals_brute_force(clay, t_mean, rain, bare_months, c_annual, seed):
    """Binary lifting stops at the very month the month-by-month shell stops, same pools."""
    rng = np.random.default_rng(seed)
    m = np.arange(12)
    tas = t_mean - 8 * np.cos(2 * np.pi * m / 12) + rng.normal(0, 1, 12)
    pet = np.clip(40 + 50 * -np.cos(2 * np.pi * m / 12) + rng.normal(0, 5, 12), 0, None)
    rain_m = np.clip(rain + rng.normal(0, rain / 2, 12), 0, None)
    cover = np.ones(12)
    cover[:bare_months] = 0
    c_in = np.full(12, c_annual / 12)
    soil = Soil.build(clay, 23.0, 2.0)
    f = Forcing.build(1, tas=tas, rain=rain_m, pet=pet, cover=cover, c_in=c_in, dpm_rpm=1.44)
    ref_p, ref_months = brute_force_official(soil, f)
    eq = equilibrium(soil, f, method="official")
    assert eq.months[0] == ref_months
    np.testing.assert_allclose(eq.pools[0, :4], ref_p, rtol=1e-9, atol=1e-9)


def test_mass_balance_every_month():
    """Inputs - CO2 = change in total SOC, every month, to float precision."""
    soil, f, _ = official_input()
    eq = equilibrium(soil, f, method="official")
    fw = f.window(12, f.months)
    run = run_monthly(soil, fw, eq.pools, eq.smd)
    soc = np.concatenate([[eq.soc[0]], run.soc[0]])
    co2 = np.concatenate([[0.0], run.co2[0]])
    inputs = fw.c_in[0] + fw.fym[0]
    np.testing.assert_allclose(np.diff(soc), inputs - np.diff(co2), rtol=0, atol=1e-12)


def _climate(n: int, years: int = 1):
    m = np.arange(12 * years)
    tas = 10 - 6 * np.cos(2 * np.pi * m / 12)
    return dict(tas=np.tile(tas, (n, 1)), rain=60.0, pet=np.tile(20 + 60 * (tas > 10), (n, 1)))


def test_no_input_and_no_iom_decays_to_zero():
    soil = Soil.build([20.0], 23.0, 0.0)
    f = Forcing.build(1, **_climate(1, years=2000), c_in=0.0)
    run = run_monthly(soil, f, [[1.0, 5.0, 1.0, 30.0]])
    soc = run.soc[0]
    assert np.all(np.diff(soc) <= 0)  # never gains carbon without input
    assert soc[-1] < 1e-3 * 37.0


def test_warmer_decays_faster():
    soil = Soil.build([20.0, 20.0], 23.0, 0.0)
    c = _climate(2, years=10)
    c["tas"] = c["tas"] + np.array([[0.0], [3.0]])
    f = Forcing.build(2, **c, c_in=0.0)
    pools, _ = forward(soil, f, np.tile([0.5, 5.0, 1.0, 30.0], (2, 1)))
    soc = pools[:, 0].sum(axis=1)
    assert soc[1] < soc[0]


def test_more_clay_retains_more_carbon():
    clay = np.array([5.0, 20.0, 40.0, 70.0])
    soil = Soil.build(clay, 23.0, 0.0)
    f = Forcing.build(4, **_climate(4), c_in=2.0 / 12)
    eq = equilibrium(soil, f)
    assert np.all(np.diff(eq.soc) > 0)


def test_pixels_are_independent_and_match_single_runs():
    rng = np.random.default_rng(3)
    n = 17
    clay = rng.uniform(5, 60, n)
    tas = rng.uniform(-8, 28, (n, 12))
    rain = rng.uniform(0, 200, (n, 12))
    pet = rng.uniform(0, 180, (n, 12))
    cover = (rng.uniform(size=(n, 12)) > 0.3).astype(float)
    soil = Soil.build(clay, 23.0, 1.5)
    f = Forcing.build(n, tas=tas, rain=rain, pet=pet, cover=cover, c_in=0.2)
    many = equilibrium(soil, f, method="official")
    for i in (0, 7, 16):
        one = equilibrium(
            Soil.build(clay[i], 23.0, 1.5),
            Forcing.build(1, tas=tas[i], rain=rain[i], pet=pet[i], cover=cover[i], c_in=0.2),
            method="official",
        )
        np.testing.assert_array_equal(many.pools[i], one.pools[0])
        assert many.months[i] == one.months[0]


def test_inverse_mode_reproduces_target_stock():
    n = 5
    soil = Soil.build(np.linspace(10, 50, n), 23.0, [1.0, 2.0, 3.0, 2.0, 1.0])
    target = np.array([20.0, 35.0, 50.0, 80.0, 1.2])
    shares = np.r_[np.zeros(3), np.ones(6), np.zeros(3)]
    f = Forcing.build(n, **_climate(n), c_in=shares)
    annual = inverse_input(soil, f, target)
    assert np.all(annual > 0)
    eq = equilibrium(soil, f.scaled_input(shares / shares.sum() * annual[:, None]))
    np.testing.assert_allclose(eq.soc, target, rtol=1e-9)


def test_inverse_mode_unreachable_target_is_nan():
    soil = Soil.build([20.0], 23.0, 5.0)
    f = Forcing.build(1, **_climate(1), c_in=1.0)
    assert np.isnan(inverse_input(soil, f, [4.0])[0])  # below the IOM alone


def test_scenarios_bau_holds_the_stock_and_more_input_sequesters_more():
    n = 4
    soil = Soil.build(np.linspace(10, 40, n), 23.0, 2.0)
    f = Forcing.build(n, **_climate(n), c_in=1.0)
    stock = np.array([30.0, 45.0, 60.0, 90.0])
    res = scenarios(soil, f, stock, increases=(0.05, 0.10, 0.20), years=20)
    np.testing.assert_allclose(res.soc_start, stock, rtol=1e-9)
    np.testing.assert_allclose(res.soc_end[:, 0], stock, rtol=1e-9)  # BAU at equilibrium
    assert np.all(np.diff(res.soc_end, axis=1) > 0)
    sp = res.seq_potential
    assert sp.shape == (n, 3) and np.all(sp > 0) and np.all(np.diff(sp, axis=1) > 0)
    # After 20 years the gain is below the new equilibrium's (x % of the active stock).
    active = stock - 2.0
    assert np.all(sp[:, 2] * 20 < 0.2 * active)


def test_van_genuchten_options_order_the_deficits():
    kw = dict(silt=58.6, bulk_density=1.27, organic_carbon=0.94)
    s2 = Soil.build(23.4, 23.0, 3.0, opt_rmmoist=2, opt_smdbare=2, **kw)
    s3 = Soil.build(23.4, 23.0, 3.0, opt_rmmoist=3, opt_smdbare=1, **kw)
    assert s2.smd_max[0] < s2.smd_15bar[0] < s2.smd_1bar[0] < 0  # -1000 < -15 < -1 bar
    assert s2.smd_bare[0] == s2.smd_15bar[0]  # opt_SMDbare=2: bare dries to -15 bar
    assert s3.smd_max[0] == s3.smd_15bar[0]
    # eq. 12 for opt_SMDbare=1 with van Genuchten parameters
    expected = s3.smd_15bar[0] - 0.6388 / 0.8 * (s3.smd_15bar[0] - s3.smd_1bar[0])
    assert s3.smd_bare[0] == pytest.approx(expected)
    # opt 2 lets the soil dry past -15 bar, where the modifier stays at its minimum.
    f = Forcing.build(1, tas=np.full(24, 20.0), rain=0.0, pet=200.0, cover=1.0)
    mods = rate_modifiers(s2, f)
    assert mods.smd[0].min() == pytest.approx(s2.smd_max[0])
    assert mods.rm_moist[0, -1] == pytest.approx(0.2)


def test_cold_months_stop_decomposition():
    soil = Soil.build([20.0], 23.0, 0.0)
    f = Forcing.build(1, tas=np.full(12, -6.0), rain=50.0, pet=0.0, c_in=0.0)
    mods = rate_modifiers(soil, f)
    assert np.all(mods.rm_tmp == 0)
    eq = equilibrium(soil, f.scaled_input(0.1))
    assert np.isnan(eq.soc[0])  # no decomposition at all: no equilibrium, said as NaN


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(clay=[-1.0]), "clay: expected values in [0.0, 100.0]"),
        (dict(clay=[120.0]), "clay: expected values in [0.0, 100.0]"),
        (dict(clay=[np.nan]), "clay: expected finite values"),
        (dict(clay=[[1.0, 2.0]]), "clay: expected a 1-D array"),
        (dict(clay=[10.0], depth=[1.0, 2.0]), "depth: expected a scalar or shape (1,)"),
        (dict(clay=[10.0], opt_rmmoist=2), "needs silt"),
        (dict(clay=[10.0], opt_rmmoist=4), "opt_rmmoist: expected 1, 2 or 3"),
    ],
)
def test_bad_soil_is_refused_before_the_jit(kwargs, message):
    with pytest.raises(KernelInputError) as exc:
        Soil.build(**kwargs)
    assert message in str(exc.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(tas=np.r_[np.full(11, 5.0), np.nan]), "tas: expected finite values"),
        (dict(rain=-3.0), "rain: expected values in [0.0, inf]"),
        (dict(pet=-1.0), "allow_negative_pet=True"),
        (dict(rain=np.ones(11)), "rain: expected shape (1, 12)"),
        (dict(cover=2.0), "cover: expected values in [0.0, 1.0]"),
    ],
)
def test_bad_forcing_is_refused(kwargs, message):
    args = dict(tas=np.full(12, 5.0), rain=50.0, pet=30.0)
    args.update(kwargs)
    with pytest.raises(KernelInputError) as exc:
        Forcing.build(1, **args)
    assert message in str(exc.value)


def test_missing_months_and_mismatched_pixels_are_refused():
    soil = Soil.build([20.0, 30.0], 23.0, 0.0)
    with pytest.raises(KernelInputError, match="needs 12 months"):
        equilibrium(soil, Forcing.build(2, tas=np.full(11, 5.0), rain=50.0, pet=30.0))
    with pytest.raises(KernelInputError, match="expected 2 pixels"):
        equilibrium(soil, Forcing.build(3, tas=np.full(12, 5.0), rain=50.0, pet=30.0))
    with pytest.raises(KernelInputError, match=r"pools0: expected shape \(2, 4\)"):
        forward(soil, Forcing.build(2, tas=np.full(12, 5.0), rain=50.0, pet=30.0), np.zeros((3, 4)))
