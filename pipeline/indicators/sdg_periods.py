"""SDG 15.3.1 periods (the baseline and the reporting periods, and what each compares) and the
names of its maps and classes (imported by the API: this module writes nothing).

UNCCD Good Practice Guidance v2 (2021): a baseline period (GPG v2: 2000-2015) and reporting
periods after it (2016-2019, ...). For each period:

- land cover and SOC compare two epochs of the cube: the baseline's first and last epochs; a
  reporting period's last epoch against the baseline's last (GPG v2: 2015 -> 2019);
- land productivity runs over a window of NDVI years: the baseline's own years; for a reporting
  period, the years ending at its last year with the baseline's length (GPG v2: 2004-2019
  against 2000-2015), so that trajectory and state weigh the same number of years.

The periods are set in the job file's ``indicators: {sdg15_3_1: ...}`` section
(``pipeline.config.SdgJobSpec``, turned into an ``SdgSpec`` by ``from_job``) or passed to the
job; when neither gives them, they are derived from the cube's epochs (``default_periods``): the
baseline is the first ``max(5, n // 2)`` epochs (five years are the fewest the productivity
state needs: two earlier years and the last three), capped so that one epoch is left to report
on (but at least two), and one reporting period runs from the epoch after the baseline to the
last epoch; a cube of two epochs has a baseline only. The demo cube (epochs 2015-2024) gets
baseline 2015-2019 and reporting 2020-2024.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

from kernels.sdg import Missing
from kernels.sdg_tables import SOC_THRESHOLD
from pipeline.errors import PipelineError

Kind = Literal["baseline", "reporting"]
LAYERS = ("sdg_15_3_1", "sdg_period", "sdg_land_cover", "sdg_productivity", "sdg_soc")
TITLES = {
    "sdg_15_3_1": "SDG 15.3.1 land degradation (status against the baseline)",
    "sdg_period": "SDG 15.3.1 one out, all out within the period",
    "sdg_land_cover": "SDG 15.3.1 sub-indicator: land cover",
    "sdg_productivity": "SDG 15.3.1 sub-indicator: land productivity",
    "sdg_soc": "SDG 15.3.1 sub-indicator: SOC stock",
}
FLAGS = ((-1, "degraded"), (0, "stable"), (1, "improved"))
METHOD = (
    "UNCCD Good Practice Guidance for SDG indicator 15.3.1, version 2 (Sims et al. 2021, UNCCD, "
    "Bonn, ISBN 978-92-95118-29-4), as transcribed by FAO SEPAL sepal-contrib/sdg_15.3.1 at "
    "6131daa3 (productivity lookup gpg2, land-cover matrix, SOC +-10 %); status matrix as "
    "Trends.Earth sdg_status_expanded (35b2b7d7)"
)
CLASSES = ("degraded", "stable", "improved", "no_data")  # table classes
MIN_BASELINE_YEARS = 5


@dataclass(frozen=True)
class Period:
    """One period: its label (``"2015-2019"``), kind, years, compared epochs and NDVI years."""

    label: str
    kind: Kind
    first: int
    last: int
    lc_from: int  # epoch of the land cover / SOC compared against
    lc_to: int
    ndvi_first: int  # productivity window (inclusive)
    ndvi_last: int


@dataclass(frozen=True)
class SdgSpec:
    """Settings of the SDG pass. ``baseline`` / ``reporting``: (first year, last year), None for
    the default of ``default_periods``. ``lookup``: the productivity lookup ("gpg2", "gpg1");
    ``missing``: the one-out-all-out rule for missing sub-indicators (``kernels.sdg``)."""

    baseline: tuple[int, int] | None = None
    reporting: tuple[tuple[int, int], ...] | None = None
    lookup: str = "gpg2"
    missing: Missing = "any"
    soc_threshold: float = SOC_THRESHOLD
    matrix: tuple[tuple[int, ...], ...] | None = None  # 7x7 land-cover matrix, None = GPG v2
    skip: bool = False  # compute no SDG at all


def from_job(section: Any) -> SdgSpec:
    """The ``SdgSpec`` of a job file's ``indicators.sdg15_3_1`` (``pipeline.config.SdgJobSpec``,
    already validated there)."""
    m = section.land_cover_matrix
    return SdgSpec(
        baseline=None if section.baseline is None else (int(section.baseline[0]), int(section.baseline[1])),
        reporting=None
        if section.reporting is None
        else tuple((int(a), int(b)) for a, b in section.reporting),
        lookup=section.lookup,
        missing=section.missing,
        soc_threshold=float(section.soc_threshold),
        matrix=None if m is None else tuple(tuple(int(v) for v in row) for row in m),
        skip=bool(section.skip),
    )


def spec_key(spec: SdgSpec) -> str:
    """A canonical text of ``spec`` (stored with the SDG group: a different one recomputes it)."""
    return json.dumps(asdict(spec), sort_keys=True, separators=(",", ":"))


def label(first: int, last: int) -> str:
    return f"{first}-{last}"


def default_periods(epochs: list[int]) -> tuple[tuple[int, int], tuple[tuple[int, int], ...]]:
    """(baseline, reporting periods) for a cube with these epochs (see the module docstring)."""
    n = len(epochs)
    if n == 2:  # a baseline and nothing to report on yet
        return (epochs[0], epochs[1]), ()
    k = max(2, min(max(MIN_BASELINE_YEARS, n // 2), n - 1))
    return (epochs[0], epochs[k - 1]), ((epochs[k], epochs[-1]),)


def periods(epochs: list[int], spec: SdgSpec) -> list[Period]:
    """The periods of ``spec`` (or the defaults) checked against the cube's epochs."""
    if len(epochs) < 2:
        raise PipelineError(
            f"SDG 15.3.1: expected a cube with at least two epochs (a baseline and a later one), got "
            f"{epochs}. Ingest more years, or pass SdgSpec(skip=True)."
        )
    default_b, default_r = default_periods(epochs)
    b0, b1 = spec.baseline or default_b
    reporting = spec.reporting if spec.reporting is not None else default_r

    def need_epoch(year: int, what: str) -> None:
        if year not in epochs:
            raise PipelineError(
                f"SDG 15.3.1 {what}: expected a year that is an epoch of the cube ({epochs[0]}-"
                f"{epochs[-1]}: {epochs}), got {year}. Choose periods whose first and last years are "
                "epochs."
            )

    if b0 >= b1:
        raise PipelineError(
            f"SDG 15.3.1 baseline: expected first year < last year, got {b0}-{b1}. Give a baseline "
            "of at least two epochs (five years for land productivity)."
        )
    need_epoch(b0, "baseline start")
    need_epoch(b1, "baseline end")
    out = [Period(label(b0, b1), "baseline", b0, b1, b0, b1, b0, b1)]
    for r0, r1 in reporting:
        if not b1 < r0 <= r1:
            raise PipelineError(
                f"SDG 15.3.1 reporting period {r0}-{r1}: expected years after the baseline "
                f"{b0}-{b1}, first <= last. Choose a reporting period that starts after {b1}."
            )
        need_epoch(r1, f"reporting period {r0}-{r1} end")
        out.append(Period(label(r0, r1), "reporting", r0, r1, b1, r1, r1 - (b1 - b0), r1))
    labels = [p.label for p in out]
    if len(set(labels)) != len(labels):
        raise PipelineError(f"SDG 15.3.1: expected distinct periods, got {labels}. Remove the repeats.")
    return out
