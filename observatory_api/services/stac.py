"""The published products as a STAC collection (``/v1/stac``), memoised per snapshot."""

from __future__ import annotations

from typing import Any

from observatory_api.reader import Snapshot
from pipeline.indicator_export import stac_collection


def collection(snap: Snapshot, store_href: str) -> dict[str, Any]:
    """The collection of ``snap``'s maps and tables, their asset hrefs under ``store_href``."""
    key = ("stac", store_href)
    body = snap.memo.get(key)
    if body is None:
        body = stac_collection(store_href, snap.base.ds, snap.attrs.get("input_snapshot"), snap.snapshot_id)
        snap.memo[key] = body
    return body
