"""SDG 15.3.1 land cover, SOC and one-out-all-out kernels against hand-built reference cases.

The expected values are typed here from the guidance as SEPAL transcribes it
(sepal-contrib/sdg_15.3.1 @ 6131daa3, component/parameter/matrix.py default_trans_matrix), in a
different notation (+ / - / 0 by class name) from the kernel's table.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from kernels.errors import KernelInputError
from kernels.sdg import land_cover_degradation, sdg15_3_1, soc_degradation, to_unccd

ND = -128

# Rows: baseline class; columns: target class. "+" improved, "-" degraded, "0" stable.
MATRIX_TEXT = """
            tree grass crop wet  art  other water
tree         0    -    -    -    -    -     0
grass        +    0    +    -    -    -     0
crop         +    -    0    -    -    -     0
wet          -    -    -    0    -    -     0
art          +    +    +    +    0    +     0
other        +    +    +    +    -    0     0
water        0    0    0    0    0    0     0
"""
SIGN = {"+": 1, "-": -1, "0": 0}


def expected_matrix() -> dict[tuple[str, str], int]:
    lines = [ln.split() for ln in MATRIX_TEXT.strip().splitlines()]
    cols = lines[0]
    return {(row[0], c): SIGN[v] for row in lines[1:] for c, v in zip(cols, row[1:], strict=True)}


# One ESA WorldCover code per UNCCD class (the cube's landcover codes).
WC = {"tree": 10, "grass": 30, "crop": 40, "wet": 90, "art": 50, "other": 60, "water": 80}
# Every WorldCover v200 class and the UNCCD class it must land in.
WORLDCOVER = {
    10: "tree",
    20: "grass",
    30: "grass",
    40: "crop",
    50: "art",
    60: "other",
    70: "other",
    80: "water",
    90: "wet",
    95: "wet",
    100: "grass",
}
ORDER = ["tree", "grass", "crop", "wet", "art", "other", "water"]


def test_every_cell_of_the_default_matrix():
    exp = expected_matrix()
    assert len(exp) == 49
    pairs = list(exp)
    base = np.array([WC[b] for b, _ in pairs], dtype=np.uint8).reshape(7, 7)
    target = np.array([WC[t] for _, t in pairs], dtype=np.uint8).reshape(7, 7)
    got = land_cover_degradation(base, target)
    assert got.dtype == np.int8
    for k, (b, t) in enumerate(pairs):
        assert got.reshape(-1)[k] == exp[(b, t)], (b, t)


def test_every_worldcover_pair_follows_its_unccd_classes():
    exp = expected_matrix()
    codes = list(WORLDCOVER)
    base, target = (np.array(v, dtype=np.int32) for v in zip(*itertools.product(codes, codes), strict=True))
    got = land_cover_degradation(base, target)
    want = [exp[(WORLDCOVER[b], WORLDCOVER[t])] for b, t in zip(base, target, strict=True)]
    assert got.tolist() == want
    assert to_unccd(np.array(codes)).tolist() == [ORDER.index(WORLDCOVER[c]) for c in codes]


def test_unmapped_and_nan_codes_are_missing_float_input_accepted():
    base = np.array([0.0, 255.0, np.nan, 10.0, 10.0, 1000.0])
    target = np.array([10.0, 10.0, 10.0, np.nan, 40.0, 10.0])
    assert land_cover_degradation(base, target).tolist() == [ND, ND, ND, ND, -1, ND]


def test_matrix_is_overridable_and_mapping_too():
    m = np.zeros((7, 7), dtype=int)
    m[ORDER.index("crop"), ORDER.index("tree")] = -1  # a national choice: afforestation of cropland degrades
    got = land_cover_degradation([40, 10, 30], [10, 40, 10], matrix=m)
    assert got.tolist() == [-1, 0, 0]
    # a custom legend: code 1 = cropland, 2 = tree-covered
    got = land_cover_degradation([1, 2, 3], [2, 1, 1], mapping={1: 2, 2: 0})
    assert got.tolist() == [1, -1, ND]


@pytest.mark.parametrize(
    ("call", "arg"),
    [
        (lambda: land_cover_degradation(np.zeros((2, 2), int), np.zeros((2, 3), int)), "target"),
        (lambda: land_cover_degradation(np.array(["10"]), np.array([10])), "baseline"),
        (lambda: land_cover_degradation(np.array([10.5]), np.array([10])), "baseline"),
        (lambda: land_cover_degradation([10], [10], matrix=np.zeros((6, 7))), "matrix"),
        (lambda: land_cover_degradation([10], [10], matrix=np.full((7, 7), 2)), "matrix"),
        (lambda: land_cover_degradation([10], [10], mapping={10: 7}), "mapping"),
        (lambda: land_cover_degradation([10], [10], mapping={-3: 1}), "mapping"),
    ],
)
def test_land_cover_bad_input_names_the_argument(call, arg):
    with pytest.raises(KernelInputError, match=rf"^{arg}: expected"):
        call()


def test_soc_ten_percent_boundaries():
    base = np.array([100.0, 100.0, 100.0, 100.0, 37.3, 37.3, 37.3, 37.3, 50.0, 50.0])
    lo, hi = 37.3 * 0.9, 37.3 * 1.1  # the guidance: a loss / gain of MORE than 10 %
    stock = np.array(
        [90.0, 89.99, 110.0, 110.01, lo, np.nextafter(lo, 0), hi, np.nextafter(hi, np.inf), 50.0, 0.0]
    )
    assert soc_degradation(stock, base).tolist() == [0, -1, 0, 1, 0, -1, 0, 1, 0, -1]


def test_soc_missing_stays_missing_and_threshold_is_a_parameter():
    stock = np.array([[np.nan, 10.0], [10.0, 10.0]])
    base = np.array([[10.0, np.nan], [0.0, 11.0]])
    assert soc_degradation(stock, base).tolist() == [[ND, ND], [ND, 0]]
    assert soc_degradation(stock, base, threshold=0.05).tolist() == [[ND, ND], [ND, -1]]


@pytest.mark.parametrize(
    ("call", "arg"),
    [
        (lambda: soc_degradation(np.ones(3), np.ones(4)), "baseline"),
        (lambda: soc_degradation(np.array(["a"]), np.ones(1)), "stock"),
        (lambda: soc_degradation(np.ones(1), np.array([b"x"])), "baseline"),
        (lambda: soc_degradation(np.ones(1), np.ones(1), threshold=10), "threshold"),
        (lambda: soc_degradation(-np.ones(1), np.ones(1)), "stock"),
    ],
)
def test_soc_bad_input_names_the_argument(call, arg):
    with pytest.raises(KernelInputError, match=rf"^{arg}: expected"):
        call()


def reference_ooao(a: int, b: int, c: int, degraded_wins: bool) -> int:
    """One out, all out, written out case by case."""
    values = (a, b, c)
    if -1 in values and (degraded_wins or ND not in values):
        return -1
    if ND in values:
        return ND
    if 1 in values:
        return 1
    return 0


@pytest.mark.parametrize("missing", ["any", "degraded_wins"])
def test_every_combination_of_the_three_sub_indicators(missing):
    combos = list(itertools.product((-1, 0, 1, ND), repeat=3))
    assert len(combos) == 64  # 27 with data + 37 with at least one missing
    lc, prod, soc = (np.array(v, dtype=np.int8) for v in zip(*combos, strict=True))
    got = sdg15_3_1(lc, prod, soc, missing=missing)
    want = [reference_ooao(a, b, c, missing == "degraded_wins") for a, b, c in combos]
    assert got.tolist() == want


def test_combination_hand_picked_rows():
    # (lc, prod, soc) -> expected, for "any" and "degraded_wins"
    rows = [
        ((1, 1, -1), -1, -1),
        ((1, 0, 0), 1, 1),
        ((0, 0, 0), 0, 0),
        ((-1, 1, 1), -1, -1),
        ((-1, ND, 0), ND, -1),
        ((1, ND, 1), ND, ND),
        ((ND, ND, ND), ND, ND),
    ]
    lc, prod, soc = (np.array(v, dtype=np.int8) for v in zip(*(r[0] for r in rows), strict=True))
    assert sdg15_3_1(lc, prod, soc).tolist() == [r[1] for r in rows]
    assert sdg15_3_1(lc, prod, soc, missing="degraded_wins").tolist() == [r[2] for r in rows]
    assert sdg15_3_1(lc.reshape(7, 1), prod.reshape(7, 1), soc.reshape(7, 1)).shape == (7, 1)


@pytest.mark.parametrize(
    ("call", "arg"),
    [
        (lambda: sdg15_3_1(np.zeros(2, np.int8), np.zeros(3, np.int8), np.zeros(2, np.int8)), "productivity"),
        (lambda: sdg15_3_1(np.zeros(2, np.int8), np.zeros(2, np.int8), np.zeros(1, np.int8)), "soc"),
        (lambda: sdg15_3_1(np.zeros(2), np.zeros(2, np.int8), np.zeros(2, np.int8)), "land_cover"),
        (lambda: sdg15_3_1(np.full(2, 2), np.zeros(2, np.int8), np.zeros(2, np.int8)), "land_cover"),
        (lambda: sdg15_3_1(np.zeros(2, int), np.full(2, 5), np.zeros(2, int)), "productivity"),
        (lambda: sdg15_3_1([0], [0], [0], missing="all"), "missing"),  # type: ignore[arg-type]
    ],
)
def test_combination_bad_input_names_the_argument(call, arg):
    with pytest.raises(KernelInputError, match=rf"^{arg}: expected"):
        call()
