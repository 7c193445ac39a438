"""The published products as a STAC collection (``/v1/stac``), memoised per snapshot.

Asset hrefs never name a server path: they point under ``SOCOBS_PUBLIC_STORE_URL`` when it is
set, at the store itself when it is an object-store or web URL, and otherwise are relative
(``store#/indicators/soc_stock``: the store as published next to the catalog)."""

from __future__ import annotations

from typing import Any

from observatory_api.reader import Snapshot
from pipeline.indicators.export import stac_collection

REMOTE = ("s3://", "gs://", "gcs://", "az://", "abfs://", "http://", "https://")
RELATIVE_STORE = "store"


def store_href(store: str, public_store_url: str) -> str:
    """Where clients can read the store, as far as the API may say."""
    if public_store_url:
        return public_store_url.rstrip("/")
    return store.rstrip("/") if store.startswith(REMOTE) else RELATIVE_STORE


def collection(snap: Snapshot, href: str, base_url: str) -> dict[str, Any]:
    """The collection of ``snap``'s maps and tables, asset hrefs under ``href``, links under
    ``base_url``."""
    key = ("stac", href, base_url)
    body = snap.memo.get(key)
    if body is None:
        body = stac_collection(href, snap.base.ds, snap.attrs.get("input_snapshot"), snap.snapshot_id)
        body["links"] = [
            {"rel": "self", "href": f"{base_url}/v1/stac", "type": "application/json"},
            {"rel": "root", "href": f"{base_url}/v1/stac", "type": "application/json"},
        ]
        snap.memo[key] = body
    return body
