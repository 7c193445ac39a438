"""The web dashboard (``/``), its static files (``/static/...``), the offline basemap
(``/v1/basemap/{level}.geojson``) and the API docs (``/docs``, ``/redoc``) from vendored assets.

Everything the browser loads comes from the installed package (``observatory_api/static``):
no CDN, so the dashboard and the docs work with the network cut off from all but the API.
Static files are read once, kept in memory with their gzip and an ETag, and answered 304 to a
matching ``If-None-Match``.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from observatory_api.deps import SnapshotDep
from observatory_api.errors import NotFound
from observatory_api.services import basemap as basemap_service

STATIC = Path(__file__).resolve().parent.parent / "static"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}
COMPRESSIBLE = (".html", ".js", ".mjs", ".css", ".json", ".svg", ".txt")
VENDOR_CACHE = "public, max-age=86400"  # pinned, versioned by web/package-lock.json
APP_CACHE = "no-cache"  # revalidated (ETag) on every load: an upgrade shows at once
FAVICON = "/static/favicon.svg"

router = APIRouter(include_in_schema=False)
geo_router = APIRouter(prefix="/v1", tags=["dashboard"])


@dataclass(frozen=True)
class _File:
    body: bytes
    gzipped: bytes | None
    etag: str
    media_type: str


_FILES: dict[str, _File] = {}
_LOCK = threading.Lock()


def _load(rel: str) -> _File:
    hit = _FILES.get(rel)
    if hit is not None:
        return hit
    path = (STATIC / rel).resolve()
    if not path.is_relative_to(STATIC) or not path.is_file() or path.suffix not in TYPES:
        raise NotFound(
            f"No dashboard file {rel[:200]!r}: the dashboard's files are under /static/ "
            "(open / for the dashboard, /docs for the API)."
        )
    body = path.read_bytes()
    packed = gzip.compress(body, 6, mtime=0) if path.suffix in COMPRESSIBLE and len(body) > 1024 else None
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    hit = _File(body, packed, etag, TYPES[path.suffix])
    with _LOCK:
        _FILES[rel] = hit
    return hit


def _answer(f: _File, accept_encoding: str | None, if_none_match: str | None, cache: str) -> Response:
    headers = {"ETag": f.etag, "Cache-Control": cache, "Vary": "Accept-Encoding"}
    if if_none_match is not None and f.etag in if_none_match:
        return Response(status_code=304, headers=headers)
    if f.gzipped is not None and accept_encoding is not None and "gzip" in accept_encoding:
        return Response(f.gzipped, media_type=f.media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(f.body, media_type=f.media_type, headers=headers)


AcceptEncoding = Annotated[str | None, Header()]
IfNoneMatch = Annotated[str | None, Header()]


@router.get("/")
def index(accept_encoding: AcceptEncoding = None, if_none_match: IfNoneMatch = None) -> Response:
    """The dashboard's single page (its views are chosen by the URL's fragment)."""
    return _answer(_load("index.html"), accept_encoding, if_none_match, APP_CACHE)


@router.get("/static/{path:path}")
def static(path: str, accept_encoding: AcceptEncoding = None, if_none_match: IfNoneMatch = None) -> Response:
    """A file of the dashboard or of a vendored library."""
    cache = VENDOR_CACHE if path.startswith("vendor/") else APP_CACHE
    return _answer(_load(path), accept_encoding, if_none_match, cache)


@router.get("/docs")
def swagger(request: Request) -> HTMLResponse:
    """Swagger UI from the vendored swagger-ui-dist (no CDN)."""
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url="/static/vendor/swagger-ui-dist/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui-dist/swagger-ui.css",
        swagger_favicon_url=FAVICON,
    )


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc from the vendored bundle (no CDN, no web fonts)."""
    return get_redoc_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - ReDoc",
        redoc_js_url="/static/vendor/redoc/redoc.standalone.js",
        redoc_favicon_url=FAVICON,
        with_google_fonts=False,
    )


@geo_router.get(
    "/basemap/{level}.geojson",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}, 304: {"description": "Not modified"}},
)
def basemap(
    snap: SnapshotDep,
    level: Literal["region", "country", "subnational"],
    accept_encoding: AcceptEncoding = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """The regions of one level simplified for display (~17 km), as GeoJSON: the dashboard's
    offline basemap (land, coastlines, borders) and its choropleth's shapes."""
    b = basemap_service.basemap(snap, level)
    f = _File(b.body, b.gzipped, b.etag, "application/geo+json")
    response = _answer(f, accept_encoding, if_none_match, "public, max-age=300")
    response.headers["X-Snapshot-Id"] = snap.snapshot_id
    return response
