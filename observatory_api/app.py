"""``create_app(settings)``: the observatory's HTTP API.

Run it with ``socobs serve`` (or ``uvicorn --factory observatory_api.app:app_from_env``). The app
reads the store's newest commit at start-up, then polls the branch tip every
``SOCOBS_POLL_SECONDS`` and swaps to a new commit atomically (see ``observatory_api.reader``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response

from observatory_api.errors import PayloadTooLarge, install
from observatory_api.reader import StoreReader
from observatory_api.routers import aoi, maps, meta, regions
from observatory_api.settings import Settings

DESCRIPTION = """
Soil organic carbon (SOC) and soil-health indicators at global, regional, national and
sub-national level, with units, uncertainty bounds and provenance (every answer names the store
snapshot it came from, in its body or the `X-Snapshot-Id` header). Serves the "4 per 1000"
initiative's objectives E1 (catalog of MRV systems), E2 (observatory), E3 (impact assessment).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API for ``settings`` (default: from ``SOCOBS_*`` environment variables)."""
    settings = settings or Settings()
    reader = StoreReader(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await reader.refresh()
        task = asyncio.create_task(reader.poll())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(title="soc-observatory API", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.reader = reader
    install(app)

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > settings.max_request_bytes:
            from observatory_api.errors import _json

            exc = PayloadTooLarge(
                f"request body of {length} bytes; at most {settings.max_request_bytes} accepted."
            )
            return _json(413, {"error": "PayloadTooLarge", "detail": exc.detail, "parameter": "body",
                               "allowed": {"max_bytes": settings.max_request_bytes}})  # fmt: skip
        return await call_next(request)

    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["*"], expose_headers=["X-Snapshot-Id", "ETag"])  # fmt: skip
    app.include_router(regions.router())
    app.include_router(maps.router(settings.tile_cache))
    app.include_router(maps.point_router())
    app.include_router(aoi.router())
    app.include_router(meta.router())
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``."""
    return create_app(Settings())
