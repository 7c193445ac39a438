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
# # 4. Bring your own data: a folder of COGs -> STAC -> cube -> indicators
#
# Your soil maps are Cloud-Optimized GeoTIFFs (or VRTs) in a folder, one file per layer and
# year, named like SoilGrids' layers with the year in the name (`soc_0-5cm_mean_2016.tif`);
# the raster's own scale, offset and unit say how to read its numbers. This notebook
#
# 1. writes such a folder for a small window of central Kenya (**SYNTHETIC values**, standing in
#    for your files: point `FOLDER` at your own instead),
# 2. indexes it with `socobs stac index` (a static STAC catalog, projection and raster
#    extensions) and serves it as a STAC API (`socobs stac serve`, here from Python),
# 3. ingests it with `socobs ingest` (a job file naming two source definitions: which asset is
#    which variable) and computes the indicators with `socobs indicators`,
# 4. looks at the result: a map of the SOC stock and the window's region table.
#
# Set `SOCOBS_BYO_DIR` to keep the work folder (default: a new temporary folder).

# %%
# %matplotlib inline
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import rasterio
import xarray as xr
from rasterio.transform import from_origin

from pipeline.ingest.stac_server import start_server
from pipeline.paths import catalogs_dir
from pipeline.store import BRANCH, open_cube, open_repo

WORK = Path(os.environ.get("SOCOBS_BYO_DIR") or tempfile.mkdtemp(prefix="socobs-byo-"))
WORK.mkdir(parents=True, exist_ok=True)
FOLDER = WORK / "my-cogs"
WEST, NORTH, RES, SIZE = 36.0, 0.5, 0.05, 40  # a 2 x 2 degree window, 0.05 degree cells
YEARS = (2015, 2016, 2017)
print("work folder:", WORK)


def socobs(*args: str) -> None:
    """Run a `socobs` command (as in a terminal), print what it says, stop on a failure."""
    res = subprocess.run([sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True)
    print(res.stdout.strip() or "", res.stderr.strip()[-2000:] if res.returncode else "", sep="\n")
    if res.returncode:
        raise RuntimeError(f"socobs {args[0]} exited {res.returncode}")


# %% [markdown]
# ## 1. The folder of COGs (synthetic stand-ins for your files)
#
# SoilGrids' encoding: int16 with nodata -32768; SOC in dg/kg (scale 0.1 -> g/kg), bulk density
# in cg/cm3 (scale 0.01 -> g/cm3), coarse fragments in cm3/dm3 (scale 0.001 -> fraction), clay in
# g/kg (scale 0.1 -> %); land cover as ESA WorldCover class codes (uint8, nodata 0).

# %%
rng = np.random.default_rng(2016)
yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
base_soc = 12 + 20 * yy + 6 * np.sin(6 * xx) + rng.normal(0, 1, (SIZE, SIZE))  # g/kg at 0-5 cm
landcover = np.where(xx + 0.3 * yy < 0.45, 40, np.where(yy > 0.7, 10, 30)).astype("uint8")  # crop/tree/grass
layers = {"0-5cm": 1.0, "5-15cm": 0.8, "15-30cm": 0.6}  # SOC falls with depth
transform = from_origin(WEST, NORTH, RES, RES)


def write_cog(path: Path, values: np.ndarray, dtype: str, nodata: int, scale: float, unit: str) -> None:
    grid = {"width": SIZE, "height": SIZE, "crs": "EPSG:4326", "transform": transform}
    profile = {"driver": "COG", "count": 1, "dtype": dtype, "nodata": nodata, "blocksize": 16, **grid}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.round(values / scale).astype(dtype), 1)
        dst.scales, dst.units = (scale,), (unit,)


