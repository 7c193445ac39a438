"""Planetary Computer sources end to end, offline, through the real path.

The shipped source definitions (catalogs/sources/pc-gnatsgo.yaml, pc-esa-worldcover.yaml; both
``sign: planetary-computer``) search a real rustac STAC API serving items shaped like Planetary
Computer's (tests/support/pc_products.py), whose hrefs are on ``*.blob.core.windows.net``. The
``planetary-computer`` package fetches SAS tokens from a local token service (PC_SDK_SAS_URL),
and GDAL reads the signed hrefs through a local HTTPS proxy (GDAL_HTTP_PROXY) standing in for
Azure Blob Storage: it serves the fixture COGs only with the container's token, 403 otherwise.

Expected values are by hand from the fixture: gNATSGO columns 0-3 hold 4500 g C/m2 (45 t C/ha),
column 4 none (water), columns 5-9 3000 g C/m2 (30 t C/ha); every row is alike, so a region's
mean is (4 x 45 + 5 x 30) / 9 whatever the cell areas.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pystac
import pytest
import rasterio
import xarray as xr
import yaml
from fastapi.testclient import TestClient
from planetary_computer.sas import TOKEN_CACHE
from planetary_computer.settings import Settings as PcSettings

from observatory_api import Settings, create_app
from pipeline.config import GridSpec, JobSpec, PeriodSpec, RegionSpec, load_source
from pipeline.errors import InputFileError
from pipeline.indicators.job import run_indicators
from pipeline.ingest.job import run_ingest
from pipeline.ingest.sign import SigningError, sign_items
from pipeline.ingest.stac_server import serve_catalog
from pipeline.store import open_repo
from tests.support import pc_products as pcp

pytestmark = pytest.mark.integration
CHANGE = ("soc_stock_change", "soc_change_rate", "soc_change_rate_permille", "progress_4p1000")
WEST, EAST = pcp.STOCK_WEST / 100.0, pcp.STOCK_EAST / 100.0  # g C/m2 -> t C/ha
ALL_MEAN = (4 * WEST + 5 * EAST) / 9


def _reset_pc() -> None:
    """The package reads its settings once (lru_cache) and caches tokens per container."""
    PcSettings.get.cache_clear()
    TOKEN_CACHE.clear()


def _job(root: Path, name: str, sources: list[str], end: int) -> JobSpec:
    return JobSpec(
        name=name,
        region=RegionSpec(bbox=pcp.BBOX),
        sources=sources,
        grid=GridSpec(resolution=pcp.RES),
        period=PeriodSpec(start=2020, end=end),
        store=str(root / name),
    )


@pytest.fixture(scope="module")
def pc(tmp_path_factory) -> Iterator[dict]:
    """Both ingestions (gNATSGO alone; gNATSGO + WorldCover) and their indicators, with the
    token requests each made."""
    root = tmp_path_factory.mktemp("pc")
    catalog, blobs = pcp.write_catalog(root)
    services = pcp.PcServices(blobs, root / "services")
    kw = {"registry": root / "regions", "cache_dir": root / "cache", "chunks": (16, 16)}
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("PC_SDK_SAS_URL", services.sas_url)
            mp.delenv("PC_SDK_SUBSCRIPTION_KEY", raising=False)
            mp.setenv("GDAL_HTTP_PROXY", services.proxy)
            mp.setenv("GDAL_HTTP_UNSAFESSL", "YES")  # the proxy's certificate is self-signed
            _reset_pc()
            with serve_catalog(catalog) as srv:
                only = _job(root, "gnatsgo-only", ["pc-gnatsgo"], 2020)
                run_ingest(only, stac_url=srv.url)
                tokens_only = services.requests("token")
                both = _job(root, "gnatsgo-worldcover", ["pc-gnatsgo", "pc-esa-worldcover"], 2021)
                run_ingest(both, stac_url=srv.url)
                tokens_both = services.requests("token")[len(tokens_only) :]
                run_indicators(only.store, **kw)
                run_indicators(both.store, **kw)
                yield {
                    "root": root,
                    "catalog": catalog,
                    "blobs": blobs,
                    "services": services,
                    "stac": srv.url,
                    "only": only,
                    "both": both,
                    "tokens_only": tokens_only,
                    "tokens_both": tokens_both,
                }
    finally:
        _reset_pc()
        services.close()


def _group(store: str, group: str) -> xr.Dataset:
    s = open_repo(store).readonly_session(branch="main")
    return xr.open_zarr(s.store, group=group, consolidated=False, mask_and_scale=False).load()


def _issued(pc: dict, account: str, container: str) -> str:
    (token,) = {
        t["token"]
        for t in pc["services"].requests("token")
        if (t["account"], t["container"]) == (account, container)
    }
    return token


# ---- signing -----------------------------------------------------------------------------------


def test_one_token_per_container_and_run_from_the_token_service(pc):
    got = [(t["account"], t["container"]) for t in pc["tokens_only"]]
    assert got == [pcp.GNATSGO]  # gNATSGO's container only, once for its three assets
    # the second run finds gNATSGO's token in the package's cache; WorldCover's is new
    assert [(t["account"], t["container"]) for t in pc["tokens_both"]] == [pcp.WORLDCOVER]


def test_the_provenance_names_every_blob_but_stores_no_token(pc):
    prov = json.loads(_group(pc["both"].store, "cube").attrs["provenance"])
    expect = {
        "soc_stock_src": (pcp.GNATSGO, "nrcs.blob.core.windows.net"),
        "landcover": (pcp.WORLDCOVER, "ai4edataeuwest.blob.core.windows.net"),
    }
    for var, (container, host) in expect.items():
        hrefs = [h for entry in prov[var]["inputs"].values() for h in entry["hrefs"]]
        assert hrefs and len(hrefs) == (1 if var == "soc_stock_src" else 2)
        token = _issued(pc, *container)
        for href in hrefs:
            url = urlsplit(href)
            assert url.scheme == "https" and url.netloc == host
            assert "?" not in href and token.split("&")[0] not in href  # the token is not stored


def test_signing_a_signed_item_again_changes_nothing_and_fetches_no_token(pc):
    items = [
        pystac.Item.from_file(str(p))
        for p in sorted(pc["catalog"].rglob("*.json"))
        if p.name not in ("catalog.json", "collection.json")
    ]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PC_SDK_SAS_URL", pc["services"].sas_url)
        before = len(pc["services"].requests("token"))
        once = sign_items(items, "planetary-computer")
        twice = sign_items(once, "planetary-computer")
    assert len(pc["services"].requests("token")) == before  # both tokens are cached
    for a, b, raw in zip(once, twice, items, strict=True):
        for key, asset in raw.assets.items():
            if ".blob.core.windows.net" in asset.href:
                assert a.assets[key].href.startswith(asset.href + "?st=")
            else:  # the Planetary Computer data API (tilejson, preview) is not blob storage
                assert a.assets[key].href == asset.href
            assert b.assets[key].href == a.assets[key].href
        assert "?" not in next(iter(raw.assets.values())).href  # the input items are not modified


def test_gdal_read_every_blob_with_the_token_and_nothing_unsigned(pc):
    reads = [r for r in pc["services"].requests("blob") if (r["host"], r["path"]) in pc["blobs"]]
    assert {(r["host"], r["path"]) for r in reads} == set(pc["blobs"])  # every fixture COG was read
    assert any(r["method"] == "GET" and r["status"] == 206 for r in reads)  # range requests
    for r in reads:
        container = (r["host"].split(".")[0], r["path"].split("/")[1])
        want = parse_qs(_issued(pc, *container))["sig"]
        assert parse_qs(r["query"]).get("sig") == want, r
        assert r["status"] in (200, 206), r
    # GDAL's directory probes (the folder URL with "/" after the query) are no blob reads: the
    # store refuses them like Azure refuses a mangled signature, and nothing else was served
    others = [r for r in pc["services"].requests("blob") if (r["host"], r["path"]) not in pc["blobs"]]
    assert all(r["status"] in (403, 404) for r in others)


def test_an_unsigned_blob_request_is_refused_403(pc):
    (host, path) = next(k for k in pc["blobs"] if k[0].startswith("nrcs"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GDAL_HTTP_PROXY", pc["services"].proxy)
        mp.setenv("GDAL_HTTP_UNSAFESSL", "YES")
        with pytest.raises(rasterio.errors.RasterioIOError, match="403"):
            rasterio.open(f"https://{host}{path}")
    last = [r for r in pc["services"].requests("blob") if r["path"] == path and r["query"] == ""]
    assert last and all(r["status"] == 403 for r in last)


# ---- the indicators ------------------------------------------------------------------------------


def test_gnatsgo_alone_gives_the_stock_and_says_what_it_cannot(pc):
    ind = _group(pc["only"].store, "indicators")
    assert ind["epoch"].values.tolist() == [2020]  # the release's item year labels the one epoch
    want = pcp.expected_stock_g_m2() / 100.0
    np.testing.assert_allclose(ind["soc_stock"].isel(epoch=0).values, want, rtol=1e-6)
    assert np.isnan(ind["soc_stock"].values[0, :, 4]).all()  # no soil data under the water
    for name in (*CHANGE, "trend_slope", "soc_stock_q05", "soc_clay_ratio"):
        assert np.isnan(ind[name].values).all(), name
    assert ind.attrs["stock_method"] == "direct (soc_stock_src)"
    na = ind.attrs["not_available"]
    assert "1 epoch" in na["soc_stock_change"] and "strata" in na and "sdg15_3_1" in na
    t = _group(pc["only"].store, "tables").sel(epoch=2020)
    assert float(t.sel(region="USA", stratum="all")["soc_stock"]) == pytest.approx(ALL_MEAN, rel=1e-6)
    for stratum in ("cropland", "grassland", "tree_cover"):
        assert np.isnan(float(t.sel(region="USA", stratum=stratum)["soc_stock"])), stratum


def test_with_worldcover_the_strata_and_still_no_change(pc):
    ind = _group(pc["both"].store, "indicators")
    assert ind["epoch"].values.tolist() == [2020, 2021]
    want = pcp.expected_stock_g_m2() / 100.0
    for e in (2020, 2021):  # one release serves every epoch
        np.testing.assert_allclose(ind["soc_stock"].sel(epoch=e).values, want, rtol=1e-6)
    for name in CHANGE:  # a static stock: no change, NaN and never 0
        assert np.isnan(ind[name].values).all(), name
    assert "static" in ind.attrs["not_available"]["soc_stock_change"]
    assert "strata" not in ind.attrs["not_available"]
    t = _group(pc["both"].store, "tables")
    usa = t.sel(region="USA")
    for e in (2020, 2021):
        assert float(usa.sel(stratum="all", epoch=e)["soc_stock"]) == pytest.approx(ALL_MEAN, rel=1e-6)
        assert float(usa.sel(stratum="cropland", epoch=e)["soc_stock"]) == pytest.approx(WEST, rel=1e-6)
        assert float(usa.sel(stratum="grassland", epoch=e)["soc_stock"]) == pytest.approx(EAST, rel=1e-6)
    # column 9 is tree cover in 2021 only (WorldCover v200): 30 t C/ha there, none in 2020
    assert float(usa.sel(stratum="tree_cover", epoch=2021)["soc_stock"]) == pytest.approx(EAST, rel=1e-6)
    assert np.isnan(float(usa.sel(stratum="tree_cover", epoch=2020)["soc_stock"]))
    crop, grass = (float(usa.sel(stratum=s, epoch=2021)["area_km2"]) for s in ("cropland", "grassland"))
    assert crop == pytest.approx(grass, rel=1e-6)  # columns 0-3 and 5-8 in 2021: equal areas


def test_the_api_answers_with_the_stock_and_says_what_is_not_available(pc):
    root = pc["root"]
    settings = Settings(
        store=pc["both"].store, registry=root / "regions", var=root / "var", poll_seconds=3600
    )
    with TestClient(create_app(settings)) as c:
        body = c.get("/v1/indicators").json()
        rows = {r["id"]: r for r in body["indicators"]}
        assert body["inputs"]["stock_method"] == "direct (soc_stock_src)"
        assert rows["soc_stock"]["not_available"] is None
        assert (
            rows["soc_stock_change"]["not_available"]
            and "static" in rows["soc_stock_change"]["not_available"]
        )
        assert rows["soc_stock"]["strata"] == ["all", "cropland", "grassland", "tree_cover"]
        crop = c.get("/v1/regions/USA/indicators/soc_stock", params={"stratum": "cropland"}).json()
        assert [p["value"] for p in crop["series"]] == pytest.approx([WEST, WEST], rel=1e-6)
        assert crop["series"][0]["lower"] is None and crop["bounds_not_available"]
        prog = c.get("/v1/regions/USA/indicators/progress_4p1000").json()
        assert [p["value"] for p in prog["series"]] == [None, None] and "not available" in prog[
            "not_available"
        ]
    settings = Settings(
        store=pc["only"].store, registry=root / "regions", var=root / "var2", poll_seconds=3600
    )
    with TestClient(create_app(settings)) as c:
        rows = {r["id"]: r for r in c.get("/v1/indicators").json()["indicators"]}
        assert rows["soc_stock"]["strata"] == ["all"]
        crop = c.get("/v1/regions/USA/indicators/soc_stock", params={"stratum": "cropland"}).json()
        assert crop["series"][0]["value"] is None and "cropland" in crop["not_available"]


# ---- bad input -------------------------------------------------------------------------------------


def test_token_service_down_is_one_paragraph_exit_2_and_the_store_is_unchanged(pc, tmp_path):
    store = pc["only"].store
    before = [s.id for s in open_repo(store).ancestry(branch="main")]
    fresh = tmp_path / "fresh-store"
    down = pcp.closed_port_url()
    for target in (store, str(fresh)):
        job = json.loads(_job(tmp_path, "down", ["pc-gnatsgo"], 2020).model_dump_json())
        job.update(store=target, stac_url=pc["stac"])
        job_file = tmp_path / "job.yaml"
        job_file.write_text(yaml.safe_dump(job))
        env = {**os.environ, "PC_SDK_SAS_URL": down}
        env.pop("PC_SDK_SUBSCRIPTION_KEY", None)
        done = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "ingest", str(job_file)],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            cwd=tmp_path,
        )
        assert done.returncode == 2, done.stderr
        err = done.stderr.strip()
        assert err.startswith("error: ") and "Traceback" not in err and "\n\n" not in err
        assert f"{down}/nrcs/gnatsgo" in err  # the service's URL for the container
        assert "ConnectionError" in err and "PC_SDK_SUBSCRIPTION_KEY" in err and "network" in err
        assert "store is unchanged" in err
    assert [s.id for s in open_repo(store).ancestry(branch="main")] == before
    assert not fresh.exists()


def test_an_unknown_signer_is_refused_in_one_paragraph(tmp_path):
    doc = yaml.safe_load(Path("catalogs/sources/pc-gnatsgo.yaml").read_text())
    doc["sign"] = "aws-requester-pays"
    path = tmp_path / "src.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputFileError) as exc:
        load_source(str(path))
    msg = str(exc.value)
    assert "sign:" in msg and "'aws-requester-pays'" in msg and "planetary-computer" in msg
    assert "\n" not in msg
    assert load_source("pc-gnatsgo").sign == "planetary-computer"


def test_a_refused_key_is_one_paragraph_naming_the_service_and_the_answer(pc):
    items = [
        pystac.Item.from_file(str(p))
        for p in sorted((pc["catalog"] / "gnatsgo-rasters").rglob("*.json"))
        if p.name != "collection.json"
    ]
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("PC_SDK_SAS_URL", pc["services"].sas_url)
            mp.setenv("PC_SDK_SUBSCRIPTION_KEY", pcp.REFUSED_KEY)
            _reset_pc()  # neither the cached settings nor the cached token may answer
            with pytest.raises(SigningError) as exc:
                sign_items(items, "planetary-computer")
    finally:
        _reset_pc()
    msg = str(exc.value)
    assert f"{pc['services'].sas_url}/nrcs/gnatsgo" in msg and "HTTP 401" in msg
    assert "invalid subscription key" in msg and "PC_SDK_SUBSCRIPTION_KEY" in msg
    assert "\n" not in msg and "store is unchanged" in msg
    assert pc["services"].requests("refused") == [
        {"kind": "refused", "account": "nrcs", "container": "gnatsgo"}
    ]
