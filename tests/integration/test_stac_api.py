"""The demo catalog behind a real STAC API (rustac serve on 127.0.0.1)."""

from __future__ import annotations

import socket

import numpy as np
import odc.stac
import pystac_client
import pytest
import rasterio

from pipeline.errors import CatalogError, ServerError
from pipeline.ingest.stac_server import free_port, serve_catalog, start_server

pytestmark = pytest.mark.integration


def test_search_by_collection_bbox_datetime(stac_api):
    client = pystac_client.Client.open(stac_api.url)
    found = client.search(
        collections=["demo-soilgrids"], bbox=[33, -5, 42, 5], datetime="2016-01-01/2016-12-31"
    )
    assert [i.id for i in found.items()] == ["demo-soilgrids-2016"]
    months = client.search(
        collections=["demo-climate"], bbox=[33, -5, 42, 5], datetime="2015-03-01/2015-05-31"
    )
    assert sorted(i.id for i in months.items()) == [
        "demo-climate-2015-03",
        "demo-climate-2015-04",
        "demo-climate-2015-05",
    ]


def test_search_paginates(stac_api):
    client = pystac_client.Client.open(stac_api.url)
    found = client.search(collections=["demo-ndvi"], limit=5)  # POST, 5 per page
    ids = [i.id for i in found.items()]
    assert len(ids) == len(set(ids)) == 24


def test_empty_search_returns_nothing(stac_api):
    client = pystac_client.Client.open(stac_api.url)
    found = client.search(collections=["demo-soilgrids"], datetime="1990-01-01/1990-12-31")
    assert list(found.items()) == []


def test_odc_stac_load_gives_the_stored_values(stac_api):
    client = pystac_client.Client.open(stac_api.url)
    items = list(client.search(collections=["demo-soilgrids"], datetime="2015").items())
    ds = odc.stac.load(items, bands=["soc_0-5cm_mean", "bdod_0-5cm_mean"], bbox=[-20, -36, 52, 38], chunks={})
    assert ds["soc_0-5cm_mean"].dtype == np.int16
    loaded = ds["soc_0-5cm_mean"].isel(time=0).compute()
    href = items[0].assets["soc_0-5cm_mean"].href.removeprefix("file://")
    with rasterio.open(href) as src:
        full = src.read(1)
        rows, cols = rasterio.transform.rowcol(
            src.transform,
            *np.meshgrid(loaded["longitude"].values, loaded["latitude"].values),
        )
    expected = full[np.asarray(rows), np.asarray(cols)].reshape(loaded.shape)
    np.testing.assert_array_equal(loaded.values, expected)
    assert (loaded.values != -32768).sum() > 50  # Africa has soil data


def test_occupied_port_is_refused(demo_catalog):
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
        s.listen()
        with pytest.raises(ServerError, match=rf"port {port} on 127\.0\.0\.1 is already in use"):
            start_server(demo_catalog, port=port)


def test_not_a_catalog_is_refused(tmp_path):
    with pytest.raises(CatalogError, match=r"no catalog\.json"):
        start_server(tmp_path)


def test_server_stops_cleanly_and_frees_its_port(demo_catalog):
    with serve_catalog(demo_catalog) as server:
        port = int(server.url.rsplit(":", 1)[1])
        assert server.process.poll() is None
    assert server.process.poll() is not None
    assert server.scratch is not None and not server.scratch.exists()
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))  # free again