FOLDER.mkdir(exist_ok=True)
for k, year in enumerate(YEARS):
    cropland_loss = np.where(landcover == 40, 1 - 0.03 * k, 1 + 0.005 * k)  # cropland loses SOC
    for depth, f in layers.items():
        soc = base_soc * f * cropland_loss
        for stat, g in (("mean", 1.0), ("Q0.05", 0.7), ("Q0.95", 1.4)):
            write_cog(FOLDER / f"soc_{depth}_{stat}_{year}.tif", soc * g, "int16", -32768, 0.1, "g/kg")
        write_cog(FOLDER / f"bdod_{depth}_mean_{year}.tif", 1.45 - 0.02 * soc, "int16", -32768, 0.01, "g/cm3")
        write_cog(
            FOLDER / f"cfvo_{depth}_mean_{year}.tif", np.full_like(soc, 0.08), "int16", -32768, 0.001, "1"
        )
        write_cog(FOLDER / f"clay_{depth}_mean_{year}.tif", 20 + 15 * xx, "int16", -32768, 0.1, "%")
    write_cog(FOLDER / f"map_{year}.tif", landcover, "uint8", 0, 1.0, "class")
print(len(list(FOLDER.glob("*.tif"))), "COGs in", FOLDER)

# %% [markdown]
# ## 2. Index the folder and serve it as a STAC API

# %%
CATALOG = WORK / "my-catalog"
if not CATALOG.exists():
    socobs(
        "stac",
        "index",
        str(FOLDER),
        "--out",
        str(CATALOG),
        "--collection",
        "my-soil",
        "--license",
        "CC-BY-4.0",
    )
server = start_server(CATALOG)  # the same as `socobs stac serve my-catalog`, stopped at the end
print("STAC API:", server.url)

# %% [markdown]
# ## 3. Source definitions, a job file, ingest and indicators
#
# The packaged SoilGrids-like and WorldCover definitions already name these asset keys; only
# the collection changes. A job file says where, when, on which grid and into which store.

# %%
for name, packaged in (("my-soil", "demo-soilgrids"), ("my-landcover", "demo-worldcover")):
    text = (catalogs_dir() / "sources" / f"{packaged}.yaml").read_text()
    text = text.replace(f"name: {packaged}", f"name: {name}").replace(
        f"collection: {packaged}", "collection: my-soil"
    )
    (WORK / f"{name}.yaml").write_text(text)
STORE = WORK / "store"
(WORK / "job.yaml").write_text(
    f"""name: my-window
region: {{bbox: [{WEST}, {NORTH - SIZE * RES}, {WEST + SIZE * RES}, {NORTH}]}}
sources: [my-soil.yaml, my-landcover.yaml]
grid: {{crs: "EPSG:4326", resolution: {RES}}}
period: {{start: {YEARS[0]}, end: {YEARS[-1]}}}
store: store
stac_url: {server.url}
"""
)
if not STORE.exists():
    socobs("ingest", str(WORK / "job.yaml"), "--var", str(WORK / "var"))
    socobs("indicators", str(WORK / "job.yaml"), "--var", str(WORK / "var"))
server.stop()

# %% [markdown]
# ## 4. The indicators of your window
#
# The maps are CF/rioxarray-conformant: `.rio.crs` is EPSG:4326, units parse with pint.

# %%
ind = open_cube(str(STORE), group="indicators")
print({name: ind[name].attrs.get("units", "") for name in ind.data_vars})
fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
ind["soc_stock"].isel(epoch=-1).plot(ax=axes[0], cmap="YlOrBr", cbar_kwargs={"label": "t C/ha"})
axes[0].set_title(f"SOC stock 0-30 cm, {int(ind['epoch'][-1])}")
ind["soc_change_rate"].isel(epoch=-1).plot(
    ax=axes[1], cmap="RdBu", center=0, cbar_kwargs={"label": "t C/ha/yr"}
)
axes[1].set_title("SOC change rate since the first epoch")
fig.suptitle("Your window (SYNTHETIC stand-in data)")
plt.show()

# %% [markdown]
# The region tables: every region of the hierarchy the window touches, per epoch and land-cover
# stratum (the window is inside Kenya, so Kenya's row covers only the window's cells).

# %%
session = open_repo(str(STORE)).readonly_session(branch=BRANCH)
tables = xr.open_zarr(session.store, group="tables", consolidated=False).load()
covered = tables.sel(stratum="all").isel(epoch=-1)
covered = covered.where(covered["valid_area_km2"] > 0, drop=True)
print(
    covered[["name", "valid_area_km2", "soc_stock", "soc_change_rate"]]
    .to_dataframe()[["name", "valid_area_km2", "soc_stock", "soc_change_rate"]]
    .round(3)
)
