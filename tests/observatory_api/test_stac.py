"""``/v1/stac`` and ``/v1/stac/items``: the published products as a STAC 1.1 collection and one
item per epoch, valid against the core JSON schemas (pystac's bundled copies: no network), linked
both ways, and usable: the datacube dimensions are the maps' own, and the xarray-assets open
kwargs with the named Icechunk snapshot open the very arrays the API serves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import icechunk
import numpy as np
import pystac
import pytest
import xarray as xr
from pystac.errors import STACValidationError
from pystac.extensions.datacube import DatacubeExtension
from pystac.extensions.xarray_assets import AssetXarrayAssetsExtension, XarrayAssetsExtension
from pystac.validation import validate_dict
from pystac.validation.stac_validator import JsonSchemaSTACValidator

from pipeline.store import INDICATORS, open_group

SCHEMAS = Path(__file__).parents[1] / "data" / "stac-schemas"
PROJJSON = (
    "https://proj.org/schemas/v0.4/projjson.schema.json",
    "https://proj.org/schemas/v0.7/projjson.schema.json",
)


class OfflineValidator(JsonSchemaSTACValidator):
    """pystac's JSON-schema validator with the core schemas pystac bundles and the extension
    schemas vendored under tests/data/stac-schemas; any other schema fails the test instead of
    being fetched."""

    def __init__(self) -> None:
        super().__init__()
        for path in SCHEMAS.glob("*-v*.json"):
            schema = json.loads(path.read_text())
            self.schema_cache[schema["$id"].rstrip("#")] = schema
        standin = json.loads((SCHEMAS / "projjson-standin.json").read_text())
        self.schema_cache.update(dict.fromkeys(PROJJSON, standin))

    def _get_schema(self, schema_uri: str) -> dict[str, Any]:
        if schema_uri not in self.schema_cache:
            raise AssertionError(f"validation would fetch {schema_uri}: vendor it under {SCHEMAS}")
        return self.schema_cache[schema_uri]


def _validate(body: dict[str, Any]) -> list[str]:
    """Every schema ``body`` was validated against (core and each of its extensions), offline."""
    return validate_dict(body, validator=OfflineValidator())


def test_the_collection_is_valid_linked_and_describes_the_cube(client, api_store):
    body = client.get("/v1/stac").json()
    validate_dict(body, extensions=[])  # the core schema, offline
    coll = pystac.Collection.from_dict(body)
    rels = {link["rel"]: link["href"] for link in body["links"]}  # as published (pystac would fetch them)
    assert rels["self"] == rels["root"] and rels["self"].endswith("/v1/stac")
    assert rels["items"].endswith("/v1/stac/items")
    session = icechunk.Repository.open(icechunk.local_filesystem_storage(api_store.store)).readonly_session(
        snapshot_id=body["soc:snapshot_id"]
    )
    maps = open_group(session, INDICATORS, required=True, chunks={})
    assert maps is not None
    cube = DatacubeExtension.ext(coll)
    assert set(cube.dimensions) == {"x", "y", "epoch"}
    assert cube.dimensions["epoch"].to_dict()["values"] == [
        f"{int(e)}-01-01T00:00:00Z" for e in maps["epoch"].values
    ]
    x = cube.dimensions["x"].to_dict()
    assert x["step"] == abs(float(maps["x"][1] - maps["x"][0]))
    assert x["extent"][0] < float(maps["x"].min()) < float(maps["x"].max()) < x["extent"][1]
    variables = cube.variables
    assert variables is not None and set(variables) == set(maps.data_vars)
    for name, var in variables.items():
        assert var.dimensions == list(maps[name].dims), name
    assert set(body["assets"]) == set(maps.data_vars) | {"tables"}


def test_the_assets_open_with_their_kwargs(client, api_store):
    body = client.get("/v1/stac").json()
    asset = body["assets"]["soc_stock"]
    session = icechunk.Repository.open(icechunk.local_filesystem_storage(api_store.store)).readonly_session(
        snapshot_id=asset["icechunk:snapshot_id"]
    )
    ds = xr.open_zarr(session.store, **asset["xarray:open_kwargs"])
    item = client.get("/v1/stac/items/indicators-2016").json()
    sel = item["assets"]["soc_stock"]["soc:select"]
    got = ds["soc_stock"].isel(epoch=sel["epoch_index"])
    assert int(ds["epoch"][sel["epoch_index"]]) == sel["epoch"] == 2016
    # the cell under a point equals /v1/point's value for that epoch
    point = client.get("/v1/point", params={"lat": 0.3, "lon": 20.3}).json()
    m = point["maps"]["soc_stock"]
    value = float(got.sel(y=point["cell"]["y"], x=point["cell"]["x"], method="nearest"))
    np.testing.assert_allclose(value, m["values"][m["epochs"].index(2016)], rtol=1e-6)


def test_one_item_per_epoch_linked_to_the_collection(client):
    coll = client.get("/v1/stac").json()
    items = client.get("/v1/stac/items").json()
    epochs = coll["summaries"]["soc:epochs"]
    assert [f["properties"]["soc:epoch"] for f in items["features"]] == epochs
    item_links = [link["href"] for link in coll["links"] if link["rel"] == "item"]
    assert len(item_links) == len(epochs)
    for feature, href in zip(items["features"], item_links, strict=True):
        validate_dict(feature, extensions=[])
        item = pystac.Item.from_dict(feature)
        assert item.properties["start_datetime"].startswith(str(feature["properties"]["soc:epoch"]))
        rels = {link["rel"]: link["href"] for link in feature["links"]}
        assert rels["self"] == href and rels["collection"] == rels["parent"] == rels["root"]
        assert rels["root"].endswith("/v1/stac")
        path = href.split("://", 1)[1].split("/", 1)[1]
        assert client.get(f"/{path}").json() == feature
        assert item.bbox == coll["extent"]["spatial"]["bbox"][0]


def test_an_unknown_item_is_404_naming_the_items(client):
    r = client.get("/v1/stac/items/indicators-1900")
    assert r.status_code == 404
    assert "indicators-2015" in r.json()["detail"] and "indicators-1900" in r.json()["detail"]


def test_the_collection_and_items_validate_with_their_extensions_offline(client):
    body = client.get("/v1/stac").json()
    checked = _validate(body)
    assert set(body["stac_extensions"]) <= set(checked)  # every extension's schema was applied
    assert {"datacube", "raster", "xarray-assets"} <= {u.split("/")[3] for u in body["stac_extensions"]}
    for feature in client.get("/v1/stac/items").json()["features"]:
        checked = _validate(feature)
        assert set(feature["stac_extensions"]) <= set(checked)
        assert any("/projection/" in u for u in feature["stac_extensions"])


def test_the_offline_validation_can_fail(client):
    """The vendored schemas are really applied: a band with a wrong data type is refused."""
    body = client.get("/v1/stac").json()
    body["assets"]["soc_stock"]["raster:bands"][0]["data_type"] = "float17"
    with pytest.raises(STACValidationError):
        _validate(body)
    body = client.get("/v1/stac").json()
    body["cube:dimensions"]["x"]["axis"] = "t"
    with pytest.raises(STACValidationError):
        _validate(body)


def test_the_collection_links_self_root_parent_items(client):
    body = client.get("/v1/stac").json()
    rels: dict[str, list[str]] = {}
    for link in body["links"]:
        rels.setdefault(link["rel"], []).append(link["href"])
    assert len(rels["self"]) == len(rels["root"]) == len(rels["parent"]) == len(rels["items"]) == 1
    assert rels["self"] == rels["root"] == rels["parent"]  # the root: nothing above it
    assert all(h.startswith(("http://", "https://")) for hs in rels.values() for h in hs)  # absolute
    coll = pystac.Collection.from_dict(body)
    assert coll.get_self_href() == rels["self"][0]
    assert len(rels["item"]) == len(body["summaries"]["soc:epochs"])
    # the item collection the items link names answers those items
    path = rels["items"][0].split("://", 1)[1].split("/", 1)[1]
    features = client.get(f"/{path}").json()["features"]
    assert sorted(f["links"][0]["href"] for f in features) == sorted(rels["item"])


def test_the_zarr_assets_carry_xarray_open_kwargs(client):
    coll = pystac.Collection.from_dict(client.get("/v1/stac").json())
    for key, asset in coll.assets.items():
        assert asset.media_type == "application/vnd+zarr", key
        ext = XarrayAssetsExtension.ext(asset)
        assert isinstance(ext, AssetXarrayAssetsExtension)
        kwargs = ext.open_kwargs
        assert kwargs is not None and kwargs["group"] == asset.href.rsplit("#/", 1)[1].split("/")[0], key
