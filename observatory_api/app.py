"""``create_app(settings)``: the observatory's HTTP API.

Run it with ``socobs-api`` (or ``uvicorn --factory observatory_api.app:app_from_env``). The app
reads the store's newest commit at start-up, then polls the branch tip every
``SOCOBS_POLL_SECONDS`` and swaps to a new commit atomically (see ``observatory_api.reader``).
Every request goes through ``observatory_api.middleware.Front`` first (request id, HEAD, body
limit, errors, access log, metrics); every error is RFC 9457 problem+json
(``observatory_api.errors``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from observatory_api.caches import LRUCache, TileCache
from observatory_api.errors import install
from observatory_api.limits import ClientLimiter, Gate
from observatory_api.middleware import Front
from observatory_api.models import problem_openapi
from observatory_api.observability import Metrics, StateCollector, configure_logging
from observatory_api.reader import StoreReader
from observatory_api.responses import ResponseCache
from observatory_api.routers import aoi, assess, dashboard, health, maps, meta, regions
from observatory_api.routers import kpis as kpi_router
from observatory_api.routers import monthly as monthly_router
from observatory_api.routers import registry as registry_router
from observatory_api.routers import sdg as sdg_router
from observatory_api.routers import whatif as whatif_router
from observatory_api.services import aoi as aoi_service
from observatory_api.settings import Settings

DESCRIPTION = """
Soil organic carbon (SOC) and soil-health indicators at global, regional, national and
sub-national level, with units, uncertainty bounds and provenance (every answer names the store
snapshot it came from, in its body or the `X-Snapshot-Id` header). Serves the "4 per 1000"
initiative's objectives E1 (catalog of MRV systems), E2 (observatory), E3 (impact assessment).

Every error is `application/problem+json` (RFC 9457) naming the parameter at fault and the
request id (`X-Request-Id`). `HEAD` is answered wherever `GET` is.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API for ``settings`` (default: from ``SOCOBS_*`` environment variables)."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    reader = StoreReader(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warm = asyncio.create_task(asyncio.to_thread(aoi_service.warm_up))
        await reader.refresh()
        task = asyncio.create_task(reader.poll())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await warm

    app = FastAPI(
        title="soc-observatory API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc: routers.dashboard, from vendored assets (no CDN)
        redoc_url=None,
        # FastAPI's OpenTelemetry hooks look up their providers on every request (~70 us); the
        # API's own metrics are Prometheus (/metrics) and its logs JSON lines.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.reader = reader
    app.state.tile_cache = tile_cache = TileCache(settings.tile_cache)
    app.state.limiter = ClientLimiter(settings.client_requests_per_minute)
    app.state.aoi_gate = Gate(settings.aoi_concurrency)

    app.state.responses = responses = ResponseCache()

    def caches() -> list[LRUCache[Any, Any]]:
        snap = reader.loaded
        out: list[LRUCache[Any, Any]] = [tile_cache, responses.lru]
        return out + ([snap.chunks.lru, snap.bodies] if snap is not None else [])

    async def prepare(new: Any, old: Any) -> None:
        await responses.prepare(app, new, old)

    reader.prepare = prepare

    def served() -> str | None:
        snap = reader.loaded
        return snap.snapshot_id if snap is not None else None

    app.state.metrics = metrics = Metrics(
        StateCollector(caches, lambda: reader.loaded, lambda: reader.last_error is None)
    )
    install(app)
    for r in (regions.router, maps.router, aoi.router, assess.router, meta.router, health.router):
        app.include_router(r)
    app.include_router(dashboard.geo_router)
    app.include_router(dashboard.router)  # /, /static/..., /docs, /redoc
    app.include_router(kpi_router.router)
    app.include_router(registry_router.router)  # organisations, projects, KPI observations, audit
    app.include_router(whatif_router.router)  # what-if maps of practices (#17 item 7)
    app.include_router(sdg_router.router)  # SDG 15.3.1 by region and period, and its tiles (#20)
    app.include_router(monthly_router.router)  # the monthly signals' maps as tiles (#20)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_openapi(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PATCH", "DELETE"],
            allow_headers=["*"],
            expose_headers=["X-Snapshot-Id", "X-Request-Id", "ETag", "Retry-After"],
        )
    # Outermost, pure ASGI (Starlette's BaseHTTPMiddleware cost ~25 % of /summary's throughput).
    app.add_middleware(
        Front,
        max_body=settings.max_request_bytes,
        metrics=metrics,
        trusted_proxies=frozenset(settings.trusted_proxies),
        responses=responses,
        snapshot_id=served,
    )
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``."""
    return create_app(Settings())
