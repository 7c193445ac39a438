"""``create_app(settings)``: the observatory's HTTP API.

Run it with ``socobs serve`` (or ``uvicorn --factory observatory_api.app:app_from_env``). The app
reads the store's newest commit at start-up, then polls the branch tip every
``SOCOBS_POLL_SECONDS`` and swaps to a new commit atomically (see ``observatory_api.reader``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from observatory_api.caches import TileCache
from observatory_api.errors import install, json_error
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

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["*"],
            expose_headers=["X-Snapshot-Id", "ETag"],
        )
    app.state.tile_cache = TileCache(settings.tile_cache)
    app.include_router(regions.router())
    app.include_router(maps.router)
    app.include_router(aoi.router)
    app.include_router(meta.router)
    # Outermost: refuse oversized bodies before anything reads them. A pure ASGI middleware:
    # Starlette's BaseHTTPMiddleware (@app.middleware) cost ~25 % of the throughput of /summary.
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    return app


class BodyLimit:
    """413 for a request whose Content-Length exceeds ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                    body = {
                        "error": "PayloadTooLarge",
                        "parameter": "body",
                        "allowed": {"max_bytes": self.max_bytes},
                        "detail": f"request body of {int(value)} bytes; at most {self.max_bytes} accepted.",
                    }
                    await json_error(413, body)(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``."""
    return create_app(Settings())
