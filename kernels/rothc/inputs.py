"""RothC v2.0.0 inputs, validated: per-pixel soil properties and monthly forcing.

Units: pools and inputs in t C/ha, temperature in degC, rain and open-pan evaporation in
mm/month, clay and silt in %, depth in cm, bulk density in g/cm3, organic carbon in %.
Arrays are pixel-first: per-pixel soil properties have shape ``(n,)``; monthly forcing has
shape ``(n, months)`` (anything broadcastable to it, e.g. ``(months,)`` for one climate).

Reference: Coleman, K., Prout, J. M. & Milne, A. E. (2025). RothC - A model for the turnover of
carbon in soil. Model description, version 2.0.0. Rothamsted Research. Section numbers in the
comments refer to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kernels._validate import as_float_array, check_range
from kernels.errors import KernelInputError

FloatArray = NDArray[np.float64]


def clay_partition_ratio(clay: ArrayLike) -> FloatArray:
    """CO2 / (BIO + HUM) ratio ``x`` from clay % (eq. 13)."""
    c = np.asarray(clay, dtype=np.float64)
    return np.asarray(1.67 * (1.85 + 1.60 * np.exp(-0.0786 * c)))


def falloon_iom(soc: ArrayLike) -> FloatArray:
    """Inert organic matter from total SOC, IOM = 0.049 SOC^1.139 (Falloon et al. 1998, eq. 19)."""
    s = np.asarray(soc, dtype=np.float64)
    return np.asarray(0.049 * np.power(np.maximum(s, 0.0), 1.139))


@dataclass(frozen=True)
class Soil:
    """Per-pixel soil properties and moisture options (validated; every array has shape (n,))."""

    clay: FloatArray
    depth: FloatArray
    iom: FloatArray
    min_rm_moist: FloatArray
    smd_max: FloatArray
    smd_1bar: FloatArray
    smd_15bar: FloatArray
    smd_bare: FloatArray
    opt_rmmoist: int = 1
    opt_smdbare: int = 1

    @property
    def n(self) -> int:
        return int(self.clay.shape[0])

    @classmethod
    def build(
        cls,
        clay: ArrayLike,
        depth: ArrayLike = 23.0,
        iom: ArrayLike = 0.0,
        *,
        opt_rmmoist: int = 1,
        opt_smdbare: int = 1,
        silt: ArrayLike | None = None,
        bulk_density: ArrayLike | None = None,
        organic_carbon: ArrayLike | None = None,
        min_rm_moist: ArrayLike = 0.2,
    ) -> Soil:
        """Validate soil inputs and derive the moisture-deficit limits (section 1.6.2).

        ``silt``, ``bulk_density`` and ``organic_carbon`` are required for
        ``opt_rmmoist`` 2 and 3 (Mualem-van Genuchten parameters of Woesten et al. 1999).
        """
        clay_a = np.atleast_1d(as_float_array("clay", clay))
        if clay_a.ndim != 1:
            raise KernelInputError(
                f"clay: expected a 1-D array of pixels, got shape {clay_a.shape}. "
                "Flatten the pixels first (e.g. arr.reshape(-1))."
            )
        n = clay_a.shape[0]
        check_range("clay", clay_a, 0.0, 100.0, unit="%", fix="Clay is a percentage (0-100).")
        if opt_rmmoist not in (1, 2, 3):
            raise KernelInputError(
                f"opt_rmmoist: expected 1, 2 or 3 (RothC v2.0.0 moisture options), got {opt_rmmoist!r}."
            )
        if opt_smdbare not in (1, 2):
            raise KernelInputError(f"opt_smdbare: expected 1 or 2, got {opt_smdbare!r}.")

        def per_pixel(name: str, v: ArrayLike, lo: float, hi: float | None, unit: str) -> FloatArray:
            arr = np.atleast_1d(as_float_array(name, v))
            try:
                arr = np.ascontiguousarray(np.broadcast_to(arr, (n,)), dtype=np.float64)
            except ValueError:
                raise KernelInputError(
                    f"{name}: expected a scalar or shape ({n},) like clay, got shape "
                    f"{arr.shape}. Give one value per pixel."
                ) from None
            check_range(name, arr, lo, hi, unit=unit)
            return arr

        depth_a = per_pixel("depth", depth, 1e-6, None, "cm")
        iom_a = per_pixel("iom", iom, 0.0, None, "t C/ha")
        min_rm = per_pixel("min_rm_moist", min_rm_moist, 0.0, 1.0, "")

        if opt_rmmoist == 1:
            # Eq. 2; the description prints 1.01 clay^2, the official code and output use 0.01.
            smd15 = -(20.0 + 1.3 * clay_a - 0.01 * clay_a * clay_a) * depth_a / 23.0
            smd1 = 0.444 * smd15
            smd_max = smd15
        else:
            if silt is None or bulk_density is None or organic_carbon is None:
                raise KernelInputError(
                    f"opt_rmmoist={opt_rmmoist} needs silt (%), bulk_density (g/cm3) and "
                    "organic_carbon (%) for the van Genuchten parameters; got "
                    f"silt={'missing' if silt is None else 'ok'}, "
                    f"bulk_density={'missing' if bulk_density is None else 'ok'}, "
                    f"organic_carbon={'missing' if organic_carbon is None else 'ok'}."
                )
            silt_a = per_pixel("silt", silt, 1e-6, 100.0, "%")
            bd_a = per_pixel("bulk_density", bulk_density, 1e-3, 3.0, "g/cm3")
            oc_a = per_pixel("organic_carbon", organic_carbon, 1e-6, 100.0, "%")
            x1, x2, x3 = _van_genuchten_deficits(clay_a, silt_a, bd_a, oc_a, depth_a)
            smd15, smd1 = x2, x1
            smd_max = smd15 if opt_rmmoist == 3 else x3
        if opt_smdbare == 1:
            # Section 1.6.2.1: bare soil dries to max/1.8 (0.556 in the official code), and
            # eq. 12 for the van Genuchten options.
            bare = 0.556 * smd15 if opt_rmmoist == 1 else smd15 - (0.6388 / 0.8) * (smd15 - smd1)
        else:
            bare = smd15.copy()
        return cls(
            clay=clay_a,
            depth=depth_a,
            iom=iom_a,
            min_rm_moist=min_rm,
            smd_max=np.ascontiguousarray(smd_max),
            smd_1bar=np.ascontiguousarray(smd1),
            smd_15bar=np.ascontiguousarray(smd15),
            smd_bare=np.ascontiguousarray(bare),
            opt_rmmoist=opt_rmmoist,
            opt_smdbare=opt_smdbare,
        )

    def with_iom(self, iom: ArrayLike) -> Soil:
        """The same soil with another IOM (t C/ha)."""
        arr = np.ascontiguousarray(np.broadcast_to(as_float_array("iom", iom), (self.n,)))
        check_range("iom", arr, 0.0, None, unit="t C/ha")
        return Soil(**{**self.__dict__, "iom": arr})


def _van_genuchten_deficits(
    clay: FloatArray, silt: FloatArray, bd: FloatArray, oc: FloatArray, depth: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Topsoil moisture deficits (mm, <= 0) at -1, -15 and -1000 bar relative to field
    capacity, from the Woesten et al. (1999) pedotransfer functions (eq. 5-11, topsoil=1)."""
    om = 1.72 * oc
    t = 1.0
    alpha = np.exp(
        -14.96
        + 0.03135 * clay
        + 0.0351 * silt
        + 0.646 * om
        + 15.29 * bd
        - 0.192 * t
        - 4.671 * bd**2
        - 0.000781 * clay**2
        - 0.00687 * om**2
        + 0.0449 / om
        + 0.0663 * np.log(silt)
        + 0.1482 * np.log(om)
        - 0.04546 * bd * silt
        - 0.4852 * bd * om
        + 0.00673 * clay * t
    )
    theta_s = (
        0.7919
        + 0.001691 * clay
        - 0.29619 * bd
        - 0.000001491 * silt**2
        + 0.0000821 * om**2
        + 0.02427 / clay
        + 0.01113 / silt
        + 0.01472 * np.log(silt)
        - 0.0000733 * om * clay
        - 0.000619 * bd * clay
        - 0.001183 * bd * om
        - 0.0001664 * silt * t
    )
    n_vg = 1.0 + np.exp(
        -25.23
        - 0.02195 * clay
        + 0.0074 * silt
        - 0.194 * om
        + 45.5 * bd
        - 7.24 * bd**2
        + 0.0003658 * clay**2
        + 0.002885 * om**2
        - 12.81 / bd
        - 0.1524 / silt
        - 0.01958 / om
        - 0.2876 * np.log(silt)
        - 0.0709 * np.log(om)
        - 44.6 * np.log(bd)
        - 0.02264 * bd * clay
        + 0.0896 * bd * om
        + 0.00718 * clay * t
    )
    theta_r = 0.01
    m = 1.0 - 1.0 / n_vg

    def wc(mbar: float) -> FloatArray:
        return np.asarray(theta_r + (theta_s - theta_r) / (1.0 + (alpha * mbar) ** n_vg) ** m)

    fc = wc(50.0)
    return (
        (wc(1000.0) - fc) * 10.0 * depth,
        (wc(15000.0) - fc) * 10.0 * depth,
        (wc(1_000_000.0) - fc) * 10.0 * depth,
    )


