"""The observatory's indicators, described once: id, unit, definition, reference.

The indicator job writes a map variable and region-table columns for each; the API lists the
registry (``/v1/indicators``), builds its OpenAPI enums from it and labels every number with
its unit. Table columns are per region x epoch x stratum (see ``pipeline.indicators.job``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kernels.climate_zone import ZONES

STRATA = ("all", "cropland", "grassland", "tree_cover")
# ESA WorldCover codes of each stratum (https://esa-worldcover.org/en/data-access, product user
# manual v2.0, table 1). "all" is every land cell with a stock; it includes the other classes.
STRATUM_CODES = {"cropland": (40,), "grassland": (30,), "tree_cover": (10,)}
SH_CLASSES = ("degraded", "moderate", "good", "very_good")
SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class Indicator:
    """One indicator: its map variable, its table column(s) and how to read them."""

    id: str
    unit: str
    title: str
    definition: str
    reference: str
    map_var: str | None
    table_vars: tuple[str, ...] = ()
    bounds: tuple[str, str] | None = None  # table columns of the lower / upper bound
    kind: str = "continuous"  # or "class"
    colormap: str = "viridis"
    rescale: tuple[float, float] = (0.0, 1.0)
    extra: dict[str, str] = field(default_factory=dict)


_BATJES = "Batjes (1996) Eur. J. Soil Sci. 47:151-163; FAO GSOCmap technical manual (2018)"
_4P1000 = "4 per 1000 initiative, https://4p1000.org (annual growth of 0.4 % of the 0-30/40 cm SOC stock)"

INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "soc_stock",
        "t C/ha",
        "SOC stock 0-30 cm",
        "Sum over layers in 0-30 cm of soc [g/kg] x bdod [g/cm3] x (1 - cfvo) x thickness [cm] x 0.1; "
        "region values are area-weighted means on the WGS84 ellipsoid.",
        _BATJES,
        "soc_stock",
        ("soc_stock",),
        ("soc_stock_q05", "soc_stock_q95"),
        colormap="ylorbr",
        rescale=(0.0, 150.0),
    ),
    Indicator(
        "soc_stock_total",
        "Tg C",
        "Total SOC stock 0-30 cm",
        "Area integral of soc_stock over the region's valid cells (true cell areas, WGS84).",
        _BATJES,
        None,
        ("soc_stock_total",),
        ("soc_stock_total_q05", "soc_stock_total_q95"),
    ),
    Indicator(
        "soc_stock_change",
        "t C/ha",
        "SOC stock change since the baseline",
        "soc_stock(epoch) - soc_stock(baseline epoch), per cell; region values are area-weighted means.",
        _BATJES,
        "soc_stock_change",
        ("soc_stock_change",),
        colormap="rdbu",
        rescale=(-5.0, 5.0),
    ),
    Indicator(
        "soc_change_rate",
        "t C/ha/yr",
        "Annual SOC stock change rate",
        "soc_stock_change / (epoch - baseline epoch), linear convention.",
        _4P1000,
        "soc_change_rate",
        ("soc_change_rate",),
        colormap="rdbu",
        rescale=(-1.0, 1.0),
    ),
    Indicator(
        "soc_change_rate_permille",
        "permille/yr",
        "Relative annual SOC change rate",
        "1000 x soc_change_rate / baseline stock. For a region: 1000 x (area-weighted mean rate) / "
        "(area-weighted mean baseline stock of the same cells), a ratio of sums that rolls up exactly.",
        _4P1000,
        "soc_change_rate_permille",
        ("soc_change_rate_permille",),
        colormap="rdbu",
        rescale=(-8.0, 8.0),
    ),
    Indicator(
        "progress_4p1000",
        "1",
        "Progress towards 4 per 1000",
        "Relative annual rate / 4 permille (1 = on the 4 per 1000 path). Linear convention: "
        "(S_t - S_0) / (0.004 x S_0 x (t - t_0)); the compound convention "
        "((S_t/S_0)^(1/(t-t_0)) - 1) / 0.004 is available in kernels.change.",
        _4P1000,
        "progress_4p1000",
        ("progress_4p1000",),
        colormap="brbg",
        rescale=(-2.0, 2.0),
    ),
    Indicator(
        "soc_clay_ratio",
        "1",
        "SOC/clay ratio (soil structure quality)",
        "SOC (%) / clay (%), each thickness-weighted over 0-30 cm. Classes: < 1/13 degraded, "
        "1/13-1/10 moderate, 1/10-1/8 good, > 1/8 very good.",
        "Prout et al. (2021) Eur. J. Soil Sci. 72:2493-2503, doi:10.1111/ejss.13012",
        "soc_clay_ratio",
        ("soc_clay_ratio",),
        colormap="brbg",
        rescale=(0.0, 0.25),
    ),
    Indicator(
        "sh_class",
        "class",
        "Soil health class from the SOC/clay ratio",
        "0 degraded, 1 moderate, 2 good, 3 very good (255: no data). Tables give the area share "
        "of each class.",
        "Prout et al. (2021)",
        "sh_class",
        tuple(f"sh_share_{c}" for c in SH_CLASSES),
        kind="class",
        colormap="sh",
        rescale=(0.0, 3.0),
    ),
    Indicator(
        "trend_slope",
        "t C/ha/yr",
        "Theil-Sen trend of the SOC stock",
        "Theil-Sen slope of soc_stock over the epochs from the baseline up to this epoch "
        "(at least 3 epochs).",
        "Sen (1968) JASA 63:1379-1389",
        "trend_slope",
        ("trend_slope",),
        colormap="rdbu",
        rescale=(-1.0, 1.0),
    ),
    Indicator(
        "trend_p",
        "1",
        "Mann-Kendall p-value of the SOC stock trend",
        "Two-sided Mann-Kendall p (ties and continuity corrected) over the same epochs; tables "
        f"give the area shares with a significant (p < {SIGNIFICANCE}) increase or decrease.",
        "Mann (1945) Econometrica 13:245; Kendall (1975) Rank Correlation Methods",
        "trend_p",
        ("trend_sig_increase_share", "trend_sig_decrease_share"),
        colormap="viridis",
        rescale=(0.0, 1.0),
    ),
    Indicator(
        "climate_zone",
        "class",
        "IPCC climate zone",
        "IPCC 2019 climate zone of each cell from the cube's monthly climatology (tas, pr, pet): "
        "MAT > 18 C tropical (wet MAP > 2000 mm, moist 1000-2000, dry <= 1000), 10-18 C warm "
        "temperate, 0-10 C cool temperate, <= 0 C boreal (a month above 10 C) or polar; outside the "
        "tropics moist where MAP > PET. Codes 1-12 in this order: "
        + ", ".join(f"{k} {z}" for k, z in enumerate(ZONES, start=1))
        + " (255: no data). The cube holds no elevation, so tropical montane (> 1000 m) is never "
        "assigned here. Static: one map for every epoch, recomputed when the climatology changes.",
        "IPCC (2019) 2019 Refinement to the 2006 IPCC Guidelines for National Greenhouse Gas "
        "Inventories, Vol. 4 Ch. 3 Annex 3A.5 (default climate classification scheme)",
        "climate_zone",
        kind="class",
        colormap="ipcc_zones",
        rescale=(1.0, 12.0),
    ),
)

BY_ID = {i.id: i for i in INDICATORS}
CLASS_MAPS = ("sh_class",)  # class maps of every epoch
STATIC_MAPS = ("climate_zone",)  # (y, x) maps without an epoch (the climatology is static)
CLASS_NODATA = 255
# Each class map's (code, name) pairs, in legend order.
CLASSES: dict[str, tuple[tuple[int, str], ...]] = {
    "sh_class": tuple(enumerate(SH_CLASSES)),
    "climate_zone": tuple(enumerate(ZONES, start=1)),
}

TABLE_UNITS = {
    "area_km2": "km2",
    "valid_area_km2": "km2",
    "valid_fraction": "1",
    "soc_stock": "t C/ha",
    "soc_stock_q05": "t C/ha",
    "soc_stock_q95": "t C/ha",
    "soc_stock_total": "Tg C",
    "soc_stock_total_q05": "Tg C",
    "soc_stock_total_q95": "Tg C",
    "soc_stock_change": "t C/ha",
    "soc_change_rate": "t C/ha/yr",
    "soc_change_rate_permille": "permille/yr",
    "progress_4p1000": "1",
    "soc_clay_ratio": "1",
    **{f"sh_share_{c}": "1" for c in SH_CLASSES},
    "trend_slope": "t C/ha/yr",
    "trend_sig_increase_share": "1",
    "trend_sig_decrease_share": "1",
}
