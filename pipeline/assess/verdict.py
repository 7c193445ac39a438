"""In line with "4 per 1000"? A verdict with its reasons, and the socio-economic block.

Rule (transparent, every part reported):
1. relative annual SOC change of the with-project state, linear convention:
   (SOC_with(T) - SOC_baseline) / (T * SOC_baseline), in per mille per year, against 4 per mille
   per year (the Initiative's aspiration: 0.4 % a year in the top 30-40 cm);
2. no activity loses SOC: each activity's with-project stock at the end is not below its
   baseline stock, and the project never lowers a stock below the business-as-usual one;
3. soil-health class (SOC/clay, Prout et al. 2021, the thresholds of ``kernels.soil_health``:
   < 1/13 degraded, < 1/10 moderate, < 1/8 good, else very good) not lowered. With a location the
   observatory's cell gives clay and the measured SOC/clay ratio; the with-project ratio is the
   measured one scaled by the with-project / baseline stock ratio at the end of the period
   (the same bulk density, depth and clay are assumed, so the SOC concentration scales as the
   stock). Without a location: not assessed (Eq. 2.25 gives stocks, not SOC concentration or
   clay) - said so, not guessed.
Verdict: "in_line" when 1 >= 4 per mille and 2 and 3 hold; "contributes" when 1 is positive but
below 4 per mille and 2 and 3 hold; otherwise "not_in_line".
The socio-economic block reports what the user gave and only divides it (per hectare, per
t CO2e removed); nothing is invented.
"""

from __future__ import annotations

from typing import Any

from kernels.soil_health import CLASSES, THRESHOLDS

TARGET_PER_MILLE = 4.0


def health_class(ratio: float) -> str:
    """The SOC/clay class of ``ratio`` (a ratio exactly on a threshold takes the better class)."""
    return CLASSES[sum(ratio >= t for t in THRESHOLDS)]


def soil_health(
    clay_pct: float | None, measured_ratio: float | None, soc_baseline: float, soc_with_end: float
) -> dict[str, Any]:
    """The soil-health check: the class of the measured SOC/clay ratio and of the with-project one
    (the measured ratio times the with-project / baseline stock ratio at the end)."""
    if clay_pct is None or measured_ratio is None or not soc_baseline > 0:
        return {
            "assessed": False,
            "reason": "the observatory has no clay or no measured SOC/clay ratio at the location's cell",
        }
    scale = soc_with_end / soc_baseline
    after = measured_ratio * scale
    before_cls, after_cls = health_class(measured_ratio), health_class(after)
    return {
        "assessed": True,
        "clay_pct": clay_pct,
        "soc_clay_ratio_baseline": measured_ratio,
        "soc_clay_ratio_with_project": after,
        "stock_ratio": scale,
        "class_baseline": before_cls,
        "class_with_project": after_cls,
        "lowered": CLASSES.index(after_cls) < CLASSES.index(before_cls),
        "thresholds": "Prout et al. (2021): < 1/13 degraded, < 1/10 moderate, < 1/8 good, else very good",
        "method": "measured SOC/clay at the location's cell times the with-project / baseline 0-30 cm "
        "stock ratio at the end of the period, assuming the same bulk density, depth and clay (the "
        "SOC concentration then scales as the stock)",
    }


def verdict(
    soc0: float,
    soc_with_end: float,
    soc_without_end: float,
    years: int,
    activities: list[dict[str, Any]],
    health: dict[str, Any] | None = None,
) -> dict[str, Any]:
    rate = (soc_with_end - soc0) / (years * soc0) * 1000.0 if soc0 > 0 else 0.0
    additional = (soc_with_end - soc_without_end) / (years * soc0) * 1000.0 if soc0 > 0 else 0.0
    reasons: list[str] = []
    losing = [
        a["name"] for a in activities if a["soc_with_project_end_t_c_ha"] < a["soc_baseline_t_c_ha"] - 1e-9
    ]
    worse = [
        a["name"] for a in activities if a["soc_project_t_c_ha"] < a["soc_without_project_t_c_ha"] - 1e-9
    ]
    rate_ok = rate >= TARGET_PER_MILLE
    reasons.append(
        f"with-project SOC changes by {rate:+.2f} per mille per year relative to the baseline stock "
        f"({soc0:.2f} t C/ha) over {years} years (linear convention), "
        + ("at or above" if rate_ok else "below")
        + f" the 4 per mille target; {additional:+.2f} per mille per year of it is additional to the "
        "without-project trajectory"
    )
    if losing:
        reasons.append(f"activities losing SOC against the baseline: {', '.join(losing)}")
    else:
        reasons.append("no activity loses SOC against its baseline")
    if worse:
        reasons.append(
            f"activities whose project state stores less than business as usual: {', '.join(worse)}"
        )
    health = health or {"assessed": False}
    if health["assessed"]:
        reasons.append(
            f"soil-health class (SOC/clay) {health['class_baseline']} "
            f"({health['soc_clay_ratio_baseline']:.4f}) at the baseline and "
            f"{health['class_with_project']} ({health['soc_clay_ratio_with_project']:.4f}) with the "
            "project (measured ratio scaled by the stock ratio, same bulk density and depth): "
            + ("lowered" if health["lowered"] else "not lowered")
        )
    else:
        reasons.append(
            "soil-health class (SOC/clay) not assessed: "
            + health.get(
                "reason",
                "no location, and Tier 1 gives stocks, not SOC concentration or clay; give a location "
                "the observatory covers to have it checked",
            )
        )
    no_loss = not losing and not worse and not health.get("lowered", False)
    if rate_ok and no_loss:
        level = "in_line"
    elif rate > 0 and no_loss:
        level = "contributes"
    else:
        level = "not_in_line"
    return {
        "in_line": level == "in_line",
        "level": level,
        "relative_rate_per_mille_yr": rate,
        "additional_rate_per_mille_yr": additional,
        "target_per_mille_yr": TARGET_PER_MILLE,
        "convention": "linear: (SOC_end - SOC_baseline) / (years * SOC_baseline)",
        "soil_health": health,
        "reasons": reasons,
    }


def socio_economic(given: dict[str, Any] | None, area_ha: float, balance_t_co2e: float) -> dict[str, Any]:
    """The user's figures and what follows from them by division only."""
    if not given:
        return {"given": False, "note": "no socio-economic figures were given; none are invented"}
    out: dict[str, Any] = {"given": True, **{k: v for k, v in given.items() if v is not None}}
    cost = given.get("cost_total")
    if cost is not None:
        out["cost_per_ha"] = cost / area_ha
        if balance_t_co2e < 0:
            out["cost_per_t_co2e_removed"] = cost / -balance_t_co2e
        else:
            out["cost_per_t_co2e_removed"] = None
            out["cost_per_t_co2e_note"] = "no net removal, so no cost per t CO2e removed"
    return out
