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
# # 3. Ask the API, then reproduce its number from the cube
#
# The API names the snapshot it answered from; opening that snapshot and recomputing the total
# SOC stock of a country with the kernels (stock, exact coverage, true cell areas) gives the same
# number. Run `make run` first (the API on 127.0.0.1:8000), or set `SOCOBS_API_URL`.

# %%
# %matplotlib inline
import os

import httpx
import matplotlib.pyplot as plt
import numpy as np

from kernels.stock import soc_stock
from kernels.zonal import AREA_SUM, zonal_stats
from pipeline.regions.hierarchy import load_regions
from pipeline.regions.zonal import get_coverage, read_cube_variable
from pipeline.store import open_cube

API = os.environ.get("SOCOBS_API_URL", "http://127.0.0.1:8000")
STORE = os.environ.get("SOCOBS_STORE", "../var/store")
COUNTRY = os.environ.get("SOCOBS_COUNTRY", "KEN")

summary = httpx.get(f"{API}/v1/regions/{COUNTRY}/summary", timeout=30).json()
api_total = summary["values"]["soc_stock_total"]["value"]
print(
    summary["name"],
    summary["epoch"],
    f"{api_total:.3f}",
    summary["values"]["soc_stock_total"]["unit"],
    "from snapshot",
    summary["snapshot_id"],
)

# %% [markdown]
# ## The same number from the cube of that snapshot

# %%
cube = open_cube(STORE, snapshot=summary["snapshot_id"])
sel = cube[["soc", "bdod", "cfvo"]].sel(epoch=summary["epoch"]).compute()
stock = soc_stock(
    sel["soc"].values,
    sel["bdod"].values,
    sel["cfvo"].values,
    cube["depth_top"].values,
    cube["depth_bottom"].values,
    (0, 30),
).astype(np.float32)
_, grid = read_cube_variable(STORE, "landcover", {"epoch": summary["epoch"]})
regions = load_regions()
country = regions[regions["region_id"] == COUNTRY].reset_index(drop=True)
cov = get_coverage(country, grid, "exact")
acc = zonal_stats(stock, cov, grid.row_areas())
ours = acc[0, -1, AREA_SUM] / 1e10  # t/ha x m2 -> Tg
print(
    f"recomputed: {ours:.3f} Tg C; API: {api_total:.3f} Tg C; relative difference {abs(ours / api_total - 1):.1e}"
)
assert abs(ours / api_total - 1) < 1e-6

# %% [markdown]
# ## The API's time series, with the q05-q95 bounds it serves
#
# `/v1/regions/{id}/indicators/{indicator}` answers every epoch's value and, where the indicator
# has them, the lower and upper bounds (from the soil product's 5 % and 95 % quantiles).

# %%
fig, ax = plt.subplots(figsize=(7, 4))
for region in (COUNTRY, "africa", "global"):
    body = httpx.get(f"{API}/v1/regions/{region}/indicators/soc_stock", timeout=30).json()
    pts = [p for p in body["series"] if p["value"] is not None]
    epochs = [p["epoch"] for p in pts]
    line = ax.plot(epochs, [p["value"] for p in pts], marker="o", label=body["name"])[0]
    ax.fill_between(
        epochs, [p["lower"] for p in pts], [p["upper"] for p in pts], color=line.get_color(), alpha=0.15
    )
ax.set_ylabel(f"SOC stock 0-30 cm ({body['unit']})")
ax.set_xticks(epochs)
ax.legend()
ax.set_title("Area-weighted mean with q05-q95 bounds (from the API)")
plt.show()

# %% [markdown]
# ## An interactive map over the API's tiles, offline
#
# `show_map` (in `_map.py`, beside this notebook) shows a small page in an iframe: MapLibre GL
# from the API's own vendored files, an indicator's tiles from its TileJSON
# (`/v1/tiles/{indicator}/tilejson.json`) over the API's offline country borders, and its legend
# (`/v1/tiles/{indicator}/legend`); the selector switches the indicator. Nothing comes from the
# internet. The page runs in this notebook's origin, so the API must allow it by CORS: for a
# Jupyter at http://localhost:8888, start the API with
# `SOCOBS_CORS_ORIGINS='["http://localhost:8888"]' make run` (otherwise the map says so).

# %%
from _map import show_map

show_map(API, ["soc_stock", "soc_change_rate_permille"])
