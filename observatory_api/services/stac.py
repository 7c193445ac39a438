"""The published products in STAC (``/v1/stac``: the collection; ``/v1/stac/items``: one item per
epoch), memoised per snapshot.

Asset hrefs never name a server path: they point under ``SOCOBS_PUBLIC_STORE_URL`` when it is
set, at the store itself when it is an object-store or web URL, and otherwise are relative
(``store#/indicators/soc_stock``: the store as published next to the catalog). Links are absolute
under the API's public base URL: the collection is the root of this STAC graph (self, root and
parent name it: nothing is above it), links to its items one by one and to the item collection;
items link to it as root, parent and collection."""

from __future__ import annotations

from typing import Any

from observatory_api.errors import NotFound
from observatory_api.reader import Snapshot
from pipeline.indicators.stac import item_ids, stac_collection, stac_item

REMOTE = ("s3://", "gs://", "gcs://", "az://", "abfs://", "http://", "https://")
RELATIVE_STORE = "store"
JSON = "application/json"
GEOJSON = "application/geo+json"


def store_href(store: str, public_store_url: str) -> str:
    """Where clients can read the store, as far as the API may say."""
    if public_store_url:
        return public_store_url.rstrip("/")
    return store.rstrip("/") if store.startswith(REMOTE) else RELATIVE_STORE


def _root(base_url: str) -> str:
    return f"{base_url}/v1/stac"


def collection(snap: Snapshot, href: str, base_url: str) -> dict[str, Any]:
    """The collection of ``snap``'s maps and tables, asset hrefs under ``href``, links under
    ``base_url``."""
    key = ("stac", href, base_url)
    body = snap.memo.get(key)
    if body is None:
        body = stac_collection(href, snap.base.ds, snap.attrs.get("input_snapshot"), snap.snapshot_id)
        root = _root(base_url)
        body["links"] = [
            {"rel": "self", "href": root, "type": JSON},
            {"rel": "root", "href": root, "type": JSON},
            {"rel": "parent", "href": root, "type": JSON, "title": "the root: nothing is above it"},
            {"rel": "items", "href": f"{root}/items", "type": GEOJSON},
            *({"rel": "item", "href": f"{root}/items/{i}", "type": GEOJSON} for i in item_ids(snap.base.ds)),
        ]
        snap.memo[key] = body
    return body


def item(snap: Snapshot, href: str, base_url: str, item_id: str) -> dict[str, Any]:
    """One epoch's item, with links to itself and the collection."""
    ids = item_ids(snap.base.ds)
    if item_id not in ids:
        raise NotFound(f"item_id: expected one of {', '.join(ids)}; got {item_id!r}.")
    key = ("stac-item", href, base_url, item_id)
    body = snap.memo.get(key)
    if body is None:
        epoch = int(item_id.rsplit("-", 1)[1])
        body = stac_item(href, snap.base.ds, snap.snapshot_id, epoch)
        root = _root(base_url)
        body["links"] = [
            {"rel": "self", "href": f"{root}/items/{item_id}", "type": GEOJSON},
            {"rel": "root", "href": root, "type": JSON},
            {"rel": "parent", "href": root, "type": JSON},
            {"rel": "collection", "href": root, "type": JSON},
        ]
        snap.memo[key] = body
    return body


def items(snap: Snapshot, href: str, base_url: str) -> dict[str, Any]:
    """Every epoch's item as a GeoJSON FeatureCollection (STAC ItemCollection)."""
    root = _root(base_url)
    return {
        "type": "FeatureCollection",
        "features": [item(snap, href, base_url, i) for i in item_ids(snap.base.ds)],
        "links": [
            {"rel": "self", "href": f"{root}/items", "type": GEOJSON},
            {"rel": "root", "href": root, "type": JSON},
            {"rel": "parent", "href": root, "type": JSON},
            {"rel": "collection", "href": root, "type": JSON},
        ],
    }
