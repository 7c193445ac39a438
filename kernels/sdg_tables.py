"""Default tables of SDG 15.3.1 (UNCCD Good Practice Guidance v2, 2021), as code constants.

The kernels package does no I/O, so these defaults live here; every table is also an argument
of the kernel that uses it (a job file can override it). Sources, read (not copied) on
2026-12-01:

- S  = FAO SEPAL module ``sepal-contrib/sdg_15.3.1`` at commit
  ``6131daa32b2983b0e6cbf7dd6328ff08eed1e589``, the transcription of GPG v2 followed here:
  ``component/parameter/matrix.py`` (``default_trans_matrix``, ``lc_code``,
  ``translation_matrix`` for ESA CCI codes), ``component/scripts/productivity.py``
  (``productivity_final`` = the GPG v2 lookup, ``productivity_final_GPG1`` = the GPG v1 one).
- TE = ``ConservationInternational/trends.earth-algorithms`` at commit
  ``35b2b7d7ed11b03192bc66b3ebe87d04d5bbe616`` (``te_algorithms/gdal/land_deg/land_deg_numba.py``),
  read only to document how its reading differs (see ``kernels/sdg.py``).

Codes (int8 everywhere): -1 degraded, 0 stable, +1 improved, ``NODATA`` = -128 missing.
"""

from __future__ import annotations

import numpy as np

DEGRADED, STABLE, IMPROVED = -1, 0, 1
NODATA = -128  # int8 minimum: "missing", never a class

# The seven UNCCD land-cover classes, in the order of S ``lc_code`` 10..70 (index 0..6).
UNCCD_CLASSES = (
    "tree-covered",
    "grassland",
    "cropland",
    "wetland",
    "artificial",
    "other land",
    "water bodies",
)
TREE, GRASS, CROP, WETLAND, ARTIFICIAL, OTHER, WATER = range(7)

# ESA WorldCover v100/v200 codes (the cube's ``landcover``, DESIGN.md) -> UNCCD class index.
# S maps ESA *CCI* codes; WorldCover has no such table there, so each WorldCover class takes the
# UNCCD class S gives its nearest CCI class (``translation_matrix``):
#   10 tree cover       -> tree-covered   (CCI 50-100 -> 10)
#   20 shrubland        -> grassland      (CCI 120-122 shrubland -> 20)
#   30 grassland        -> grassland      (CCI 110, 130 -> 20)
#   40 cropland         -> cropland       (CCI 10-30 -> 30)
#   50 built-up         -> artificial     (CCI 190 -> 50)
#   60 bare / sparse    -> other land     (CCI 200-202 bare -> 60). FLAG: WorldCover merges bare
#                          and sparse vegetation, while S sends CCI 150-153 "sparse" to grassland;
#                          a sparse-vegetation pixel is "other land" here.
#   70 snow and ice     -> other land     (CCI 220 -> 60)
#   80 permanent water  -> water bodies   (CCI 210 -> 70)
#   90 herbaceous wetl. -> wetland        (CCI 180 -> 40)
#   95 mangroves        -> wetland        (CCI 170 flooded saline tree cover -> 40). FLAG:
#                          a national legend may prefer tree-covered; pass ``mapping`` then.
#   100 moss and lichen -> grassland      (CCI 140 -> 20)
# Any other code (0, 255, ...) is missing.
WORLDCOVER_TO_UNCCD: dict[int, int] = {
    10: TREE,
    20: GRASS,
    30: GRASS,
    40: CROP,
    50: ARTIFICIAL,
    60: OTHER,
    70: OTHER,
    80: WATER,
    90: WETLAND,
    95: WETLAND,
    100: GRASS,
}

# Default land-cover transition matrix, rows = baseline class, columns = target class (both in
# UNCCD_CLASSES order); S ``default_trans_matrix``, row by row (row/column reading checked in S
# ``indicator_model.lc_class_combination``: code = baseline * 100 + target).
# FLAGS (kept as S has them, not guessed away):
#   - artificial -> other land is +1 (improvement) and other land -> artificial is -1: sealing bare
#     land is degradation, unsealing is improvement; consistent, but unusual;
#   - every transition from or to water bodies is 0 (stable): S and TE mask water out of the
#     indicator instead, so these cells only matter if water is not masked;
#   - wetland -> anything else is -1, including wetland -> tree-covered (same in TE).
DEFAULT_LC_MATRIX = np.array(
    [
        #  tree grass crop  wet  art other water   (target)
        [0, -1, -1, -1, -1, -1, 0],  # tree-covered (baseline)
        [1, 0, 1, -1, -1, -1, 0],  # grassland
        [1, -1, 0, -1, -1, -1, 0],  # cropland
        [-1, -1, -1, 0, -1, -1, 0],  # wetland
        [1, 1, 1, 1, 0, 1, 0],  # artificial
        [1, 1, 1, 1, -1, 0, 0],  # other land
        [0, 0, 0, 0, 0, 0, 0],  # water bodies
    ],
    dtype=np.int8,
)

