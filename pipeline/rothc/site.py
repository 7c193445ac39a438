"""The RothC site door: read official RothC v2.0.0 input files, write the official results.

The input layout is that of ``RothC_input.dat`` shipped with the official model
(Rothamsted-Models/RothC_Code): three free-text lines, the header of the option line, the
options ``opt_RMmoist opt_SMDbare``, two header lines, the soil line ``clay depth iom nsteps
silt BD OC minRM_Moist``, two header lines, then ``nsteps`` monthly rows ``year month modern
Tmp Rain Evap C_inp FYM PC DPM_RPM``. As in the official shell, the first 12 rows are the
spin-up year and the remaining rows the forward run.

The outputs follow ``year_results.out`` and ``month_results.out`` (same columns, CSV): the
initial row, the equilibrium row (year 1, the months the spin-up ran), then one row per
December (years) or per month.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kernels.rothc import Forcing, Soil, equilibrium, run_monthly
from kernels.rothc.model import EquilibriumMethod
from pipeline.errors import InputFileError

YEAR_COLUMNS = [
    "Year",
    "Month",
    "DPM_t_C_ha",
    "RPM_t_C_ha",
    "BIO_t_C_ha",
    "HUM_t_C_ha",
    "IOM_t_C_ha",
    "SOC_t_C_ha",
    "CO2_t_C_ha",
]
MONTH_COLUMNS = [
    "Year",
    "Month",
    "C_Inp_t_C_ha",
    "FYM_Inp_t_C_ha",
    "TEMP_C",
    "RM_TMP",
    "RAIN_mm",
    "PEVAP_mm",
    "SMD_mm",
    "RM_Moist",
    "PC",
    "RM_PC",
    "DPM_t_C_ha",
    "RPM_t_C_ha",
    "BIO_t_C_ha",
    "HUM_t_C_ha",
    "IOM_t_C_ha",
    "SOC_t_C_ha",
    "CO2_t_C_ha",
]
_MONTHLY_FIELDS = [
    "year",
    "month",
    "modern",
    "Tmp",
    "Rain",
    "Evap",
    "C_inp",
    "FYM",
    "PC",
    "DPM_RPM",
]


@dataclass(frozen=True)
class SiteInput:
    """One parsed site file."""

    path: Path
    opt_rmmoist: int
    opt_smdbare: int
    clay: float
    depth: float
    iom: float
    silt: float
    bulk_density: float
    organic_carbon: float
    min_rm_moist: float
    monthly: np.ndarray  # (nsteps, 10) in the order of _MONTHLY_FIELDS


def _numbers(path: Path, lineno: int, line: str, count: int, what: str) -> list[float]:
    parts = line.split()
    try:
        values = [float(p) for p in parts[:count]]
    except ValueError:
        values = []
    if len(values) != count:
        raise InputFileError(
            f"{path}:{lineno}: expected {count} numbers ({what}), got {line.strip()!r}. "
            "The file must follow the official RothC_input.dat layout."
        )
    return values


def read_site(path: str | Path) -> SiteInput:
    """Parse an official-layout RothC input file; every error names the line and the fix."""
    p = Path(path)
    try:
        lines = p.read_text().splitlines()
    except OSError as exc:
        raise InputFileError(
            f"{p}: cannot read the RothC input file ({exc.strerror}). Check the path."
        ) from exc
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{p}: expected a RothC input file (text), got undecodable byte 0x{exc.object[exc.start]:02x} "
            f"at offset {exc.start}. Pass a RothC_input.dat in the official layout, saved as UTF-8."
        ) from None
    if len(lines) < 11:
        raise InputFileError(
            f"{p}: expected at least 11 lines (3 text, options, soil, headers, months), got "
            f"{len(lines)}. The file must follow the official RothC_input.dat layout."
        )
    opt_rm, opt_bare = _numbers(p, 5, lines[4], 2, "opt_RMmoist opt_SMDbare")
    soil = _numbers(p, 8, lines[7], 8, "clay depth iom nsteps silt BD OC minRM_Moist")
    clay, depth, iom, nsteps_f, silt, bd, oc, min_rm = soil
    nsteps = int(nsteps_f)
    if nsteps != nsteps_f or nsteps < 12:
        raise InputFileError(
            f"{p}:8: nsteps must be a whole number of months >= 12 (the spin-up year comes "
            f"first), got {nsteps_f!r}."
        )
    rows = [ln for ln in lines[10:] if ln.strip()]
    if len(rows) < nsteps:
        raise InputFileError(
            f"{p}: nsteps says {nsteps} monthly rows, the file has {len(rows)} after line 10. "
            "Add the missing months or correct nsteps."
        )
    monthly = np.array([_numbers(p, 11 + i, rows[i], 10, " ".join(_MONTHLY_FIELDS)) for i in range(nsteps)])
    return SiteInput(p, int(opt_rm), int(opt_bare), clay, depth, iom, silt, bd, oc, min_rm, monthly)


@dataclass(frozen=True)
class SiteResult:
    """What the official shell writes, as rows of numbers."""

    year_rows: list[list[float]]
    month_rows: list[list[float]]
    months_to_equilibrium: float


def run_site(site: SiteInput, method: EquilibriumMethod = "official") -> SiteResult:
    """Spin up on the first 12 months, then run the remaining months, as the official shell."""
    soil = Soil.build(
        site.clay,
        site.depth,
        site.iom,
        opt_rmmoist=site.opt_rmmoist,
        opt_smdbare=site.opt_smdbare,
        silt=site.silt,
        bulk_density=site.bulk_density,
        organic_carbon=site.organic_carbon,
        min_rm_moist=site.min_rm_moist,
    )
    m = site.monthly
    forcing = Forcing.build(
        1,
        tas=m[:, 3],
        rain=m[:, 4],
        pet=m[:, 5],
        c_in=m[:, 6],
        fym=m[:, 7],
        cover=m[:, 8],
        dpm_rpm=m[:, 9],
        allow_negative_pet=True,
    )
    eq = equilibrium(soil, forcing, method=method)
    if not np.isfinite(eq.soc[0]):
        raise InputFileError(
            f"{site.path}: the spin-up year has no decomposition in any month (e.g. every "
            "month below -5 degC), so no equilibrium exists. Check the first 12 rows."
        )
    init = [0.0, 0.0, 0.0, 0.0, 0.0, site.iom, site.iom, 0.0]
    year_rows: list[list[float]] = [[0.0, *init]]
    month_rows: list[list[float]] = [[1.0, 0.0, *([np.nan] * 10), *init[1:]]]
    eq_row = [*eq.pools[0].tolist(), float(eq.soc[0]), 0.0]
    months = float(eq.months[0])
    year_rows.append([1.0, months, *eq_row])
    month_rows.append([1.0, months, *([np.nan] * 10), *eq_row])
    if forcing.months > 12:
        run = run_monthly(soil, forcing.window(12, forcing.months), eq.pools, eq.smd)
        mods = run.modifiers
        for t in range(run.soc.shape[1]):
            row = m[12 + t]
            month_no = t % 12 + 1
            pools = run.pools[0, t].tolist()
            out = [
                float(row[0]),
                float(month_no),
                *pools,
                float(run.soc[0, t]),
                float(run.co2[0, t]),
            ]
            month_rows.append(
                [
                    float(row[0]),
                    float(month_no),
                    float(row[6]),
                    float(row[7]),
                    float(row[3]),
                    float(mods.rm_tmp[0, t]),
                    float(row[4]),
                    float(row[5]),
                    float(mods.smd[0, t]),
                    float(mods.rm_moist[0, t]),
                    float(row[8]),
                    float(mods.rm_pc[0, t]),
                    *out[2:],
                ]
            )
            if month_no == 12:
                year_rows.append(out)
    return SiteResult(year_rows, month_rows, months)


def write_results(result: SiteResult, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``year_results.csv`` and ``month_results.csv`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = (out / "year_results.csv", out / "month_results.csv")
    for path, cols, rows in (
        (paths[0], YEAR_COLUMNS, result.year_rows),
        (paths[1], MONTH_COLUMNS, result.month_rows),
    ):
        tmp = path.with_suffix(".csv.tmp")
        with tmp.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(cols)
            for r in rows:
                w.writerow(_fmt(c, v) for c, v in zip(cols, r, strict=True))
        tmp.replace(path)  # never leave a half-written result behind
    return paths


def _fmt(col: str, v: float) -> str:
    if not np.isfinite(v):
        return ""
    if col in ("Year", "Month", "PC"):
        return str(int(v))
    return f"{v:.6f}"
