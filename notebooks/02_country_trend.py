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
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
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
plt.close(fig)

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
shares = latest[[f"sh_share_{c}" for c in ("degraded", "moderate", "good", "very_good")]]
print({k: round(float(v), 3) for k, v in shares.items()})
assert abs(sum(float(v) for v in shares.values()) - 1) < 1e-9
