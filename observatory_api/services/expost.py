"""Ex-post assessments of the registered projects (objective E2): each project with a polygon,
against a control, as ``POST /v1/aoi/assess`` computes it (``services.aoi``: the same
normalisation, the same default epochs, first and last, and the same 10 km control ring), at every
snapshot the API serves.

One background thread per API process does the work, so no request waits for it. It runs a
pass when a new snapshot becomes current (``StoreReader.on_swap``), right after a project is
created or changed, and every ``RECHECK_S`` seconds (projects written by ``socobs registry
import`` or the demo's seeding, while the API runs). A pass computes only what is due
(``pipeline.registry.expost.due``) and stores each result once per project, version and
snapshot; a polygon the snapshot cannot assess (no cell with data, too large) is stored as a
``failed`` assessment with the reason. Nothing here can stop the API: any error is logged.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from observatory_api import geometry
from observatory_api.errors import APIError
from observatory_api.reader import Snapshot, StoreReader
from observatory_api.services import aoi
from observatory_api.settings import Settings
from pipeline.registry import expost
from pipeline.registry.assessment import Assessment

log = logging.getLogger("observatory_api")
RING_KM = 10.0  # POST /v1/aoi/assess's default ring_km (observatory_api.models.AoiRequest)
RECHECK_S = 30.0
METHOD = (
    "ex-post, as POST /v1/aoi/assess (observatory_api.services.aoi): the project's polygon against "
    f"a control ring of {RING_KM:g} km of the same land cover, mean SOC stocks (0-30 cm) from the "
    "observatory's maps at the first and last epochs of the snapshot, change, rates and 4 per 1000 "
    "progress by kernels.change"
)


def assess_polygon(snap: Snapshot, settings: Settings, geom: dict[str, Any]) -> Assessment:
    """The ex-post assessment of one polygon at ``snap`` (failed: the reason, never raised)."""
    try:
        shape = geometry.parse_aoi(geom, settings.max_aoi_vertices, settings.max_aoi_km2)
        e0, e1 = aoi.epochs_of(snap, None, None)
        result = aoi.assess(snap, shape, e0, e1, RING_KM)
    except APIError as exc:
        return Assessment("ex_post", snap.snapshot_id, METHOD, "failed", {"error": exc.detail[:1000]})
    except Exception as exc:
        log.warning("ex-post assessment failed: %s: %s", type(exc).__name__, exc)
        reason = f"the assessment failed ({type(exc).__name__}; details in the server log)"
        return Assessment("ex_post", snap.snapshot_id, METHOD, "failed", {"error": reason})
    return Assessment("ex_post", snap.snapshot_id, METHOD, "done", {**result, "ring_km": RING_KM})


class ExPost:
    """The background worker of one API process (see the module docstring)."""

    def __init__(self, url: str, reader: StoreReader, settings: Settings, on_stored: Any = None) -> None:
        self.url = url
        self.on_stored = on_stored  # called after a pass stored something (the KPIs recount)
        self.reader = reader
        self.settings = settings
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ex-post", daemon=True)
        self.passes = 0

    def start(self) -> None:
        self.reader.on_swap.append(self.on_swap)
        self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self.on_swap in self.reader.on_swap:
            self.reader.on_swap.remove(self.on_swap)

    def on_swap(self, _snap: Snapshot) -> None:
        self._wake.set()

    def poke(self) -> None:
        """A project was created or changed: assess what is due now."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(RECHECK_S)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.run_pass()
            except Exception as exc:  # a database away for a while: the next pass retries
                log.warning("ex-post pass failed: %s: %s", type(exc).__name__, exc)

    def run_pass(self) -> int:
        """Assess what is due at the snapshot served now; returns how many were stored."""
        snap = self.reader.loaded
        if snap is None:
            return 0
        stored = 0
        for item in expost.due(self.url, snap.snapshot_id):
            if self._stop.is_set() or self.reader.loaded is not snap:
                self._wake.set()  # a newer snapshot: start over at it
                break
            stored += expost.store(self.url, item, assess_polygon(snap, self.settings, item.geometry))
        self.passes += 1
        if stored and self.on_stored is not None:
            self.on_stored()
        if stored:
            log.info("ex-post: %d project(s) assessed at snapshot %s", stored, snap.snapshot_id)
        return stored
