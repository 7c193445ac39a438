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
# # 1. Open a cube: variables, units, provenance, a past snapshot, a map of SOC stock
#
# The cube is an Icechunk repository of Zarr v3 arrays; `open_cube` returns a lazy, dask-backed
# `xarray.Dataset` of any snapshot. Run `make run` first (or set `SOCOBS_STORE` to another store).
# **The demo data are synthetic.**

# %%
# %matplotlib inline
import json
import os

import matplotlib.pyplot as plt
import numpy as np

from kernels.xr import soc_stock
from pipeline.store import cube_log, open_cube

STORE = os.environ.get("SOCOBS_STORE", "../var/store")
cube = open_cube(STORE)
cube

# %% [markdown]
# Every canonical variable carries its unit; the CRS is in `spatial_ref` and `attrs["crs"]`.

# %%
for name, da in cube.data_vars.items():
    print(f"{name:10s} {da.attrs.get('units', ''):10s} {da.dims}")
print(cube.attrs["crs"][:60], "...")

# %% [markdown]
# ## Provenance: which STAC items made the SOC of the latest epoch

# %%
prov = json.loads(cube.attrs["provenance"])
latest = str(int(cube["epoch"].values[-1]))
entry = prov["soc"]["inputs"][latest]
print(prov["soc"]["source"], prov["soc"]["software"])
print(entry["items"], entry["datetimes"])
print(len(entry["hrefs"]), "asset hrefs, e.g.", entry["hrefs"][0])

# %% [markdown]
# ## History and a past snapshot
#
# Every job is one commit. The first ingestion is still readable, whatever came after.

# %%
log = cube_log(STORE)
for e in log[:6]:
    print(e.snapshot_id, e.written_at.strftime("%Y-%m-%d %H:%M"), e.message)
first = next(e for e in reversed(log) if e.metadata.get("kind") == "ingest")
past = open_cube(STORE, snapshot=first.snapshot_id)
print("epochs then:", past["epoch"].values.tolist(), "now:", cube["epoch"].values.tolist())
assert np.array_equal(past["soc"].isel(epoch=0).values, cube["soc"].isel(epoch=0).values, equal_nan=True)

# %% [markdown]
# ## SOC stock 0-30 cm of the latest epoch (t C/ha), computed from the layers
#
# `kernels.xr.soc_stock` sums soc x bdod x (1 - cfvo) x thickness over the layers in 0-30 cm.

# %%
last = cube.isel(epoch=-1)
stock = soc_stock(last["soc"], last["bdod"], last["cfvo"]).compute()
print(f"mean over land cells: {float(stock.mean()):.1f} t C/ha")
fig, ax = plt.subplots(figsize=(9, 4))
stock.plot(ax=ax, cmap="YlOrBr", vmin=0, vmax=150, cbar_kwargs={"label": "t C/ha"})
ax.set_title(f"SOC stock 0-30 cm, {latest} (synthetic demo data)")
plt.show()