# Productivity lookup: LOOKUP[trajectory + 1, state + 1, performance + 1] -> class, with
# trajectory and state in {-1, 0, +1} and performance in {-1 degraded, 0 not degraded}.
# "gpg2": S ``productivity_final`` (18 ``.where`` rows, in S's order trajectory 1..3, state 1..3,
# performance 1..2; S codes 1/2/3 = degraded/stable/improved here -1/0/+1).
# FLAG (S row 6 vs row 4): trajectory degrading + state improving + performance not degraded ->
# degraded, while trajectory degrading + state *stable* + performance not degraded -> stable: the
# class is not monotone in the state. Kept as S transcribes it.
# "gpg1": S ``productivity_final_GPG1`` (the 2017 guidance), for comparison.
PRODUCTIVITY_LOOKUPS: dict[str, np.ndarray] = {
    "gpg2": np.array(
        [
            # trajectory degrading
            [[-1, -1], [-1, 0], [-1, -1]],  # state degrading / stable / improving; [perf deg, ok]
            # trajectory stable
            [[-1, 0], [-1, 0], [0, 0]],
            # trajectory improving
            [[-1, 1], [1, 1], [1, 1]],
        ],
        dtype=np.int8,
    ),
    "gpg1": np.array(
        [
            [[-1, -1], [-1, -1], [-1, -1]],
            [[-1, 0], [0, 0], [0, 0]],
            [[-1, 1], [1, 1], [1, 1]],
        ],
        dtype=np.int8,
    ),
}

# Thresholds (S ``productivity_trajectory`` / ``productivity_state``): |z| > 1.96 is a
# significant change (p < 0.05, two-sided); 1.28 < |z| <= 1.96 the "at risk" / "potentially
# improving" levels of the five-level maps (p < 0.2). Performance: ratio <= 0.5 is degraded
# (S ``productivity_performance``: ``gte(0.5) -> 2`` then ``lte(0.5) -> 1``, so exactly 0.5 is
# degraded). SOC: a change beyond 10 % of the baseline stock.
Z_SIGNIFICANT = 1.96
Z_AT_RISK = 1.28
PERFORMANCE_CUT = 0.5
PERFORMANCE_PERCENTILE = 90.0
STATE_RECENT_YEARS = 3
SOC_THRESHOLD = 0.10

# Status of a reporting period against the baseline (GPG v2 "status matrix", in TE's reading:
# ``sdg_status_expanded`` then ``sdg_status_expanded_to_simple`` at ``35b2b7d7``; S reports each
# period on its own). STATUS_EXPANDED[baseline + 1, reporting + 1] -> 1..7:
#   1 persistent degradation (degraded, degraded)      5 baseline improvement (improved, stable)
#   2 recent degradation (stable/improved, degraded)   6 recent improvement (degraded/stable, improved)
#   3 baseline degradation (degraded, stable)          7 persistent improvement (improved, improved)
#   4 stable (stable, stable)
# and the three-class status: 1-3 degraded, 4 stable, 5-7 improved. So a pixel degraded in the
# baseline stays degraded until the reporting period shows an improvement; missing in either
# period -> missing.
STATUS_EXPANDED = np.array(
    [
        # reporting: degraded, stable, improved
        [1, 3, 6],  # baseline degraded
        [2, 4, 6],  # baseline stable
        [2, 5, 7],  # baseline improved
    ],
    dtype=np.int8,
)
STATUS_NAMES = (
    "persistent degradation",
    "recent degradation",
    "baseline degradation",
    "stable",
    "baseline improvement",
    "recent improvement",
    "persistent improvement",
)
STATUS_SIMPLE = np.array([NODATA, -1, -1, -1, 0, 1, 1, 1], dtype=np.int8)  # by expanded code
