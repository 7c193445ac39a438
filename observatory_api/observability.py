"""Structured logs and Prometheus metrics.

Logs: one JSON object per line on stderr (logger ``observatory_api``), the access log included:
``request_id``, ``method``, ``route`` (the route's template, e.g. ``/v1/point``), ``path``,
``status``, ``duration_ms``, ``snapshot`` (the snapshot the answer came from) and ``client``.
The level is ``SOCOBS_LOG_LEVEL``, else the one ``socobs-api --log-level`` gave uvicorn.

Metrics (``GET /metrics``, prometheus-client's text format): request counts by route, method and
status; latency histograms by route and method; cache hits, misses and bytes by cache; the age
of the snapshot served and whether the last poll of the store succeeded.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from observatory_api.caches import LRUCache

log = logging.getLogger("observatory_api")
access = logging.getLogger("observatory_api.access")
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LEVELS = {"trace": 5, "debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        doc.update(getattr(record, "fields", {}))
        if record.exc_info:
            doc["traceback"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode()


def configure_logging(level: str | None) -> int:
    """JSON lines on stderr for the ``observatory_api`` loggers, at ``level`` (default: uvicorn's)."""
    if level is not None:
        lv = LEVELS.get(level.lower(), logging.INFO)
    else:
        uv = logging.getLogger("uvicorn.error").level
        lv = uv if uv != logging.NOTSET else logging.INFO
    if not any(getattr(h, "socobs", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler.socobs = True  # type: ignore[attr-defined]
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(lv)
    return lv


class StateCollector(Collector):
    """Cache counters and snapshot age, read when /metrics is scraped."""

    def __init__(
        self,
        caches: Callable[[], list[LRUCache[Any, Any]]],
        snapshot: Callable[[], Any],
        poll_ok: Callable[[], bool],
    ) -> None:
        self.caches = caches
        self.snapshot = snapshot
        self.poll_ok = poll_ok

    def collect(self) -> Iterator[Metric]:
        hits = CounterMetricFamily(
            "socobs_cache_hits", "Cache hits (per snapshot for chunks)", labels=["cache"]
        )
        misses = CounterMetricFamily("socobs_cache_misses", "Cache misses (loads)", labels=["cache"])
        size = GaugeMetricFamily("socobs_cache_bytes", "Bytes held", labels=["cache"])
        for c in self.caches():
            hits.add_metric([c.name], c.hits)
            misses.add_metric([c.name], c.misses)
            size.add_metric([c.name], c.bytes)
        yield from (hits, misses, size)
        snap = self.snapshot()
        age = GaugeMetricFamily(
            "socobs_snapshot_age_seconds", "Seconds since the served snapshot was committed"
        )
        if snap is not None:
            age.add_metric([], (datetime.now(UTC) - snap.written_at).total_seconds())
        yield age
        yield GaugeMetricFamily(
            "socobs_store_poll_ok",
            "1 when the last poll of the store succeeded",
            value=1.0 if self.poll_ok() else 0.0,
        )


class Metrics:
    """The app's own registry (several apps in one process do not share counters)."""

    def __init__(self, collector: Collector) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "socobs_http_requests", "HTTP requests", ["route", "method", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "socobs_http_request_duration_seconds",
            "Time from the request's start to its last byte",
            ["route", "method"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.registry.register(collector)
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[tuple[str, str], Any] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        c = self._counters.get((route, method, status))
        if c is None:
            c = self._counters[(route, method, status)] = self.requests.labels(route, method, str(status))
        h = self._histograms.get((route, method))
        if h is None:
            h = self._histograms[(route, method)] = self.latency.labels(route, method)
        c.inc()
        h.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def log_access(fields: dict[str, Any]) -> None:
    if access.isEnabledFor(logging.INFO):
        access.info(
            "%s %s %s",
            fields.get("method"),
            fields.get("path"),
            fields.get("status"),
            extra={"fields": fields},
        )


def now() -> float:
    return time.perf_counter()
