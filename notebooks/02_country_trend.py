# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2. A country's SOC trend: strata, 4 per 1000 progress, uncertainty
#
# The indicator job's region tables (region x epoch x stratum) hold area-weighted means, totals
# with q05/q95 bounds, rates and 4 per 1000 progress for every level of the hierarchy.
# **The demo data are synthetic.**

# %%
# %matplotlib inline
import os

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from pipeline.store import BRANCH, open_repo

STORE = os.environ.get("SOCOBS_STORE", "../var/store")
COUNTRY = os.environ.get("SOCOBS_COUNTRY", "KEN")
session = open_repo(STORE).readonly_session(branch=BRANCH)
tables = xr.open_zarr(session.store, group="tables", consolidated=False).load()
t = tables.sel(region=COUNTRY)
print(str(t["name"].values), "| parent:", str(t["parent_id"].values), "| snapshot:", session.snapshot_id)

# %% [markdown]
# ## Stock per stratum, with the q05-q95 band

# %%
fig, ax = plt.subplots(figsize=(7, 4))
for stratum in t["stratum"].values:
    s = t.sel(stratum=stratum)
    if float(s["valid_area_km2"].max()) == 0:
        print(f"{stratum}: no cells in {COUNTRY}")
        continue
    ax.plot(s["epoch"], s["soc_stock"], marker="o", label=str(stratum))
    ax.fill_between(s["epoch"], s["soc_stock_q05"], s["soc_stock_q95"], alpha=0.15)
ax.set_ylabel("SOC stock 0-30 cm (t C/ha)")
ax.legend()
plt.show()

# %% [markdown]
# ## Every country at once: a choropleth of the region table
#
# The tables are keyed by region id; joined with the region geometries (Natural Earth, the
# same the indicator job used), `geopandas` maps them. Grey: no soil data in the grid.

# %%
from pipeline.regions.hierarchy import load_regions

regions = load_regions()
countries = regions[regions["level"] == "country"][["region_id", "name", "geometry"]]
last = tables.sel(stratum="all").isel(epoch=-1)
values = last[["soc_stock", "soc_change_rate_permille"]].to_dataframe().reset_index()
gdf = countries.merge(
    values[["region", "soc_stock", "soc_change_rate_permille"]], left_on="region_id", right_on="region"
)
gdf = gdf[gdf["region_id"] != "ATA"]  # Antarctica would take a third of the map
limit = float(np.nanpercentile(np.abs(gdf["soc_change_rate_permille"]), 95)) or 1.0
fig, axes = plt.subplots(2, 1, figsize=(10, 9))
common = {"legend": True, "missing_kwds": {"color": "lightgrey"}, "edgecolor": "white", "linewidth": 0.2}
gdf.plot(
    column="soc_stock", ax=axes[0], cmap="YlOrBr", legend_kwds={"label": "t C/ha", "shrink": 0.6}, **common
)
gdf.plot(
    column="soc_change_rate_permille",
    ax=axes[1],
    cmap="RdBu",
    vmin=-limit,
    vmax=limit,
    legend_kwds={"label": "permille/yr", "shrink": 0.6},
    **common,
)
axes[0].set_title(f"SOC stock 0-30 cm, {int(last['epoch'])}, area-weighted country mean")
axes[1].set_title(
    f"SOC change rate {int(tables['epoch'][0])}-{int(last['epoch'])} (permille of the stock per year)"
)
for ax in axes:
    ax.set_axis_off()
plt.show()

# %% [markdown]
# ## Rates and the 4 per 1000 path (linear convention, against the first epoch)

# %%
a = t.sel(stratum="all")
table = a[
    [
        "soc_stock_total",
        "soc_change_rate",
        "soc_change_rate_permille",
        "progress_4p1000",
        "trend_slope",
        "trend_sig_increase_share",
        "trend_sig_decrease_share",
    ]
].to_dataframe()
print(table.drop(columns=["region", "stratum", "name", "level", "parent_id"], errors="ignore").round(4))
latest = a.isel(epoch=-1)
progress = float(latest["progress_4p1000"])
print(
    f"\n{COUNTRY} {int(latest['epoch'])}: {float(latest['soc_change_rate_permille']):+.2f} permille/yr, "
    f"progress {progress:.2f} -> {'on' if progress >= 1 else 'not on'} the 4 per 1000 path"
)

# %% [markdown]
# ## Soil health: area shares of the SOC/clay classes

# %%
classes = ("degraded", "moderate", "good", "very_good")
shares = a[[f"sh_share_{c}" for c in classes]]
assert all(
    abs(sum(float(shares[f"sh_share_{c}"][i]) for c in classes) - 1) < 1e-9 for i in range(a.sizes["epoch"])
)
fig, ax = plt.subplots(figsize=(7, 3))
bottom = np.zeros(a.sizes["epoch"])
for c, colour in zip(classes, ("#b2182b", "#ef8a62", "#67a9cf", "#2166ac"), strict=True):
    ax.bar(a["epoch"], shares[f"sh_share_{c}"], bottom=bottom, color=colour, label=c.replace("_", " "))
    bottom += shares[f"sh_share_{c}"].values
ax.set_ylabel("share of the area")
ax.set_xticks(a["epoch"].values)
ax.legend(loc="upper left", bbox_to_anchor=(1, 1))
ax.set_title(f"{COUNTRY}: soil-health classes (SOC/clay ratio)")
plt.show()
