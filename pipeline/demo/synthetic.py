"""Synthetic but plausible global fields for the demo catalog (clearly labelled as synthetic).

Everything is seeded and deterministic. The values are *not* observations: they are shaped so
that every indicator of the observatory has contrasts to show.

- Land / ocean and the six regions: the shipped Natural Earth countries, rasterised.
- Climate: a latitudinal temperature profile with seasonality growing with latitude, a
  precipitation profile with the ITCZ, subtropical dry belts and mid-latitude storm tracks,
  smooth random perturbations, a warming trend; PET from Thornthwaite (1948), with the
  Willmott et al. (1985) form above 26.5 degC.
- Land cover (ESA WorldCover codes) from temperature and aridity, cropland where a smooth
  random "agriculture" field is high, expanding over the years in some regions.
- SOC (g/kg) higher where cold and wet, by land cover, lognormal spatial noise; decreasing with
  depth; a relative annual trend that differs by region (gains in some, losses in others) and
  is lower on cropland.
- Bulk density from SOC by the Adams (1973) pedotransfer function,
  BD = 100 / (OM / 0.244 + (100 - OM) / MBD), OM = 1.724 OC (van Bemmelen factor).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]

# Relative annual SOC trend per region (fraction per year): the demo's contrasts.
REGION_TREND = {
    "africa": -0.004,
    "asia": 0.002,
    "europe": -0.002,
    "latin_america_caribbean": -0.005,
    "northern_america": 0.003,
    "oceania": 0.004,
}
CROPLAND_EXTRA_TREND = -0.003
# Cropland expansion per year (drop of the agriculture-field threshold) by region.
REGION_CROP_EXPANSION = {"africa": 0.02, "latin_america_caribbean": 0.025, "asia": 0.01}
LC_SOC_FACTOR = {10: 1.3, 20: 0.8, 30: 1.1, 40: 0.7, 50: 0.5, 60: 0.15, 90: 2.5, 95: 2.0, 100: 1.8}
LC_NDVI = {
    10: 0.78,
    20: 0.35,
    30: 0.55,
    40: 0.62,
    50: 0.2,
    60: 0.08,
    70: 0.0,
    80: -0.1,
    90: 0.6,
    95: 0.7,
    100: 0.35,
}
DEPTHS = ((0, 5), (5, 15), (15, 30))
DEPTH_SOC_FACTOR = (1.0, 0.75, 0.55)
DEPTH_MINERAL_BD = (1.45, 1.52, 1.58)


@dataclass(frozen=True)
class Grid:
    """A global (or bbox) regular lon/lat grid, cell-centre coordinates, north-up."""

    west: float
    south: float
    east: float
    north: float
    resolution: float

    @property
    def shape(self) -> tuple[int, int]:
        ny = round((self.north - self.south) / self.resolution)
        nx = round((self.east - self.west) / self.resolution)
        return ny, nx

    @property
    def lat(self) -> F:
        ny, _ = self.shape
        return np.asarray(self.north - (np.arange(ny) + 0.5) * self.resolution, dtype=np.float64)

    @property
    def lon(self) -> F:
        _, nx = self.shape
        return np.asarray(self.west + (np.arange(nx) + 0.5) * self.resolution, dtype=np.float64)


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], length_px: float) -> F:
    """Zero-mean, unit-variance Gaussian random field with a Gaussian correlation length.

    Filtering white noise in Fourier space is exact for a periodic domain and O(N log N);
    longitude really is periodic, and the latitude wrap only matters at the poles.
    """
    noise = rng.standard_normal(shape)
    ky = np.fft.fftfreq(shape[0])[:, None]
    kx = np.fft.rfftfreq(shape[1])[None, :]
    filt = np.exp(-2.0 * (np.pi * length_px) ** 2 * (kx**2 + ky**2))
    out = np.fft.irfft2(np.fft.rfft2(noise) * filt, s=shape)
    sd = out.std()
    return np.asarray((out - out.mean()) / (sd if sd > 0 else 1.0))


def thornthwaite_pet(tas: F) -> F:
    """Monthly PET (mm/month, unadjusted for day length) from 12 monthly mean temperatures
    (axis 0), Thornthwaite (1948); Willmott, Rowe & Mintz (1985) above 26.5 degC."""
    t = np.maximum(tas, 0.0)
    heat = ((t / 5.0) ** 1.514).sum(axis=0)
    a = 6.75e-7 * heat**3 - 7.71e-5 * heat**2 + 1.792e-2 * heat + 0.49239
    with np.errstate(divide="ignore", invalid="ignore"):
        pet = np.where(heat > 0, 16.0 * (10.0 * t / np.where(heat > 0, heat, 1.0)) ** a, 0.0)
    hot = -415.85 + 32.24 * tas - 0.43 * tas**2
    return np.asarray(np.where(tas >= 26.5, hot, pet).clip(0.0, None))


@dataclass(frozen=True)
class Climate:
    """Monthly climate of one year, each (12, ny, nx): degC, mm/month, mm/month."""

    tas: F
    pr: F
    pet: F

    @property
    def annual_tas(self) -> F:
        return np.asarray(self.tas.mean(axis=0))

    @property
    def aridity(self) -> F:
        """P / PET (UNEP aridity index); large where PET is ~0."""
        return np.asarray(self.pr.sum(axis=0) / np.maximum(self.pet.sum(axis=0), 1.0))


@dataclass(frozen=True)
class Static:
    """Fields that do not change between years."""

    t_field: F
    p_field: F
    crop_field: F
    water_field: F
    soc_field: F
    trend_field: F
    clay: F
    cfvo: F
    land: NDArray[np.bool_]
    region: NDArray[np.int16]  # index into REGION_IDS, -1 where none
    antarctica: NDArray[np.bool_]


def make_static(
    grid: Grid, land: NDArray[np.bool_], region: NDArray[np.int16], antarctica: NDArray[np.bool_], seed: int
) -> Static:
    rng = np.random.default_rng(seed)
    shape = grid.shape
    px = max(2.0, 4.0 / grid.resolution)  # ~4 degree correlation length
    fields = [smooth_field(rng, shape, px) for _ in range(8)]
    clay = np.clip(25.0 + 10.0 * fields[6], 3.0, 70.0)
    cfvo = np.clip(0.08 + 0.06 * fields[7], 0.0, 0.6)
    t, p, crop, water, soc, trend = fields[:6]
    return Static(t, p, crop, water, soc, trend, clay, cfvo, land, region, antarctica)


def climate_for_year(grid: Grid, static: Static, year: int, base_year: int, seed: int) -> Climate:
    """Monthly climate of ``year``: the climatology, a warming trend and a year anomaly."""
    rng = np.random.default_rng([seed, year])
    shape = grid.shape
    lat = grid.lat[:, None] * np.ones(shape)
    alat = np.abs(lat)
    px = max(2.0, 6.0 / grid.resolution)
    t_anom = 0.5 * smooth_field(rng, shape, px) + 0.03 * (year - base_year)
    p_anom = np.exp(0.15 * smooth_field(rng, shape, px))
    t_ann = 27.0 - 0.0075 * lat**2 + 2.0 * static.t_field + t_anom
    amp = 0.3 * alat * (1.0 + 0.2 * static.t_field)
    hemi = np.where(lat >= 0, 1.0, -1.0)
    months = np.arange(12)[:, None, None]
    tas = t_ann - amp * hemi * np.cos(2 * np.pi * months / 12.0)
    p_ann = (
        (
            600.0
            + 1800.0 * np.exp(-((lat / 10.0) ** 2))
            - 500.0 * np.exp(-(((alat - 25.0) / 8.0) ** 2))
            + 400.0 * np.exp(-(((alat - 50.0) / 12.0) ** 2))
        )
        * np.exp(0.5 * static.p_field)
        * p_anom
    )
    p_ann = np.clip(p_ann, 20.0, None)
    # Rain peaks in local summer in the tropics/subtropics (monsoons), flat at high latitudes.
    season = 1.0 + 0.6 * np.exp(-(((alat - 15.0) / 15.0) ** 2)) * hemi * -np.cos(2 * np.pi * months / 12.0)
    pr = p_ann / 12.0 * season / season.mean(axis=0)
    pet = thornthwaite_pet(tas)
    return Climate(np.asarray(tas), np.asarray(pr), pet)


def landcover(
    static: Static, clim: Climate, years_since_base: int, region_ids: list[str]
) -> NDArray[np.uint8]:
    """ESA WorldCover-coded land cover (0 outside land)."""
    t = clim.annual_tas
    ai = clim.aridity
    lc = np.full(t.shape, 10, dtype=np.uint8)
    lc[ai < 0.65] = 30
    lc[(ai < 0.3) & (static.t_field > 0)] = 20
    lc[ai < 0.1] = 60
    lc[(t < -2) & (ai >= 0.3)] = 100
    lc[(t > 0) & (t < 8) & (ai >= 0.65)] = 10
    expansion = np.zeros(t.shape)
    for i, rid in enumerate(region_ids):
        expansion[static.region == i] = REGION_CROP_EXPANSION.get(rid, 0.0) * years_since_base
    crop = (static.crop_field > 0.8 - expansion) & (ai > 0.3) & (t > 3)
    lc[crop] = 40
    lc[crop & (static.crop_field > 2.6)] = 50
    lc[(static.water_field > 2.4) & (ai > 0.4)] = 80
    lc[(static.water_field > 2.0) & (static.water_field <= 2.4) & (ai > 1.2) & (t > 5)] = 90
    lc[(t < -10) | static.antarctica] = 70
    lc[~static.land] = 0
    return lc


def soc_for_year(
    static: Static,
    base_clim: Climate,
    lc_base: NDArray[np.uint8],
    lc_year: NDArray[np.uint8],
    years_since_base: int,
    region_ids: list[str],
    seed: int,
    year: int,
) -> tuple[F, F]:
    """SOC (g/kg) for the three depths (3, ny, nx) and the pixel trend (fraction per year).

    Returns NaN where there is no soil (ocean, water, snow and ice, Antarctica).
    """
    f_t = np.exp(-0.06 * (base_clim.annual_tas - 10.0))
    ai = base_clim.aridity
    f_w = ai / (ai + 0.5)
    lc_f = np.zeros(lc_base.shape)
    for code, fac in LC_SOC_FACTOR.items():
        lc_f[lc_base == code] = fac
    soc0 = np.clip(25.0 * f_t * f_w * lc_f * np.exp(0.35 * static.soc_field), 1.0, 400.0)
    trend = 0.002 * static.trend_field
    for i, rid in enumerate(region_ids):
        trend[static.region == i] += REGION_TREND.get(rid, 0.0)
    trend[lc_year == 40] += CROPLAND_EXTRA_TREND
    rng = np.random.default_rng([seed, year, 7])
    noise = np.exp(0.01 * rng.standard_normal(soc0.shape)) if years_since_base else 1.0
    soc_top = soc0 * (1.0 + trend) ** years_since_base * noise
    out = np.stack([soc_top * f for f in DEPTH_SOC_FACTOR])
    nosoil = (lc_year == 0) | (lc_year == 70) | (lc_year == 80) | static.antarctica | (lc_f == 0)
    out[:, nosoil] = np.nan
    return out, trend


def adams_bulk_density(soc_g_kg: F, mineral_bd: float) -> F:
    """Adams (1973) pedotransfer function: bulk density (g/cm3) from SOC (g/kg)."""
    om = 1.724 * soc_g_kg / 10.0
    return np.asarray(100.0 / (om / 0.244 + (100.0 - om) / mineral_bd))


def ndvi_month(lc: NDArray[np.uint8], tas: F, pr: F, pet: F) -> F:
    """NDVI of one month from land cover, temperature and water limitation."""
    base = np.full(lc.shape, np.nan)
    for code, v in LC_NDVI.items():
        base[lc == code] = v
    warm = np.clip(tas / 15.0, 0.15, 1.0)
    wet = np.clip(pr / (0.5 * pet + 10.0), 0.3, 1.0)
    val = 0.05 + (base - 0.05) * warm * wet
    return np.asarray(np.where(base <= 0.05, base, val))
