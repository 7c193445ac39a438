"""The KPI page (#18, F3): every objective of the Strategic Plan with its KPIs, the values, the
progress bars and the sparklines equal to what /v1/kpis and /v1/kpis/{id} answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Api, goto

pytestmark = pytest.mark.integration


def test_kpi_page_shows_every_objective_and_its_progress(
    page: tuple[Any, Any], dashboard_api: Api, artifacts: Path
) -> None:
    pg, watch = page
    body = dashboard_api.json("/v1/kpis")
    goto(pg, dashboard_api, "kpis")
    pg.screenshot(path=str(artifacts / "kpis-page.png"), full_page=True)
    shown = pg.eval_on_selector_all("[data-objective]", "els => els.map(e => e.dataset.objective)")
    assert shown == [o["code"] for o in body["objectives"]] and len(shown) == 24
    kpis = [k for o in body["objectives"] for k in o["kpis"]]
    rows = pg.eval_on_selector_all("[data-kpi]", "els => els.map(e => [e.dataset.kpi, e.dataset.value])")
    assert [r[0] for r in rows] == [k["id"] for k in kpis]
    for (kid, value), k in zip(rows, kpis, strict=True):
        want = "" if k["latest"] is None else k["latest"]["value"]
        assert value == "" if want == "" else float(value) == pytest.approx(want), kid
    bars = pg.eval_on_selector_all("[data-progress]", "els => els.map(e => Number(e.dataset.progress))")
    want_bars = [k[p] for k in kpis for p in ("progress_2030", "progress_2050") if k[p] is not None]
    assert bars == pytest.approx(want_bars)
    sparks = pg.eval_on_selector_all(
        "[data-kpi]", "els => els.filter(e => e.querySelector('svg.spark')).map(e => e.dataset.kpi)"
    )
    with_series = [k["id"] for k in kpis if k["n_points"] >= 2]
    assert sparks == with_series and with_series  # the computed KPIs have one value per epoch
    # the overview links to it
    goto(pg, dashboard_api, "overview")
    assert pg.get_attribute("#kpi-panel a", "href").endswith("#/kpis")
    watch.check()
