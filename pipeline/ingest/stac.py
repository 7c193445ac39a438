"""STAC search with retries, and items parsed once into typed records at the boundary."""

from __future__ import annotations

import datetime as dt_
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import pystac
import pystac_client
from pystac_client.exceptions import APIError

from pipeline.errors import CatalogError, ServerError
from pipeline.ingest.sign import sign_items


@dataclass(frozen=True)
class AssetInfo:
    """What the pipeline needs of one asset."""

    key: str
    href: str
    nodata: float | None
    scale: float
    offset: float
    unit: str | None
    data_type: str | None


@dataclass(frozen=True)
class ParsedItem:
    """One STAC item, parsed once: nothing downstream reads raw item dicts."""

    id: str
    collection: str
    datetime: dt_.datetime
    start: dt_.datetime
    end: dt_.datetime
    assets: dict[str, AssetInfo]
    item: pystac.Item  # kept only to hand to odc-stac's loader

    @property
    def year(self) -> int:
        return self.datetime.year


def _dt(value: Any) -> dt_.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt_.datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return dt_.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _has_projection(item: pystac.Item, needed_assets: list[str]) -> bool:
    """Projection information for every needed asset, from the item, the asset, or both (ESA
    WorldCover has proj:epsg on the item, shape and transform on the asset). Other assets (a
    Planetary Computer item's ``tilejson``, ``rendered_preview``) need none."""

    def ok(d: dict[str, Any]) -> bool:
        crs = any(d.get(k) is not None for k in ("proj:code", "proj:epsg", "proj:wkt2", "proj:projjson"))
        return crs and "proj:transform" in d and "proj:shape" in d

    return all(ok({**item.properties, **item.assets[k].extra_fields}) for k in needed_assets)


def parse_item(item: pystac.Item, needed_assets: list[str]) -> ParsedItem:
    """Parse an item, checking the assets and projection information the pipeline needs."""
    missing = [a for a in needed_assets if a not in item.assets]
    if missing:
        raise CatalogError(
            f"item {item.id!r} of {item.collection_id!r} has no assets {missing}; it has "
            f"{sorted(item.assets)}. Fix the source definition's asset keys."
        )
    if not _has_projection(item, needed_assets):
        raise CatalogError(
            f"item {item.id!r} of {item.collection_id!r} has no projection information "
            "(proj:code or proj:epsg, proj:shape, proj:transform on the item or its assets). "
            "Expected the STAC projection extension: add it to the catalog (e.g. `rio stac`)."
        )
    props = item.properties
    dt = _dt(item.datetime) or _dt(props.get("start_datetime"))
    if dt is None:
        raise CatalogError(f"item {item.id!r} has neither datetime nor start_datetime.")
    start = _dt(props.get("start_datetime")) or dt
    end = _dt(props.get("end_datetime")) or dt
    assets = {}
    for key in needed_assets:
        a = item.assets[key]
        bands = a.extra_fields.get("raster:bands") or [{}]
        b = bands[0]
        assets[key] = AssetInfo(
            key=key,
            href=a.href,
            nodata=b.get("nodata"),
            scale=float(b.get("scale", 1.0)),
            offset=float(b.get("offset", 0.0)),
            unit=b.get("unit"),
            data_type=b.get("data_type"),
        )
    return ParsedItem(item.id, item.collection_id or "", dt, start, end, assets, item)


def search(
    url: str,
    collection: str,
    bbox: tuple[float, float, float, float],
    start: dt_.datetime,
    end: dt_.datetime,
    *,
    query: dict[str, Any] | None = None,
    sign: str | None = None,
    retries: int = 4,
    backoff: float = 0.5,
    on_page: Callable[[int], None] | None = None,
) -> list[pystac.Item]:
    """POST search, paginated, retried with exponential backoff on connection errors and 5xx.

    Raises ServerError naming the URL and the last error after ``retries`` attempts. With
    ``sign`` (a source's ``sign``), the items found come back with signed asset hrefs
    (``pipeline.ingest.sign``), once, after the search: a token failure is not retried as one.
    """
    items = _search(url, collection, bbox, start, end, query, retries, backoff, on_page)
    return sign_items(items, sign) if sign else items


def _search(
    url: str,
    collection: str,
    bbox: tuple[float, float, float, float],
    start: dt_.datetime,
    end: dt_.datetime,
    query: dict[str, Any] | None,
    retries: int,
    backoff: float,
    on_page: Callable[[int], None] | None,
) -> list[pystac.Item]:
    last: Exception | None = None
    for attempt in range(retries):
        try:
            client = pystac_client.Client.open(url)
            found = client.search(
                collections=[collection],
                bbox=list(bbox),
                datetime=[start.isoformat(), end.isoformat()],
                query=query,
                limit=100,
                method="POST",
            )
            items = []
            for page in found.pages():
                items.extend(page.items)
                if on_page:
                    on_page(len(items))
            return items
        except APIError as exc:
            status = getattr(exc, "status_code", None)
            if status is not None and status < 500:
                raise CatalogError(f"STAC API {url} refused the search ({status}): {exc}") from exc
            last = exc
        except (OSError, ConnectionError) as exc:  # requests' errors derive from OSError
            last = exc
        except Exception as exc:  # pystac-client wraps some transport errors
            if "Connection" not in type(exc).__name__ and "Connection" not in str(exc):
                raise
            last = exc
        if attempt < retries - 1:
            time.sleep(backoff * 2**attempt)
    raise ServerError(
        f"STAC API {url} did not answer after {retries} attempts (last error: "
        f"{type(last).__name__}: {str(last)[:300]}). Check that the server runs (for the demo: "
        "`socobs stac serve var/demo-catalog`) and the URL in the job or source definition."
    )
