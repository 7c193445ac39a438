"""RothC benchmarks: pixel-months per second, a GSOCseq-style run over 1 million pixels, and the
speed per pixel-month against the PyPI package pyrothc (RothC 26.3 solved with scipy's odeint),
measured in the same run."""

from __future__ import annotations

import time

import numpy as np

from kernels.rothc import Forcing, Soil, equilibrium, forward, scenarios


def synthetic_pixels(n: int, seed: int = 3) -> tuple[Soil, Forcing, np.ndarray]:
    rng = np.random.default_rng(seed)
    m = np.arange(12)
    t_mean = rng.uniform(-2, 26, (n, 1))
    amp = rng.uniform(0, 14, (n, 1))
    tas = t_mean - amp * np.cos(2 * np.pi * m / 12)
    rain = rng.uniform(5, 180, (n, 12))
    pet = np.clip(20 + 5 * tas + rng.normal(0, 10, (n, 12)), 0, None) / 0.75
    cover = (rng.uniform(size=(n, 12)) < 0.8).astype(float)
    soil = Soil.build(rng.uniform(5, 60, n), 23.0, rng.uniform(1, 4, n))
    forcing = Forcing.build(n, tas=tas, rain=rain, pet=pet, cover=cover, c_in=cover)
    stock = rng.uniform(20, 120, n)
    return soil, forcing, stock


def bench_rothc(n_pixels: int = 1_000_000, pyrothc_pixels: int = 5) -> dict[str, float]:
    soil, forcing, stock = synthetic_pixels(n_pixels)
    small_soil, small_forcing, small_stock = synthetic_pixels(1000, seed=4)
    scenarios(small_soil, small_forcing, small_stock)  # compile outside the timings
    eq = equilibrium(soil, forcing.scaled_input(forcing.c_in * 0.2))
    months = 240
    t0 = time.perf_counter()
    forward(soil, forcing.scaled_input(forcing.c_in * 0.2), eq.pools, eq.smd, (1.0,), months=months)
    t_fwd = time.perf_counter() - t0
    per_ours = t_fwd / (n_pixels * months)
    t0 = time.perf_counter()
    res = scenarios(soil, forcing, stock, increases=(0.05, 0.10, 0.20), years=20)
    t_full = time.perf_counter() - t0
    ok = float(np.isfinite(res.seq_potential).all(axis=1).mean())
    per_py = _pyrothc_per_pixel_month(pyrothc_pixels)
    return {
        "pixels": float(n_pixels),
        "forward_s": t_fwd,
        "pixel_months_per_s": 1.0 / per_ours,
        "gsocseq_run_s": t_full,
        "gsocseq_valid_fraction": ok,
        "pyrothc_us_per_pixel_month": per_py * 1e6,
        "ours_ns_per_pixel_month": per_ours * 1e9,
        "speedup_vs_pyrothc": per_py / per_ours,
    }


def _pyrothc_per_pixel_month(n: int) -> float:
    from pyRothC.RothC import RothC

    rng = np.random.default_rng(5)
    months = 240
    t0 = time.perf_counter()
    for _ in range(n):
        tas = (10 + rng.normal(0, 6, 12)).tolist()
        model = RothC(
            temperature=tas,
            precip=rng.uniform(20, 120, 12).tolist(),
            evaporation=rng.uniform(5, 120, 12).tolist(),
            years=months // 12,
            clay=float(rng.uniform(5, 60)),
            input_carbon=1.7,
        )
        model.compute()
    return (time.perf_counter() - t0) / (n * months)
