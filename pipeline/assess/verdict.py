"""In line with "4 per 1000"? A verdict with its reasons, and the socio-economic block.

Rule (transparent, every part reported):
1. relative annual SOC change of the with-project state, linear convention:
   (SOC_with(T) - SOC_baseline) / (T * SOC_baseline), in per mille per year, against 4 per mille
   per year (the Initiative's aspiration: 0.4 % a year in the top 30-40 cm);
2. no activity loses SOC: each activity's with-project stock at the end is not below its
   baseline stock, and the project never lowers a stock below the business-as-usual one;
3. soil-health class (SOC/clay): not assessed at Tier 1 (it needs SOC concentration and clay,
   which Eq. 2.25 does not give) - said so, not guessed.
Verdict: "in_line" when 1 >= 4 per mille and 2 holds; "contributes" when 1 is positive but below
4 per mille and 2 holds; otherwise "not_in_line".
The socio-economic block reports what the user gave and only divides it (per hectare, per
t CO2e removed); nothing is invented.
"""

from __future__ import annotations

from typing import Any

TARGET_PER_MILLE = 4.0


def verdict(
    soc0: float, soc_with_end: float, soc_without_end: float, years: int, activities: list[dict[str, Any]]
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
    reasons.append(
        "soil-health class (SOC/clay) not assessed: Tier 1 gives stocks, not SOC concentration or clay"
    )
    no_loss = not losing and not worse
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