@dataclass(frozen=True)
class Forcing:
    """Monthly forcing per pixel, validated; every array has shape (n, months)."""

    tas: FloatArray
    rain: FloatArray
    pet: FloatArray
    cover: FloatArray
    c_in: FloatArray
    fym: FloatArray
    f_dpm: FloatArray

    @property
    def months(self) -> int:
        return int(self.tas.shape[1])

    @classmethod
    def build(
        cls,
        n: int,
        *,
        tas: ArrayLike,
        rain: ArrayLike,
        pet: ArrayLike,
        cover: ArrayLike = 1.0,
        c_in: ArrayLike = 0.0,
        fym: ArrayLike = 0.0,
        dpm_rpm: ArrayLike = 1.44,
        months: int | None = None,
        allow_negative_pet: bool = False,
    ) -> Forcing:
        """Broadcast every input to ``(n, months)`` and check its domain.

        ``tas`` fixes the number of months unless ``months`` is given. ``pet`` is open-pan
        evaporation (the model takes 0.75 of it as evapotranspiration, section 1.2).
        ``cover`` is 1 where the soil is vegetated, 0 where bare. ``dpm_rpm`` is the
        DPM/RPM ratio of plant input (1.44 crops, 0.67 grassland/scrub, 0.25 woodland).
        Negative evaporation is refused unless ``allow_negative_pet``: measured pan data can
        record condensation in winter (the official example has -0.5 mm months), gridded
        PET cannot.
        """
        tas_a = np.atleast_1d(as_float_array("tas", tas))
        m = months if months is not None else int(tas_a.shape[-1])
        if m < 1:
            raise KernelInputError(f"tas: expected at least one month, got {tas_a.shape}.")

        def grid(name: str, v: ArrayLike) -> FloatArray:
            arr = np.atleast_1d(as_float_array(name, v))
            try:
                return np.ascontiguousarray(np.broadcast_to(arr, (n, m)), dtype=np.float64)
            except ValueError:
                raise KernelInputError(
                    f"{name}: expected shape ({n}, {m}) (pixels x months) or broadcastable "
                    f"to it, got {arr.shape}. Every monthly input needs the same number of "
                    "months, with no month missing."
                ) from None

        tas_g = grid("tas", tas_a)
        check_range("tas", tas_g, -100.0, 100.0, unit="degC", fix="Fill missing months first.")
        rain_g = grid("rain", rain)
        check_range("rain", rain_g, 0.0, None, unit="mm/month", fix="Rainfall cannot be negative.")
        pet_g = grid("pet", pet)
        check_range(
            "pet",
            pet_g,
            None if allow_negative_pet else 0.0,
            None,
            unit="mm/month",
            fix="Evaporation cannot be negative; if these are measured pan values that record "
            "condensation, pass allow_negative_pet=True.",
        )
        cover_g = grid("cover", cover)
        check_range("cover", cover_g, 0.0, 1.0, fix="Plant cover is 1 (vegetated) or 0 (bare).")
        cin_g = grid("c_in", c_in)
        check_range("c_in", cin_g, 0.0, None, unit="t C/ha/month")
        fym_g = grid("fym", fym)
        check_range("fym", fym_g, 0.0, None, unit="t C/ha/month")
        ratio = grid("dpm_rpm", dpm_rpm)
        check_range("dpm_rpm", ratio, 0.0, None, fix="The DPM/RPM ratio is >= 0 (e.g. 1.44).")
        return cls(tas_g, rain_g, pet_g, cover_g, cin_g, fym_g, ratio / (ratio + 1.0))

    def window(self, start: int, stop: int) -> Forcing:
        """Months ``[start, stop)`` of this forcing."""
        return Forcing(*(np.ascontiguousarray(a[:, start:stop]) for a in self.__dict__.values()))

    def scaled_input(self, c_in: ArrayLike) -> Forcing:
        """The same forcing with another plant input (t C/ha/month), broadcast to (n, months)."""
        arr = np.ascontiguousarray(np.broadcast_to(np.asarray(c_in, np.float64), self.tas.shape))
        return Forcing(**{**self.__dict__, "c_in": arr})


def check_pixels(soil: Soil, forcing: Forcing) -> None:
    if forcing.tas.shape[0] != soil.n:
        raise KernelInputError(
            f"forcing: expected {soil.n} pixels like the soil, got {forcing.tas.shape[0]}. "
            "Build Soil and Forcing from the same pixels."
        )
